//! GitHub Actions (github.com, GHE.com data residency, GitHub Enterprise Server).
//!
//! Facts, from GitHub's OIDC reference
//! (<https://docs.github.com/en/actions/reference/security/oidc>):
//! - issuer `https://token.actions.githubusercontent.com` (an enterprise may use
//!   `…/<enterprise>`; GHE.com `token.actions.<subdomain>.ghe.com`; GHES
//!   `https://HOSTNAME/_services/token`): shared by every GitHub customer;
//! - `sub`: `repo:OWNER/REPO:ref:refs/heads/BRANCH`, `…:ref:refs/tags/TAG`,
//!   `…:environment:NAME`, `…:pull_request` (owners may customize the template);
//! - `aud`: the owner's URL by default; `aws-actions/configure-aws-credentials` requests
//!   `sts.amazonaws.com`.
//!
//! The GitHub rules keep their own, richer analysis (`analysis::trust`); this entry gives the
//! registry GitHub's place and facts.

use super::{Audience, Issuer, Kind, Role, SubjectGrammar, field, lit};
use crate::analysis::eval::Hole;

pub const DOCS: &str = "https://docs.github.com/en/actions/reference/security/oidc";

/// GitHub's beta OIDC issuer, replaced by `token.actions.githubusercontent.com` in October 2021
/// (tools that verified tokens changed their issuer URL then: glassechidna/ghaoidc#2,
/// terraform-google-modules/terraform-google-github-actions-runners#36). It is still GitHub's
/// (a trust naming it was written for GitHub Actions), but no token carries it: a request never
/// comes from it and never holds its `<issuer>:<claim>` keys.
pub const RETIRED_ISSUER: &str = "vstoken.actions.githubusercontent.com";

/// Is this issuer (a provider URL, with or without `https://`, or a condition-key prefix) the
/// retired beta issuer?
pub fn is_retired_issuer(issuer: &str) -> bool {
    let i = issuer.trim();
    let i = i.strip_prefix("https://").unwrap_or(i);
    i.split('/')
        .next()
        .is_some_and(|host| host.eq_ignore_ascii_case(RETIRED_ISSUER))
}

pub fn issuer() -> Issuer {
    let segs = vec![
        lit("repo:"),
        field("owner", Role::Tenant, Hole::NoColon),
        lit("/"),
        field("repo", Role::Scope, Hole::NoColon),
        lit(":"),
        field("context", Role::Detail, Hole::Any),
    ];
    Issuer {
        kind: Kind::Github,
        id: "github".into(),
        name: "GitHub Actions".into(),
        hosts: vec![crate::analysis::trust::DEFAULT_ISSUER.into()],
        shared: true,
        claims: vec![
            "sub",
            "aud",
            "repository",
            "repository_owner",
            "repository_id",
            "repository_owner_id",
            "ref",
            "ref_type",
            "environment",
            "workflow",
            "job_workflow_ref",
            "event_name",
            "actor",
            "runner_environment",
        ],
        subject: SubjectGrammar {
            alternatives: vec![segs],
            display:
                "repo:OWNER/REPO:ref:refs/heads/BRANCH (or …:environment:NAME, …:pull_request)"
                    .into(),
            // judged by `analysis::trust::SubjectGrammar`, which knows customized templates
            complete: false,
        },
        audience: Audience::Default("sts.amazonaws.com"),
        docs: DOCS.into(),
    }
}
