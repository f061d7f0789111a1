use super::{Ctx, Rule, RuleMeta};
use crate::analysis::trust::split_default_sub;
use crate::diag::Finding;

pub struct TrustSubUntrustedOwner;
pub static RULE: TrustSubUntrustedOwner = TrustSubUntrustedOwner;
static META: RuleMeta = crate::rule_meta!(
    "trust-sub-untrusted-owner",
    Error,
    "A trust subject names a GitHub owner outside the configured `allowed-owners`",
    [
        "iam-json",
        "terraform",
        "terraform-plan",
        "cloudformation",
        "aws-export"
    ],
    false
);

/// The literal owner name of a default-format subject (`repo:OWNER/…`, `repo:OWNER@ID/…`);
/// `None` when it holds a wildcard or is not of that form.
fn owner_of(value: &str) -> Option<&str> {
    let sub = split_default_sub(value)?;
    let owner = sub.repo.split('/').next()?.split('@').next()?;
    (!owner.is_empty() && !owner.contains(['*', '?'])).then_some(owner)
}

impl Rule for TrustSubUntrustedOwner {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let allowed = &ctx.settings.allowed_owners;
        if allowed.is_empty() {
            return; // only judged when the organization says which owners it trusts
        }
        let ok = |owner: &str| allowed.iter().any(|a| a.eq_ignore_ascii_case(owner));
        for t in ctx.trusts() {
            if !t.can_admit() {
                continue;
            }
            for claim in ["sub", "repository_owner", "repository"] {
                for c in t.positive(claim) {
                    for v in &c.values {
                        let Some(k) = v.value.known() else { continue };
                        let owner = match claim {
                            "sub" => owner_of(&k),
                            "repository" => k.split('/').next().filter(|o| !o.contains(['*', '?'])),
                            _ => Some(k.as_str()).filter(|o| !o.contains(['*', '?'])),
                        };
                        let Some(owner) = owner else { continue };
                        if ok(owner) {
                            continue;
                        }
                        out.push(
                            Finding::new(META.id, META.severity, t.policy.file, v.span)
                                .message(format!(
                                    "`{k}` lets repositories of `{owner}` assume {}, but the configured `allowed-owners` are {}",
                                    t.policy.owner,
                                    allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
                                ))
                                .label(format!("`{owner}` is not an allowed owner"))
                                .help("remove the subject, or add the owner to `allowed-owners` in oidc-lint.toml if the organization trusts it"),
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn owners() {
        assert_eq!(
            super::owner_of("repo:acme/app:ref:refs/heads/main"),
            Some("acme")
        );
        assert_eq!(
            super::owner_of("repo:acme@123/app@4:pull_request"),
            Some("acme")
        );
        assert_eq!(super::owner_of("repo:*/app"), None);
        assert_eq!(super::owner_of("environment:prod"), None);
    }
}
