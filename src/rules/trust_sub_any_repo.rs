use super::{Ctx, Rule, RuleMeta};
use crate::analysis::trust::{SubReach, repository_pinned, sub_reach};
use crate::diag::Finding;

pub struct TrustSubAnyRepo;
pub static RULE: TrustSubAnyRepo = TrustSubAnyRepo;
static META: RuleMeta = crate::rule_meta!(
    "trust-sub-any-repo",
    Error,
    "A `sub` pattern admits repositories of any owner (`*`, `repo:*`, a wildcard in the owner)",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

impl Rule for TrustSubAnyRepo {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for t in ctx.trusts() {
            if !t.can_admit() || repository_pinned(t, true) {
                continue;
            }
            for (c, v) in t.like_sub_values() {
                if sub_reach(&v.value) != SubReach::AnyRepo {
                    continue;
                }
                out.push(
                    Finding::new(META.id, META.severity, t.policy.file, v.span)
                        .message(format!(
                            "`{}` under `{}` matches subjects of every GitHub repository, so any repository in the world can assume {}",
                            v.value.display(),
                            c.operator.value,
                            t.policy.owner
                        ))
                        .label("this pattern admits any owner's repositories")
                        .related(t.policy.file, c.key.span, "values of one key are OR-ed: one open value opens the role")
                        .help("replace the pattern with exact subjects such as `repo:OWNER/REPO:ref:refs/heads/main` or `repo:OWNER/REPO:environment:NAME`; oidc-lint cannot know the owner, so it offers no automatic edit"),
                );
            }
        }
    }
}
