use super::workflow_deprecated_action::{AWS_ACTIONS, is_sha, release};
use super::{Ctx, Rule, RuleMeta};
use crate::diag::Finding;
use crate::model::Step;

pub struct WorkflowActionBranchPin;
pub static RULE: WorkflowActionBranchPin = WorkflowActionBranchPin;
static META: RuleMeta = crate::rule_meta!(
    "workflow-action-branch-pin",
    Warning,
    "configure-aws-credentials or amazon-ecr-login referenced by a branch (`@main`, `@master`): a moving target that runs with the job's cloud credentials",
    ["workflow", "action"],
    false
);

fn check_step(file: usize, job: &str, step: &Step, out: &mut Vec<Finding>) {
    let (Some(action), Some(uses)) = (step.action(), step.uses.as_ref()) else {
        return;
    };
    if !AWS_ACTIONS.contains(&action.as_str()) {
        return;
    }
    let Some((_, reference)) = uses.value.split_once('@') else {
        return;
    };
    let r = reference.trim();
    // a commit is fixed and a release tag is judged by `workflow-deprecated-action`; any other
    // reference names a branch (or a tag named like one)
    if r.is_empty() || is_sha(r) || release(r).is_some() {
        return;
    }
    out.push(
        Finding::new(META.id, META.severity, file, uses.span)
            .message(format!(
                "{job} uses `{action}@{r}`, which names no release: a branch, so each run may get different code (and a different Node runtime) than was reviewed, and that code handles the job's cloud credentials"
            ))
            .label(format!("`{r}` moves"))
            .help(format!(
                "pin a release's commit SHA with its version comment (`{action}@<sha> # v6.x.y`, as Dependabot and Renovate keep it), or at least a release tag"
            )),
    );
}

impl Rule for WorkflowActionBranchPin {
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
                    let name = match w.kind {
                        crate::model::WorkflowKind::Workflow => format!("job `{}`", job.id.value),
                        crate::model::WorkflowKind::Action => "the composite action".to_string(),
                    };
                    for step in &job.steps {
                        check_step(w.file, &name, step, out);
                    }
                }
            }
        }
    }
}
