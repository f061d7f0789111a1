use super::{Ctx, Rule, RuleMeta};
use crate::analysis::trust::{SubReach, repository_pinned, sub_reach};
use crate::diag::Finding;

pub struct TrustSubOrgWide;
pub static RULE: TrustSubOrgWide = TrustSubOrgWide;
static META: RuleMeta = crate::rule_meta!(
    "trust-sub-org-wide",
    Warning,
    "A `sub` pattern admits every repository of one owner (`repo:acme/*`)",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

impl Rule for TrustSubOrgWide {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for t in ctx.trusts() {
            if !t.can_admit() || repository_pinned(t, false) {
                continue;
            }
            for (_, v) in t.like_sub_values() {
                let SubReach::OrgWide { owner } = sub_reach(&v.value) else {
                    continue;
                };
                out.push(
                    Finding::new(META.id, META.severity, t.policy.file, v.span)
                        .message(format!(
                            "`{}` admits every repository of `{}`, on every branch, tag, environment and pull request, to assume {}",
                            v.value.display(),
                            owner,
                            t.policy.owner
                        ))
                        .label("any repository of this owner matches")
                        .help(format!(
                            "list the repositories that need the role: `repo:{owner}/REPO:ref:refs/heads/main` or `repo:{owner}/REPO:environment:NAME`; any member who can create a repository in `{owner}` can otherwise assume it"
                        )),
                );
            }
        }
    }
}
