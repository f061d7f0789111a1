//! Whether a fix that makes a closed trust statement usable (a broken action, say) can open it
//! wider than the statement says in so many words. Such a fix turns "nobody" into "whoever the
//! conditions admit", so it is offered only when the conditions name exact subjects: every
//! `sub` value a literal `repo:OWNER/REPO:CONTEXT` of an allowed owner, no pull requests, no
//! wildcard in effect, no claim condition that passes when the claim is absent, and no other
//! statement of the policy whose pull-request subjects the fix would newly make a shared role's.

use super::Ctx;
use crate::analysis::trust::{CiTrust, split_default_sub};
use crate::model::PolicyDoc;
use std::collections::HashSet;

/// A negated operator (`StringNotEquals`, `StringNotLike`, …); `Null` is not one.
fn negated(base: &str) -> bool {
    let b = base.to_ascii_lowercase();
    b.contains("not") && b != "null"
}

fn owner_allowed(ctx: &Ctx<'_>, owner: &str) -> bool {
    let allowed = &ctx.settings.allowed_owners;
    allowed.is_empty() || allowed.iter().any(|a| a.eq_ignore_ascii_case(owner))
}

/// A literal default-format subject naming one repository and one context other than pull
/// requests, of an allowed owner.
fn exact_subject(ctx: &Ctx<'_>, value: &str) -> bool {
    let Some(sub) = split_default_sub(value) else {
        return false;
    };
    let Some(context) = sub.context else {
        return false;
    };
    let Some((owner, repo)) = sub.repo.split_once('/') else {
        return false;
    };
    let owner = owner.split('@').next().unwrap_or("");
    !owner.is_empty()
        && !repo.is_empty()
        && !context.is_empty()
        && !may_admit_pull_requests(value)
        && owner_allowed(ctx, owner)
}

/// Whether a `sub` value of another statement admits pull requests (the fix would make the
/// policy one that also deploys, which `trust-sub-admits-pull-request` reports).
fn may_admit_pull_requests(value: &str) -> bool {
    let Some(sub) = split_default_sub(value) else {
        return true;
    };
    match sub.context {
        Some(c) => {
            let c = c.to_ascii_lowercase();
            c.starts_with("pull") || c.contains(['*', '?'])
        }
        None => true,
    }
}

/// See the module documentation.
pub fn exact_scope(
    ctx: &Ctx<'_>,
    t: &CiTrust<'_>,
    pr_policies: &HashSet<*const PolicyDoc>,
) -> bool {
    let mut subjects = 0usize;
    for c in &t.statement.conditions {
        let key = c.key.value.as_str();
        if key.contains("${") {
            return false; // an issuer or claim known only at apply time
        }
        let Some(claim) = c.claim_of(&t.issuer) else {
            continue; // other keys only narrow further
        };
        let op = c.op();
        if op.if_exists || op.for_all_values || negated(&op.base) {
            return false;
        }
        match claim.as_str() {
            "sub" if op.is_positive_string_match() => {
                for v in &c.values {
                    let Some(k) = v.value.known() else {
                        return false;
                    };
                    if op.is_like() && k.contains(['*', '?']) || !exact_subject(ctx, &k) {
                        return false;
                    }
                    subjects += 1;
                }
            }
            "repository" | "repository_owner" if op.is_positive_string_match() => {
                for v in &c.values {
                    let Some(k) = v.value.known() else {
                        return false;
                    };
                    let owner = k.split('/').next().unwrap_or("");
                    if owner.contains(['*', '?']) || !owner_allowed(ctx, owner) {
                        return false;
                    }
                }
            }
            _ => {}
        }
    }
    // A pull-request subject in another statement of the policy would turn this role into one
    // shared by pull requests and deployments. (This statement's own subjects admit none.)
    subjects > 0 && !pr_policies.contains(&(t.policy as *const PolicyDoc))
}

/// The policies with a GitHub trust statement whose `sub` values may admit pull requests
/// (computed once per check: policies can hold thousands of statements).
pub fn pull_request_policies(ctx: &Ctx<'_>) -> HashSet<*const PolicyDoc> {
    ctx.trusts()
        .iter()
        .filter(|o| {
            o.positive("sub").iter().any(|c| {
                c.values
                    .iter()
                    .any(|v| v.value.known().is_none_or(|k| may_admit_pull_requests(&k)))
            })
        })
        .map(|o| o.policy as *const PolicyDoc)
        .collect()
}
