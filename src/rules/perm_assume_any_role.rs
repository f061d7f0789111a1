use super::{Ctx, Rule, RuleMeta};
use crate::analysis::permissions::{
    any_role_resource, context_note, context_only_conditions, granting, unique_policies,
};
use crate::diag::Finding;

pub struct PermAssumeAnyRole;
pub static RULE: PermAssumeAnyRole = PermAssumeAnyRole;
static META: RuleMeta = crate::rule_meta!(
    "perm-assume-any-role",
    Warning,
    "A role a CI issuer (GitHub Actions, HCP Terraform, GitLab, …) can assume may assume any other role (`sts:AssumeRole` on `*`)",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

impl Rule for PermAssumeAnyRole {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let subjects = ctx.ci_roles();
        for (p, s) in unique_policies(subjects) {
            for st in &p.statements {
                // A condition (`aws:ResourceAccount`, `iam:ResourceTag/…`) narrows the targets;
                // one on the request's region, source or time does not.
                if !st.is_allow() {
                    continue;
                }
                let Some(context) = context_only_conditions(st) else {
                    continue;
                };
                let Some(action) = granting(st, "sts:AssumeRole", true) else {
                    continue;
                };
                let Some(res) = any_role_resource(st) else {
                    continue;
                };
                out.push(
                    Finding::new(META.id, META.severity, p.file, action.span)
                        .message(format!(
                            "{} allows `{}` on `{}`{} for {}, which {assumed_by} can assume: {a_run} can pivot into every role whose trust admits this account",
                            crate::analysis::permissions::policy_name(p),
                            action.value.display(),
                            res.value.display(),
                            context_note(&context),
                            s.describe,
                            assumed_by = s.assumed_by,
                            a_run = s.a_run(),
                        ))
                        .label("assumes roles")
                        .related(p.file, res.span, "on any role")
                        .related(s.trust_file, s.trust_span, format!("this trust policy admits {}", s.tokens))
                        .help("list the role ARNs the workflow chains into (a prefix such as `arn:aws:iam::*:role/cdk-*` is fine), or condition the statement on `aws:ResourceAccount`"),
                );
            }
        }
    }
}
