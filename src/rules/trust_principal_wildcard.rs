use super::{Ctx, Rule, RuleMeta};
use crate::diag::Finding;
use crate::model::{Condition, PolicyKind, Statement};

pub struct TrustPrincipalWildcard;
pub static RULE: TrustPrincipalWildcard = TrustPrincipalWildcard;
static META: RuleMeta = crate::rule_meta!(
    "trust-principal-wildcard",
    Error,
    "A trust statement allows `Principal: \"*\"` (or `{\"AWS\": \"*\"}`) to assume the role with no condition naming who",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

/// Global keys that identify the caller or its organization.
const IDENTITY_KEYS: &[&str] = &[
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:userid",
    "aws:username",
    "sts:externalid",
];

/// Resource keys and the principal's policy variable that makes them name the caller.
const SAME_AS_PRINCIPAL: &[(&str, &str)] = &[
    ("aws:resourceorgid", "${aws:PrincipalOrgID}"),
    ("aws:resourceaccount", "${aws:PrincipalAccount}"),
];

/// A condition that limits who can assume: a positive match on an identity key or on an
/// identity provider's claim (`<provider>:sub`, `saml:aud`, …) with a value other than `*`.
fn restricts(c: &Condition) -> bool {
    let op = c.op();
    let positive = !op.if_exists
        && !op.for_all_values
        && [
            "StringEquals",
            "StringLike",
            "StringEqualsIgnoreCase",
            "ArnEquals",
            "ArnLike",
        ]
        .iter()
        .any(|b| op.base.eq_ignore_ascii_case(b));
    if !positive || c.values.is_empty() {
        return false;
    }
    let key = c.key.value.to_ascii_lowercase();
    // The role's own organization or account compared with the caller's
    // (`aws:ResourceOrgID: ${aws:PrincipalOrgID}`): only principals of the same one.
    if let Some(var) = SAME_AS_PRINCIPAL
        .iter()
        .find_map(|(k, v)| (*k == key).then_some(*v))
    {
        return c.values.iter().all(|v| {
            v.value
                .known()
                .is_some_and(|k| k.trim().eq_ignore_ascii_case(var))
        });
    }
    // An identity provider's claims name the caller, except its audience and issuer.
    let provider_claim = !(key.starts_with("aws:")
        || key.starts_with("sts:")
        || key.ends_with(":aud")
        || key.ends_with(":iss"));
    let identity = IDENTITY_KEYS.contains(&key.as_str()) || provider_claim;
    identity
        && c.values
            .iter()
            .all(|v| v.value.known().is_none_or(|k| !k.is_empty() && k != "*"))
}

fn assumes(s: &Statement) -> bool {
    [
        "sts:AssumeRole",
        "sts:AssumeRoleWithWebIdentity",
        "sts:AssumeRoleWithSAML",
    ]
    .iter()
    .any(|a| s.allows_action(a))
}

impl Rule for TrustPrincipalWildcard {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for m in &ctx.models {
            for p in &m.policies {
                if p.kind != PolicyKind::Trust {
                    continue;
                }
                for s in &p.statements {
                    // Resource policies (buckets, keys, queues) carry `Resource`; trust
                    // policies never do.
                    if !s.is_allow()
                        || s.not_principal
                        || !s.resources.is_empty()
                        || s.not_resource
                        || !assumes(s)
                        || s.conditions.iter().any(restricts)
                    {
                        continue;
                    }
                    for pr in &s.principals {
                        if pr.value.value.known().as_deref() != Some("*") {
                            continue;
                        }
                        let shown = super::snippet::principal(ctx, p.file, s, &pr.kind, "*");
                        out.push(
                            Finding::new(META.id, META.severity, p.file, pr.value.span)
                                .message(format!(
                                    "`{shown}` in {} lets any principal in any AWS account assume the role, and no condition narrows it",
                                    p.owner
                                ))
                                .label("anyone")
                                .help(format!(
                                    "name the trusted principal (`{}` for GitHub, an account or role ARN otherwise), or add a condition such as `aws:PrincipalOrgID`",
                                    super::snippet::principal(
                                        ctx,
                                        p.file,
                                        s,
                                        "Federated",
                                        "arn:aws:iam::ACCOUNT:oidc-provider/token.actions.githubusercontent.com"
                                    )
                                )),
                        );
                    }
                }
            }
        }
    }
}
