use super::{Ctx, Rule, RuleMeta};
use crate::analysis::access::oidc_step;
use crate::diag::Finding;

pub struct WorkflowRoleNotArn;
pub static RULE: WorkflowRoleNotArn = WorkflowRoleNotArn;
static META: RuleMeta = crate::rule_meta!(
    "workflow-role-not-arn",
    Error,
    "`role-to-assume` is a bare role name on the OIDC path, where configure-aws-credentials needs a full role ARN",
    ["workflow", "action"],
    false
);

/// What the value is known to be: `Some(text)` when it is certainly not an ARN, `None` when it
/// is an ARN or unknown.
fn not_arn(value: &str, ctx: &Ctx<'_>) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    match v.find("${{") {
        None => (!v.starts_with("arn:")).then(|| v.to_string()),
        // `${{ secrets.X }}` alone: known only through a configured mapping.
        Some(0) => {
            let inner = v.strip_prefix("${{")?.strip_suffix("}}")?.trim();
            let name = inner
                .strip_prefix("secrets.")
                .or_else(|| inner.strip_prefix("vars."))?;
            let mapped = ctx.settings.role_mappings.get(name)?;
            (!mapped.trim().starts_with("arn:")).then(|| mapped.trim().to_string())
        }
        // A literal start that can no longer become `arn:` (`deploy-${{ env.STAGE }}`).
        Some(i) => {
            let lit = &v[..i];
            (!"arn:".starts_with(lit) && !lit.starts_with("arn:")).then(|| v.to_string())
        }
    }
}

impl Rule for WorkflowRoleNotArn {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn per_file(&self) -> bool {
        true
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for m in &ctx.models {
            for w in m.workflows.iter().filter(|w| ctx.in_focus(w.file)) {
                for job in &w.jobs {
                    let who = match w.kind {
                        crate::model::WorkflowKind::Workflow => format!("job `{}`", job.id.value),
                        crate::model::WorkflowKind::Action => "the composite action".to_string(),
                    };
                    for step in job.steps.iter().filter(|s| oidc_step(s, job, w).is_some()) {
                        let Some(input) = step.input("role-to-assume") else {
                            continue;
                        };
                        let Some(shown) = not_arn(&input.value.value, ctx) else {
                            continue;
                        };
                        let via = if shown != input.value.value.trim() {
                            format!(
                                " (`{}` is configured as `{shown}`)",
                                input.value.value.trim()
                            )
                        } else {
                            String::new()
                        };
                        out.push(
                            Finding::new(META.id, META.severity, w.file, input.value.span)
                                .message(format!(
                                    "{who} passes `role-to-assume: {}`{via}, a role name, on the OIDC path: configure-aws-credentials needs the full role ARN there and fails with \"Source Account ID is needed if the Role Name is provided and not the Role Arn\"",
                                    input.value.value.trim()
                                ))
                                .label("not a role ARN")
                                .help("pass the full ARN, e.g. `arn:aws:iam::123456789012:role/NAME` (role names only work with static or ambient credentials)"),
                        );
                    }
                }
            }
        }
    }
}
