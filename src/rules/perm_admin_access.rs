use super::{Ctx, Rule, RuleMeta};
use crate::analysis::managed_policies::AdminReason;
use crate::analysis::permissions::{is_every_action, star_resource, unique_policies};
use crate::diag::Finding;

pub struct PermAdminAccess;
pub static RULE: PermAdminAccess = PermAdminAccess;
static META: RuleMeta = crate::rule_meta!(
    "perm-admin-access",
    Error,
    "A role a CI issuer (GitHub Actions, HCP Terraform, GitLab, …) can assume has administrator access (`Action: \"*\"` on `Resource: \"*\"`, or `AdministratorAccess`)",
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
        let subjects = ctx.ci_roles();
        for s in subjects {
            for arn in &s.managed {
                // Judged by the policy's contents (the vendored snapshot of AWS-managed
                // policies); the name alone when the snapshot does not know it.
                let reason = match crate::analysis::managed_policies::lookup_template(&arn.value) {
                    Some(p) => p.admin_equivalent(),
                    None => is_admin_arn(&arn.value).then_some(AdminReason::EveryAction),
                };
                let Some(reason) = reason else {
                    continue;
                };
                // Where the policy is attached (possibly another file than the role).
                let file = arn.file;
                let why = match &reason {
                    AdminReason::EveryAction => String::new(),
                    other => format!(", which is as good as administrator access ({other})"),
                };
                out.push(
                    Finding::new(META.id, META.severity, file, arn.span)
                        .message(format!(
                            "{} can be assumed from {assumed_by} and has `{}` attached{why}: any {run} its trust admits controls the whole account",
                            s.describe,
                            arn.value.display(),
                            assumed_by = s.assumed_by,
                            run = s.run,
                        ))
                        .label("administrator access")
                        .related(s.trust_file, s.trust_span, format!("this trust policy admits {}", s.tokens))
                        .help(HELP),
                );
            }
        }
        for (p, s) in unique_policies(subjects) {
            for st in &p.statements {
                if st.is_allow() && st.not_action {
                    not_action(p, st, s, out);
                }
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
                            "{} allows every action (`{}`) on every resource for {}, which {assumed_by} can assume: this is administrator access",
                            crate::analysis::permissions::policy_name(p),
                            action.value.display(),
                            s.describe,
                            assumed_by = s.assumed_by,
                        ))
                        .label("every action")
                        .related(p.file, res.span, "on every resource")
                        .related(s.trust_file, s.trust_span, format!("this trust policy admits {}", s.tokens))
                        .help(HELP),
                );
            }
        }
    }
}

/// `Allow` with `NotAction` on `*` whose exclusions leave the role-policy writes
/// (`iam:AttachRolePolicy`, `iam:PutRolePolicy`) allowed: the role can grant itself anything.
/// `PowerUserAccess`'s shape (`NotAction: iam:*, organizations:*, account:*`) is not this.
/// Judged only when every excluded pattern is known.
fn not_action(
    p: &crate::model::PolicyDoc,
    st: &crate::model::Statement,
    s: &crate::analysis::permissions::CiRole<'_>,
    out: &mut Vec<Finding>,
) {
    let Some(res) = star_resource(st) else {
        return;
    };
    let Some(excluded) = st
        .actions
        .iter()
        .map(|a| a.value.known())
        .collect::<Option<Vec<String>>>()
    else {
        return;
    };
    let excludes = |action: &str| {
        excluded.iter().any(|k| {
            crate::model::glob_match(&k.trim().to_ascii_lowercase(), &action.to_ascii_lowercase())
        })
    };
    let Some(write) = ["iam:AttachRolePolicy", "iam:PutRolePolicy"]
        .into_iter()
        .find(|a| !excludes(a))
    else {
        return;
    };
    let span = st.action_span.unwrap_or(st.span);
    out.push(
        Finding::new(META.id, META.severity, p.file, span)
            .message(format!(
                "{} allows every action but {} on every resource for {}, which {assumed_by} can assume: that still includes `{write}`, so the role can grant itself anything; this is administrator access",
                crate::analysis::permissions::policy_name(p),
                excluded
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                s.describe,
                            assumed_by = s.assumed_by,
                        ))
            .label("`NotAction` leaves IAM writes allowed")
            .related(p.file, res.span, "on every resource")
            .related(s.trust_file, s.trust_span, format!("this trust policy admits {}", s.tokens))
            .help(HELP),
    );
}
