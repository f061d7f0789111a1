use super::workflow_id_token_too_broad::grant_span;
use super::{Ctx, Rule, RuleMeta};
use crate::analysis::expr::Cond;
use crate::diag::{Finding, Severity};
use crate::model::{IdToken, Job, KeyValue, Step, Workflow, WorkflowKind};
use crate::source::Span;
use std::collections::HashMap;

pub struct WorkflowOidcUntrustedTrigger;
pub static RULE: WorkflowOidcUntrustedTrigger = WorkflowOidcUntrustedTrigger;
static META: RuleMeta = crate::rule_meta!(
    "workflow-oidc-untrusted-trigger",
    Warning,
    "`id-token: write` in a workflow outsiders can start (`pull_request_target`, `workflow_run`, `issue_comment`, `issues`, reviews, discussions…); error when the job runs pull-request code or downloads its artifacts",
    ["workflow"],
    false
);

/// Events people outside the repository can start, whose runs have the base repository's
/// identity and permissions (unlike `pull_request` from a fork, which gets no OIDC token).
pub const UNTRUSTED: &[&str] = &[
    "pull_request_target",
    "workflow_run",
    "issue_comment",
    "issues",
    "pull_request_review",
    "pull_request_review_comment",
    "discussion",
    "discussion_comment",
    "fork",
    "watch",
    "gollum",
];

/// Expressions that name the pull request's (or triggering run's) head.
const HEAD_REFS: &[&str] = &[
    "github.event.pull_request.head.",
    "github.event.pull_request.merge_commit_sha",
    "github.head_ref",
    "github.event.workflow_run.head_",
    "github.event.workflow_run.pull_requests",
    "github.event.pull_request.number",
    "github.event.number",
    "refs/pull/",
];

/// Ways a step looks up a pull request's head (its outputs then name untrusted code).
const PR_LOOKUPS: &[&str] = &[
    "ghprview",
    "pulls.get(",
    "/pulls/",
    "pulls/${{",
    "pull_request.url",
];
const PR_LOOKUP_ACTIONS: &[&str] = &[
    "xt0rted/pull-request-comment-branch",
    "gotson/pull-request-comment-branch",
];

fn compact(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// What names untrusted content in a job: the fixed head references plus the step outputs,
/// environment variables and composite-action inputs carrying them.
#[derive(Clone, Default)]
struct Taint {
    markers: Vec<String>,
}

impl Taint {
    fn base() -> Taint {
        Taint {
            markers: HEAD_REFS.iter().map(|s| s.to_string()).collect(),
        }
    }
    fn hit(&self, compacted: &str) -> bool {
        self.markers.iter().any(|m| compacted.contains(m.as_str()))
    }
    /// Environment entries whose value names untrusted content become markers (`env.NAME`).
    fn add_env(&mut self, env: &[KeyValue]) {
        for kv in env {
            if self.hit(&compact(&kv.value.value)) {
                self.markers
                    .push(format!("env.{}", kv.key.to_ascii_lowercase()));
            }
        }
    }
}

/// All of a step's text that can carry an expression: script, inputs and env values.
fn step_text(step: &Step) -> String {
    let mut t = String::new();
    if let Some(r) = &step.run {
        t.push_str(&r.value);
        t.push('\n');
    }
    for kv in step.with.iter().chain(&step.env) {
        t.push_str(&kv.value.value);
        t.push('\n');
    }
    compact(&t)
}

/// Why this step brings untrusted code or data into the job, if it does.
fn risky(step: &Step, taint: &Taint) -> Option<(Span, String)> {
    let action = step.action().unwrap_or_default();
    if action == "actions/checkout" {
        for key in ["ref", "repository"] {
            if let Some(kv) = step.input(key) {
                let v = compact(&kv.value.value);
                if taint.hit(&v) {
                    return Some((
                        kv.value.span,
                        format!(
                            "checks out the pull request's code (`{key}: {}`)",
                            kv.value.value.trim()
                        ),
                    ));
                }
            }
        }
        if let Some(kv) = step.input("allow-unsafe-pr-checkout")
            && kv.value.value.trim() == "true"
        {
            return Some((
                kv.value.span,
                "checks out the pull request's code (`allow-unsafe-pr-checkout: true`)".into(),
            ));
        }
    }
    if action == "actions/download-artifact"
        && let Some(kv) = step.input("run-id")
    {
        return Some((
            kv.value.span,
            format!(
                "downloads artifacts of another run (`run-id: {}`)",
                kv.value.value.trim()
            ),
        ));
    }
    if action == "dawidd6/action-download-artifact" {
        let span = step.uses.as_ref().map(|u| u.span).unwrap_or(step.span);
        return Some((span, "downloads artifacts of another run".into()));
    }
    if let Some(run) = &step.run {
        let r = compact(&run.value);
        if r.contains("ghprcheckout") {
            return Some((
                run.span,
                "checks out the pull request with `gh pr checkout`".into(),
            ));
        }
        if r.contains("ghrundownload") {
            return Some((
                run.span,
                "downloads artifacts of another run with `gh run download`".into(),
            ));
        }
        let with_env = step_text(step);
        if r.contains("git")
            && (r.contains("pull/") || taint.hit(&with_env))
            && (r.contains("gitfetch") || r.contains("gitcheckout") || r.contains("gitpull"))
        {
            return Some((run.span, "fetches the pull request's code with git".into()));
        }
    }
    None
}

/// The local composite actions of the scan by path (`dir/action.yml`).
struct Actions<'a> {
    by_path: HashMap<String, &'a Workflow>,
    workflows: HashMap<String, &'a Workflow>,
}

