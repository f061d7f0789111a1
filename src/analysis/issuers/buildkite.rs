//! Buildkite agent OIDC tokens.
//!
//! Facts, from Buildkite's "OIDC with AWS" and "buildkite-agent oidc"
//! (<https://buildkite.com/docs/pipelines/security/oidc/aws>,
//! <https://buildkite.com/docs/agent/v3/cli-oidc>):
//! - issuer `https://agent.buildkite.com`, shared by every Buildkite organization (Buildkite
//!   itself requires an organization claim on its own federation for that reason);
//! - `sub`: `organization:ORGANIZATION_SLUG:pipeline:PIPELINE_SLUG:ref:REF:commit:BUILD_COMMIT:step:STEP_KEY`;
//! - `aud`: what `buildkite-agent oidc request-token --audience` asks for; the AWS guide and
//!   plugin use `sts.amazonaws.com`;
//! - claims `organization_slug`, `pipeline_slug`, `build_number`, `build_branch`, `build_tag`,
//!   `build_commit`, `step_key`, `job_id`, `agent_id`, optionally `organization_id`,
//!   `pipeline_id`.

use super::{Audience, Issuer, Kind, Role, SubjectGrammar, field, lit};
use crate::analysis::eval::Hole;

pub const DOCS: &str = "https://buildkite.com/docs/pipelines/security/oidc/aws";
pub const HOST: &str = "agent.buildkite.com";

pub fn issuer() -> Issuer {
    let segs = vec![
        lit("organization:"),
        field("organization", Role::Tenant, Hole::NoColon),
        lit(":pipeline:"),
        field("pipeline", Role::Scope, Hole::NoColon),
        lit(":ref:"),
        field("ref", Role::Detail, Hole::NoColon),
        lit(":commit:"),
        field("commit", Role::Detail, Hole::NoColon),
        lit(":step:"),
        field("step", Role::Detail, Hole::Any),
    ];
    Issuer {
        kind: Kind::Buildkite,
        id: "buildkite".into(),
        name: "Buildkite".into(),
        hosts: vec![HOST.into()],
        shared: true,
        claims: vec![
            "sub",
            "aud",
            "organization_slug",
            "pipeline_slug",
            "build_number",
            "build_branch",
            "build_tag",
            "build_commit",
            "step_key",
            "job_id",
            "agent_id",
            "organization_id",
            "pipeline_id",
        ],
        subject: SubjectGrammar {
            display: "organization:ORG:pipeline:PIPELINE:ref:REF:commit:SHA:step:KEY".into(),
            alternatives: vec![segs],
            complete: true,
        },
        audience: Audience::Default("sts.amazonaws.com"),
        docs: DOCS.into(),
    }
}
