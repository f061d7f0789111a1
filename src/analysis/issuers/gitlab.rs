//! GitLab CI/CD ID tokens (gitlab.com; a self-managed instance is added with `[[issuers]]`).
//!
//! Facts, from GitLab's "OpenID Connect (OIDC) Authentication Using ID Tokens"
//! (<https://docs.gitlab.com/ci/secrets/id_token_authentication/>):
//! - issuer: the instance's URL (`https://gitlab.com`, shared by every gitlab.com project);
//! - `sub`: `project_path:{group}/{project}:ref_type:{type}:ref:{branch_name}` by default;
//!   a project can change the components through the projects API, so other shapes exist;
//! - `aud`: what the job sets under `id_tokens: NAME: aud:` (no default);
//! - claims include `namespace_path`, `project_path`, `project_id`, `ref`, `ref_type`,
//!   `ref_protected`, `environment`, `environment_protected`, `pipeline_source`, `user_login`.

use super::{Audience, Field, Issuer, Kind, Role, Seg, SubjectGrammar, field, lit};
use crate::analysis::eval::Hole;

pub const DOCS: &str = "https://docs.gitlab.com/ci/secrets/id_token_authentication/";
pub const HOST: &str = "gitlab.com";

pub fn issuer() -> Issuer {
    let segs = vec![
        lit("project_path:"),
        // a group path may hold subgroups (`group/sub`); its first part is the tenant
        field("group", Role::Tenant, Hole::NoColon),
        lit("/"),
        field("project", Role::Scope, Hole::NoColon),
        lit(":ref_type:"),
        Seg::Field(Field {
            name: "ref_type".into(),
            role: Role::Detail,
            hole: Hole::NoColon,
            values: Some(vec!["branch".into(), "tag".into()]),
            not_an_id: None,
        }),
        lit(":ref:"),
        field("ref", Role::Detail, Hole::NoColon),
    ];
    Issuer {
        kind: Kind::Gitlab,
        id: "gitlab".into(),
        name: "GitLab".into(),
        hosts: vec![HOST.into()],
        shared: true,
        claims: vec![
            "sub",
            "aud",
            "namespace_id",
            "namespace_path",
            "project_id",
            "project_path",
            "user_id",
            "user_login",
            "pipeline_id",
            "pipeline_source",
            "job_id",
            "ref",
            "ref_type",
            "ref_path",
            "ref_protected",
            "environment",
            "environment_protected",
            "deployment_tier",
            "runner_environment",
            "sha",
            "ci_config_ref_uri",
        ],
        subject: SubjectGrammar {
            display: "project_path:GROUP/PROJECT:ref_type:branch|tag:ref:NAME".into(),
            alternatives: vec![segs],
            // the components are configurable per project
            complete: false,
        },
        audience: Audience::Configured,
        docs: DOCS.into(),
    }
}
