//! CircleCI OIDC tokens.
//!
//! Facts, from CircleCI's "Using OpenID Connect tokens in jobs"
//! (<https://circleci.com/docs/openid-connect-tokens/>):
//! - issuer `https://oidc.circleci.com/org/ORGANIZATION_ID`: one per organization, so a trust
//!   without `sub` admits every project of that organization, not every CircleCI customer;
//! - `sub` (`$CIRCLE_OIDC_TOKEN`): `org/ORGANIZATION_ID/project/PROJECT_ID/user/USER_ID`
//!   (UUIDs); `$CIRCLE_OIDC_TOKEN_V2` appends the source of the change
//!   (`…/vcs-origin/ORIGIN/vcs-ref/REF`);
//! - `aud`: the organization id (fixed for the default tokens), which the provider's client
//!   id already pins: an `aud` condition only repeats it;
//! - claims `oidc.circleci.com/project-id`, `oidc.circleci.com/context-ids`,
//!   `oidc.circleci.com/vcs-origin`, `oidc.circleci.com/vcs-ref`.

use super::{Audience, Issuer, Kind, Role, SubjectGrammar, field, lit};
use crate::analysis::eval::Hole;

pub const DOCS: &str = "https://circleci.com/docs/openid-connect-tokens/";
/// Host prefix: an organization id follows.
pub const HOST_PREFIX: &str = "oidc.circleci.com/org/";

pub fn issuer() -> Issuer {
    let base = || {
        vec![
            lit("org/"),
            field("org_id", Role::Tenant, Hole::NoColon),
            lit("/project/"),
            field("project_id", Role::Scope, Hole::NoColon),
            lit("/user/"),
        ]
    };
    let mut v1 = base();
    v1.push(field("user_id", Role::Detail, Hole::NoColon));
    let mut v2 = base();
    v2.push(field("user_id", Role::Detail, Hole::NoColon));
    v2.push(lit("/vcs-origin/"));
    v2.push(field("vcs_origin", Role::Detail, Hole::Any));
    Issuer {
        kind: Kind::Circleci,
        id: "circleci".into(),
        name: "CircleCI".into(),
        hosts: vec![HOST_PREFIX.into()],
        shared: false,
        claims: vec![
            "sub",
            "aud",
            "oidc.circleci.com/project-id",
            "oidc.circleci.com/context-ids",
            "oidc.circleci.com/vcs-origin",
            "oidc.circleci.com/vcs-ref",
        ],
        subject: SubjectGrammar {
            display: "org/ORG_ID/project/PROJECT_ID/user/USER_ID".into(),
            alternatives: vec![v1, v2],
            complete: true,
        },
        audience: Audience::OrganizationId,
        docs: DOCS.into(),
    }
}

/// The organization id an issuer host ends with.
pub fn org_id(host: &str) -> Option<&str> {
    let rest = host.get(HOST_PREFIX.len()..)?;
    host[..HOST_PREFIX.len()]
        .eq_ignore_ascii_case(HOST_PREFIX)
        .then(|| rest.trim_end_matches('/'))
        .filter(|r| !r.is_empty() && !r.contains('/'))
}