impl<'a> Actions<'a> {
    fn index(ctx: &'a Ctx<'_>) -> Actions<'a> {
        let mut by_path = HashMap::new();
        let mut workflows = HashMap::new();
        for m in &ctx.models {
            for w in &m.workflows {
                let rel = ctx.file(w.file).rel.clone();
                match w.kind {
                    WorkflowKind::Action => by_path.insert(rel, w),
                    WorkflowKind::Workflow => workflows.insert(rel, w),
                };
            }
        }
        Actions { by_path, workflows }
    }
    /// The local reusable workflow a job calls, with its path.
    fn callee(&self, job: &Job, caller_rel: &str) -> Option<(&'a Workflow, &str)> {
        let rel = job.local_callee(caller_rel)?;
        self.workflows
            .get_key_value(&rel)
            .map(|(k, w)| (*w, k.as_str()))
    }
    /// The action a `uses: ./path` step runs, relative to the root of the repository whose
    /// workflow `caller_rel` is.
    fn resolve(&self, caller_rel: &str, uses: &str) -> Option<&'a Workflow> {
        let local = uses.trim().strip_prefix("./")?.trim_end_matches('/');
        let root = match caller_rel.rfind(".github/") {
            Some(i) => &caller_rel[..i],
            None => "",
        };
        ["action.yml", "action.yaml"]
            .iter()
            .find_map(|f| self.by_path.get(&format!("{root}{local}/{f}")).copied())
    }
}

/// The first step of `steps` that brings untrusted content in while the job runs for one of
/// `events`, followed through step outputs and local composite actions.
fn steps_risk(
    steps: &[Step],
    events: &[&str],
    mut taint: Taint,
    scope: (&Actions<'_>, &str),
    depth: usize,
) -> Option<(Span, String)> {
    for step in steps {
        let runs = {
            let c = Cond::new(step.condition.as_ref().map(|c| c.value.as_str()));
            events.iter().any(|e| c.may_run(e))
        };
        let text = step_text(step);
        let lookup = PR_LOOKUPS.iter().any(|l| text.contains(l))
            || step
                .action()
                .is_some_and(|a| PR_LOOKUP_ACTIONS.contains(&a.as_str()));
        if runs {
            if let Some(r) = risky(step, &taint) {
                return Some(r);
            }
            if depth < 4
                && let Some(u) = &step.uses
                && let Some(action) = scope.0.resolve(scope.1, &u.value)
            {
                let mut inner = Taint::base();
                for kv in &step.with {
                    if taint.hit(&compact(&kv.value.value)) {
                        inner
                            .markers
                            .push(format!("inputs.{}", kv.key.to_ascii_lowercase()));
                    }
                }
                let inner_steps: Vec<Step> =
                    action.jobs.iter().flat_map(|j| j.steps.clone()).collect();
                if steps_risk(&inner_steps, events, inner, scope, depth + 1).is_some() {
                    let span = u.span;
                    return Some((
                        span,
                        format!(
                            "runs the local action `{}`, which checks out or downloads the pull request's content",
                            u.value.trim()
                        ),
                    ));
                }
            }
        }
        if let Some(id) = &step.id
            && (lookup || taint.hit(&text))
        {
            taint
                .markers
                .push(format!("steps.{}.outputs.", id.to_ascii_lowercase()));
        }
    }
    None
}

fn job_risk(
    w: &Workflow,
    job: &Job,
    events: &[&str],
    scope: (&Actions<'_>, &str),
) -> Option<(Span, String)> {
    let mut taint = Taint::base();
    taint.add_env(&w.env);
    taint.add_env(&job.env);
    if let Some(r) = steps_risk(&job.steps, events, taint, scope, 0) {
        return Some(r);
    }
    // A call of a local reusable workflow: its jobs run with this job's grant.
    let (callee, callee_rel) = scope.0.callee(job, scope.1)?;
    let outer = {
        let mut t = Taint::base();
        t.add_env(&w.env);
        t.add_env(&job.env);
        t
    };
    let inputs: Vec<String> = job
        .with
        .iter()
        .filter(|kv| outer.hit(&compact(&kv.value.value)))
        .map(|kv| format!("inputs.{}", kv.key.to_ascii_lowercase()))
        .collect();
    callee.jobs.iter().find_map(|cj| {
        let events = job_events_among(cj, events);
        let mut taint = Taint::base();
        taint.markers.extend(inputs.iter().cloned());
        taint.add_env(&callee.env);
        taint.add_env(&cj.env);
        steps_risk(&cj.steps, &events, taint, (scope.0, callee_rel), 1).map(|(_, why)| {
            let span = job.uses.as_ref().map(|u| u.span).unwrap_or(job.span);
            (
                span,
                format!("calls {callee_rel}, whose job `{}` {why}", cj.id.value),
            )
        })
    })
}

/// Of `events`, those the job's `if:` lets it run for.
fn job_events_among<'e>(job: &Job, events: &[&'e str]) -> Vec<&'e str> {
    let c = Cond::new(job.condition.as_ref().map(|c| c.value.as_str()));
    events.iter().copied().filter(|t| c.may_run(t)).collect()
}

