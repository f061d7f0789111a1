use super::{Ctx, Rule, RuleMeta};
use crate::analysis::trust::repository_pinned;
use crate::diag::Finding;

pub struct TrustMissingSub;
pub static RULE: TrustMissingSub = TrustMissingSub;
static META: RuleMeta = crate::rule_meta!(
    "trust-missing-sub",
    Error,
    "A trust statement for GitHub's OIDC provider does not scope the `sub` claim, so any GitHub repository can assume the role",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

impl Rule for TrustMissingSub {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for t in ctx.trusts() {
            if !t.can_admit() {
                continue;
            }
            if !t.positive("sub").is_empty() || !t.positive("job_workflow_ref").is_empty() {
                continue;
            }
            let s = t.statement;
            let span = t
                .principal
                .map(|p| p.span)
                .or(s.principal_span)
                .unwrap_or(s.span);
            let other_scope = repository_pinned(t, true);
            let message = if other_scope {
                format!(
                    "trust policy of {} scopes GitHub's token by other claims but not by `{}:sub`; AWS rejects such a policy when it is created or updated",
                    t.policy.owner, t.issuer
                )
            } else {
                format!(
                    "trust policy of {} lets any GitHub repository assume the role: no condition on `{}:sub`",
                    t.policy.owner, t.issuer
                )
            };
            let mut f = Finding::new(META.id, META.severity, t.policy.file, span)
                .message(message)
                .label("GitHub's OIDC provider is trusted here with no `sub` condition")
                .help(format!(
                    "add `{}` (or `…:environment:NAME`) naming the repositories that may assume this role; oidc-lint cannot know which, so it offers no automatic edit",
                    super::snippet::condition(
                        ctx,
                        t.policy.file,
                        s,
                        "StringEquals",
                        &format!("{}:sub", t.issuer),
                        "repo:OWNER/REPO:ref:refs/heads/main"
                    )
                ));
            if let Some(c) = t.claim_conditions("sub").next() {
                f = f.related(
                    t.policy.file,
                    c.operator.span,
                    format!(
                        "`{}` does not scope the claim (only StringEquals, StringLike and StringEqualsIgnoreCase do)",
                        c.operator.value
                    ),
                );
            }
            out.push(f);
        }
    }
}
