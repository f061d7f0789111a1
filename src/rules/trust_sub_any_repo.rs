use super::{Ctx, Rule, RuleMeta};
use crate::analysis::issuers::{Reach, reach};
use crate::analysis::trust::{CiTrust, SubReach, repository_pinned, sub_reach};
use crate::diag::Finding;

pub struct TrustSubAnyRepo;
pub static RULE: TrustSubAnyRepo = TrustSubAnyRepo;
static META: RuleMeta = crate::rule_meta!(
    "trust-sub-any-repo",
    Error,
    "A `sub` pattern admits any owner or organization of a shared issuer (`*`, `repo:*`, `organization:*` on HCP Terraform or Buildkite, `project_path:*` on GitLab)",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

impl Rule for TrustSubAnyRepo {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for t in ctx.ci_trusts() {
            if !t.ci.is_github() {
                if t.can_admit() {
                    other_issuer(t, out);
                }
                continue;
            }
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

/// A shared issuer other than GitHub: a wildcard where the organization belongs.
fn other_issuer(t: &CiTrust<'_>, out: &mut Vec<Finding>) {
    for (c, v) in t.like_sub_values() {
        if reach(&t.ci, &v.value) != Reach::AnyTenant {
            continue;
        }
        let ci = &t.ci;
        out.push(
            Finding::new(META.id, META.severity, t.policy.file, v.span)
                .message(format!(
                    "`{}` under `{}` matches subjects of every {} organization (they read `{}`), so any {} customer can assume {}",
                    v.value.display(),
                    c.operator.value,
                    ci.name,
                    ci.grammar(),
                    ci.name,
                    t.policy.owner
                ))
                .label("this pattern admits any organization")
                .related(t.policy.file, c.key.span, "values of one key are OR-ed: one open value opens the role")
                .help(format!(
                    "name your organization and what in it may assume the role: `{}`; oidc-lint cannot know them, so it offers no automatic edit",
                    ci.grammar()
                )),
        );
    }
}