/// The untrusted events the job can run for, in [`UNTRUSTED`] order: its `if:` is evaluated
/// for each (three-valued; a condition not understood may always be true). A call of a local
/// reusable workflow runs for the events some called job inheriting the grant runs for.
fn job_events(w: &Workflow, job: &Job, actions: &Actions<'_>, rel: &str) -> Vec<&'static str> {
    let on: Vec<&'static str> = UNTRUSTED
        .iter()
        .copied()
        .filter(|t| w.has_trigger(t))
        .collect();
    let mut events = job_events_among(job, &on);
    if let Some((callee, _)) = actions.callee(job, rel) {
        events.retain(|e| {
            callee.jobs.iter().any(|cj| {
                callee
                    .effective_permissions(cj)
                    .is_none_or(|p| p.id_token() != IdToken::Missing)
                    && job_events_among(cj, &[e]).len() == 1
            })
        });
    }
    events
}

impl Rule for WorkflowOidcUntrustedTrigger {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let actions = Actions::index(ctx);
        for m in &ctx.models {
            for w in &m.workflows {
                if w.kind != WorkflowKind::Workflow || !UNTRUSTED.iter().any(|t| w.has_trigger(t)) {
                    continue;
                }
                let rel = ctx.file(w.file).rel.as_str();
                // (a `workflow_run` of workflows only insiders can start is theirs)
                let insiders = crate::analysis::subjects::workflow_run_from_insiders(ctx, w);
                // Jobs inheriting a workflow-level grant are reported once, at that grant.
                let mut inherited: Vec<(&Job, Vec<&str>)> = Vec::new();
                for job in &w.jobs {
                    let mut events = job_events(w, job, &actions, rel);
                    if insiders {
                        events.retain(|e| *e != "workflow_run");
                    }
                    if events.is_empty() {
                        continue;
                    }
                    let Some(p) = w.effective_permissions(job) else {
                        continue;
                    };
                    if p.id_token() != IdToken::Write {
                        continue;
                    }
                    if job.permissions.is_none() {
                        inherited.push((job, events));
                        continue;
                    }
                    report(out, w, grant_span(p), &[(job, events)], (&actions, rel));
                }
                if let Some(p) = &w.permissions
                    && !inherited.is_empty()
                {
                    report(out, w, grant_span(p), &inherited, (&actions, rel));
                }
            }
        }
    }
}

fn report(
    out: &mut Vec<Finding>,
    w: &Workflow,
    at: Span,
    jobs: &[(&Job, Vec<&str>)],
    scope: (&Actions<'_>, &str),
) {
    let names = jobs
        .iter()
        .map(|(j, _)| format!("`{}`", j.id.value))
        .collect::<Vec<_>>()
        .join(", ");
    let events: Vec<&str> = UNTRUSTED
        .iter()
        .copied()
        .filter(|t| jobs.iter().any(|(_, e)| e.contains(t)))
        .collect();
    let on = events
        .iter()
        .map(|t| format!("`{t}`"))
        .collect::<Vec<_>>()
        .join(" and ");
    let trig = w
        .triggers
        .iter()
        .find(|t| Some(&t.event.as_str()) == events.first())
        .map(|t| t.span)
        .unwrap_or_default();
    let risk = jobs
        .iter()
        .find_map(|(j, e)| job_risk(w, j, e, scope).map(|r| (*j, r)));
    let who = if jobs.len() == 1 { "job" } else { "jobs" };
    let mut f = match &risk {
        Some((j, (_, why))) => {
            let culprit = if jobs.len() == 1 {
                "it".to_string()
            } else {
                format!("job `{}`", j.id.value)
            };
            Finding::new(META.id, Severity::Error, w.file, at).message(format!(
                "{who} {names} can mint OIDC tokens in a workflow triggered by {on}, and {culprit} {why}: code from a fork runs with this repository's identity and can assume its AWS roles"
            ))
        }
        None => Finding::new(META.id, META.severity, w.file, at).message(format!(
            "{who} {names} can mint OIDC tokens in a workflow triggered by {on}, which people outside the repository can start and which runs in this repository's context (and matches trust policies pinned to the default branch)"
        )),
    };
    f = f.label("`id-token: write`").related(
        w.file,
        trig,
        "runs with the base repository's identity for events outsiders start",
    );
    if let Some((_, (span, _))) = &risk {
        f = f.related(w.file, *span, "untrusted code or data enters the job here");
    }
    out.push(f.help(
        "run untrusted code in an unprivileged `pull_request` workflow and keep `id-token: write` out of this one; if it must deploy, gate the job with an environment that requires review and never check out or download the pull request's files",
    ));
}
