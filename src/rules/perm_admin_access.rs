use super::{Ctx, Rule, RuleMeta};
use crate::analysis::permissions::{is_every_action, star_resource, unique_policies};
use crate::diag::Finding;

pub struct PermAdminAccess;
pub static RULE: PermAdminAccess = PermAdminAccess;
static META: RuleMeta = crate::rule_meta!(
    "perm-admin-access",
    Error,
    "A role GitHub Actions can assume has administrator access (`Action: \"*\"` on `Resource: \"*\"`, or `AdministratorAccess`)",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

/// `arn:<partition>:iam::aws:policy/AdministratorAccess`, the partition possibly unknown.
fn is_admin_arn(v: &crate::source::tree::Template) -> bool {
    let d = v.display();
    let d = d.trim();
    d.starts_with("arn:") && d.ends_with(":iam::aws:policy/AdministratorAccess")
}

const HELP: &str = "give the role only the actions its workflows run, on the resources they touch; keep separate plan (read-only) and apply roles, and never let a pull request reach an admin role";

impl Rule for PermAdminAccess {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let subjects = ctx.github_roles();
        for s in subjects {
            for arn in &s.managed {
                if !is_admin_arn(&arn.value) {
                    continue;
                }
                let file = s.role.map(|r| r.file).unwrap_or(s.trust_file);
                out.push(
                    Finding::new(META.id, META.severity, file, arn.span)
                        .message(format!(
                            "{} can be assumed from GitHub Actions and has `{}` attached: any workflow its trust admits controls the whole account",
                            s.describe,
                            arn.value.display()
                        ))
                        .label("administrator access")
                        .related(s.trust_file, s.trust_span, "this trust policy admits GitHub's OIDC tokens")
                        .help(HELP),
                );
            }
        }
        for (p, s) in unique_policies(subjects) {
            for st in &p.statements {
                if !st.is_allow() || st.not_action {
                    continue;
                }
                let Some(action) = st.actions.iter().find(|a| is_every_action(&a.value)) else {
                    continue;
                };
                let Some(res) = star_resource(st) else {
                    continue;
                };
                out.push(
                    Finding::new(META.id, META.severity, p.file, action.span)
                        .message(format!(
                            "{} allows every action (`{}`) on every resource for {}, which GitHub Actions can assume: this is administrator access",
                            crate::analysis::permissions::policy_name(p),
                            action.value.display(),
                            s.describe
                        ))
                        .label("every action")
                        .related(p.file, res.span, "on every resource")
                        .related(s.trust_file, s.trust_span, "this trust policy admits GitHub's OIDC tokens")
                        .help(HELP),
                );
            }
        }
    }
}
