use super::{Ctx, Rule, RuleMeta};
use crate::analysis::permissions::{any_role_resource, granting, unique_policies};
use crate::diag::Finding;

pub struct PermPassroleWildcard;
pub static RULE: PermPassroleWildcard = PermPassroleWildcard;
static META: RuleMeta = crate::rule_meta!(
    "perm-passrole-wildcard",
    Warning,
    "A role a CI issuer (GitHub Actions, HCP Terraform, GitLab, …) can assume may pass any role to any service (`iam:PassRole` on `*`)",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

impl Rule for PermPassroleWildcard {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let subjects = ctx.ci_roles();
        managed(subjects, out);
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
                    Finding::new(META.id, META.severity, p.file, action.span)
                        .message(format!(
                            "{} allows `{}` on `{}` for {}, which {assumed_by} can assume: {a_run} can hand any role, however privileged, to a service it launches",
                            crate::analysis::permissions::policy_name(p),
                            action.value.display(),
                            res.value.display(),
                            s.describe,
                            assumed_by = s.assumed_by,
                            a_run = s.a_run(),
                        ))
                        .label("passes roles")
                        .related(p.file, res.span, "any role")
                        .related(s.trust_file, s.trust_span, format!("this trust policy admits {}", s.tokens))
                        .help("list the role ARNs the workflow passes (e.g. the ECS task role) and add a `StringEquals` condition on `iam:PassedToService`"),
                );
            }
        }
    }
}

/// Attached AWS-managed policies that pass any role with no `iam:PassedToService` limit
/// (`AmazonElasticMapReduceFullAccess`, `AWSElasticBeanstalkService`, …), judged by their
/// contents. `AdministratorAccess` (every action) is left to `perm-admin-access`.
fn managed(subjects: &[crate::analysis::permissions::CiRole<'_>], out: &mut Vec<Finding>) {
    use crate::analysis::managed_policies::Scope;
    for (s, arn, p) in crate::analysis::permissions::managed_below_everything(subjects) {
        let file = arn.file;
        let Some(st) = p.applying("iam:PassRole").find(|st| {
            st.allow
                && st.covering(Scope::AllOf("role")).is_some()
                && !st
                    .conditions
                    .iter()
                    .any(|c| c.key.eq_ignore_ascii_case("iam:PassedToService"))
        }) else {
            continue;
        };
        if p.applying("iam:PassRole")
            .any(|d| !d.allow && !d.conditional() && d.covering(Scope::AllOf("role")).is_some())
        {
            continue;
        }
        let resource = st.covering(Scope::AllOf("role")).unwrap_or("*");
        out.push(
                Finding::new(META.id, META.severity, file, arn.span)
                    .message(format!(
                        "{} can be assumed from {assumed_by} and has `{}` attached, which allows {} on `{resource}`{}: {a_run} can hand any role, however privileged, to a service it launches",
                        s.describe,
                        arn.value.display(),
                        crate::analysis::managed_policies::through("iam:PassRole", &st.describe_grant("iam:PassRole")),
                        if st.conditional() { " under conditions that do not limit the receiving service" } else { "" },
                            assumed_by = s.assumed_by,
                            a_run = s.a_run(),
                        ))
                    .label("passes any role")
                    .related(s.trust_file, s.trust_span, format!("this trust policy admits {}", s.tokens))
                    .help("replace the managed policy with one that lists the role ARNs the workflow passes and limits `iam:PassedToService`"),
            );
    }
}
