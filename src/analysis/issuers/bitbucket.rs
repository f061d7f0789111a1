//! Bitbucket Pipelines OIDC.
//!
//! Facts, from Atlassian's "Integrate Pipelines with resource servers using OIDC" and
//! "Deploy on AWS using Bitbucket Pipelines OpenID Connect"
//! (<https://support.atlassian.com/bitbucket-cloud/docs/integrate-pipelines-with-resource-servers-using-oidc/>,
//! <https://support.atlassian.com/bitbucket-cloud/docs/deploy-on-aws-using-bitbucket-pipelines-openid-connect/>):
//! - issuer `https://api.bitbucket.org/2.0/workspaces/WORKSPACE/pipelines-config/identity/oidc`:
//!   one per workspace, so a trust without `sub` admits every repository of the workspace;
//! - `aud`: `ari:cloud:bitbucket::workspace/WORKSPACE_UUID`, shown with the provider URL in the
//!   repository's OpenID Connect settings (steps may ask for other audiences);
//! - `sub`: `{REPOSITORY_UUID}:{STEP_UUID}`, or `{REPOSITORY_UUID}:{ENVIRONMENT_UUID}:{STEP_UUID}`
//!   for a deployment step; the claims `repositoryUuid`, `deploymentEnvironmentUuid`,
//!   `stepUuid`, `pipelineUuid`, `workspaceUuid`, `branchName`. The exact `sub` layout is not
//!   spelled out on the pages above, so the registry does not judge never-matching shapes.

use super::{Audience, Issuer, Kind, Role, SubjectGrammar, field, lit};
use crate::analysis::eval::Hole;

pub const DOCS: &str = "https://support.atlassian.com/bitbucket-cloud/docs/deploy-on-aws-using-bitbucket-pipelines-openid-connect/";

/// `api.bitbucket.org/2.0/workspaces/<workspace>/pipelines-config/identity/oidc`.
pub fn is_issuer(host: &str) -> bool {
    host.strip_prefix("api.bitbucket.org/2.0/workspaces/")
        .and_then(|r| r.strip_suffix("/pipelines-config/identity/oidc"))
        .is_some_and(|ws| !ws.is_empty() && !ws.contains('/'))
}

pub fn issuer() -> Issuer {
    let repo = || field("repository_uuid", Role::Scope, Hole::NoColon);
    let step = || field("step_uuid", Role::Detail, Hole::NoColon);
    Issuer {
        kind: Kind::Bitbucket,
        id: "bitbucket".into(),
        name: "Bitbucket Pipelines".into(),
        hosts: vec![],
        shared: false,
        claims: vec![
            "sub",
            "aud",
            "repositoryUuid",
            "deploymentEnvironmentUuid",
            "stepUuid",
            "pipelineUuid",
            "workspaceUuid",
            "branchName",
        ],
        subject: SubjectGrammar {
            display: "{REPOSITORY_UUID}[:{ENVIRONMENT_UUID}]:{STEP_UUID}".into(),
            alternatives: vec![
                vec![lit("{"), repo(), lit("}:{"), step(), lit("}")],
                vec![
                    lit("{"),
                    repo(),
                    lit("}:{"),
                    field("environment_uuid", Role::Detail, Hole::NoColon),
                    lit("}:{"),
                    step(),
                    lit("}"),
                ],
            ],
            complete: false,
        },
        audience: Audience::Workspace,
        docs: DOCS.into(),
    }
}
