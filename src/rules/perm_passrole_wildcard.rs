use super::{Ctx, Rule, RuleMeta};
use crate::analysis::permissions::{any_role_resource, granting, unique_policies};
use crate::diag::Finding;

pub struct PermPassroleWildcard;
pub static RULE: PermPassroleWildcard = PermPassroleWildcard;
static META: RuleMeta = crate::rule_meta!(
    "perm-passrole-wildcard",
    Warning,
    "A role GitHub Actions can assume may pass any role to any service (`iam:PassRole` on `*`)",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

impl Rule for PermPassroleWildcard {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let subjects = ctx.github_roles();
        for (p, s) in unique_policies(subjects) {
            for st in &p.statements {
                if !st.is_allow() {
                    continue;
                }
                // `iam:PassedToService` limits which services may receive the role.
                if st.conditions.iter().any(|c| {
                    c.key.value.eq_ignore_ascii_case("iam:PassedToService")
                        && c.op().is_positive_string_match()
                }) {
                    continue;
                }
                let Some(action) = granting(st, "iam:PassRole", true) else {
                    continue;
                };
                let Some(res) = any_role_resource(st) else {
                    continue;
                };
                out.push(
                    Finding::new(META.id, META.severity, p.file, res.span)
                        .message(format!(
                            "{} allows `{}` on `{}` for {}, which GitHub Actions can assume: a workflow can hand any role, however privileged, to a service it launches",
                            crate::analysis::permissions::policy_name(p),
                            action.value.display(),
                            res.value.display(),
                            s.describe
                        ))
                        .label("any role")
                        .related(p.file, action.span, "passes roles")
                        .related(s.trust_file, s.trust_span, "this trust policy admits GitHub's OIDC tokens")
                        .help("list the role ARNs the workflow passes (e.g. the ECS task role) and add a `StringEquals` condition on `iam:PassedToService`"),
                );
            }
        }
    }
}
