use super::workflow_id_token_too_broad::grant_span;
use super::{Ctx, Rule, RuleMeta};
use crate::diag::{Finding, Severity};
use crate::model::{IdToken, Job, Step, Workflow, WorkflowKind};
use crate::source::Span;

pub struct WorkflowOidcUntrustedTrigger;
pub static RULE: WorkflowOidcUntrustedTrigger = WorkflowOidcUntrustedTrigger;
static META: RuleMeta = crate::rule_meta!(
    "workflow-oidc-untrusted-trigger",
    Warning,
    "`id-token: write` in a workflow triggered by `pull_request_target` or `workflow_run` (error when the job runs pull-request code or downloads its artifacts)",
    ["workflow"],
    false
);

const UNTRUSTED: &[&str] = &["pull_request_target", "workflow_run"];

/// Expressions that name the pull request's (or triggering run's) head.
const HEAD_REFS: &[&str] = &[
    "github.event.pull_request.head.",
    "github.head_ref",
    "github.event.workflow_run.head_",
    "github.event.pull_request.number",
    "github.event.number",
    "refs/pull/",
];

fn compact(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Why this step brings untrusted code or data into the job, if it does.
fn risky(step: &Step) -> Option<(Span, String)> {
    let action = step.action().unwrap_or_default();
    if action == "actions/checkout" {
        for key in ["ref", "repository"] {
            if let Some(kv) = step.input(key) {
                let v = compact(&kv.value.value);
                if HEAD_REFS.iter().any(|h| v.contains(h)) {
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
        if r.contains("git")
            && (r.contains("pull/") || HEAD_REFS.iter().any(|h| r.contains(h)))
            && (r.contains("gitfetch") || r.contains("gitcheckout") || r.contains("gitpull"))
        {
            return Some((run.span, "fetches the pull request's code with git".into()));
        }
    }
    None
}

/// Does the job's `if:` keep it from running for other people's pull requests? Recognised:
/// same-repository checks, a pinned pull-request author (not `github.actor`, which a
/// maintainer's re-run or a bot's update can carry), and event-name tests that exclude the
/// untrusted events.
fn guarded(job: &Job, untrusted: &[&str]) -> bool {
    let Some(c) = &job.condition else {
        return false;
    };
    let c = compact(&c.value).replace('"', "'");
    let c = c.trim_start_matches("${{").trim_end_matches("}}");
    const SAME_REPO: &[&str] = &[
        "github.event.pull_request.head.repo.full_name==github.repository",
        "github.repository==github.event.pull_request.head.repo.full_name",
        "github.event.workflow_run.head_repository.full_name==github.repository",
        "github.repository==github.event.workflow_run.head_repository.full_name",
        "github.event.pull_request.head.repo.fork==false",
        "!github.event.pull_request.head.repo.fork",
        "github.event.pull_request.user.login=='",
    ];
    if SAME_REPO.iter().any(|g| c.contains(g)) {
        return true;
    }
    if untrusted
        .iter()
        .all(|t| c.contains(&format!("github.event_name!='{t}'")))
    {
        return true;
    }
    // `github.event_name == 'push'` (and nothing or-ed to it).
    !c.contains("||")
        && c.split("github.event_name=='").skip(1).any(|rest| {
            let name = rest.split('\'').next().unwrap_or("");
            !UNTRUSTED.contains(&name)
        })
}

fn job_risk(job: &Job) -> Option<(Span, String)> {
    job.steps.iter().find_map(risky)
}

fn triggers(w: &Workflow) -> Vec<&str> {
    UNTRUSTED
        .iter()
        .copied()
        .filter(|t| w.has_trigger(t))
        .collect()
}

impl Rule for WorkflowOidcUntrustedTrigger {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for m in &ctx.models {
            for w in &m.workflows {
                if w.kind != WorkflowKind::Workflow {
                    continue;
                }
                let trig = triggers(w);
                let Some(first) = trig.first() else { continue };
                let trig_span = w
                    .triggers
                    .iter()
                    .find(|t| t.event == *first)
                    .map(|t| t.span)
                    .unwrap_or_default();
                let on = trig
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(" and ");
                // Jobs inheriting a workflow-level grant are reported once, at that grant.
                let mut inherited: Vec<&Job> = Vec::new();
                for job in &w.jobs {
                    if guarded(job, &trig) {
                        continue;
                    }
                    let Some(p) = w.effective_permissions(job) else {
                        continue;
                    };
                    if p.id_token() != IdToken::Write {
                        continue;
                    }
                    if job.permissions.is_none() {
                        inherited.push(job);
                        continue;
                    }
                    report(out, w, trig_span, &on, grant_span(p), &[job]);
                }
                if let Some(p) = &w.permissions
                    && !inherited.is_empty()
                {
                    report(out, w, trig_span, &on, grant_span(p), &inherited);
                }
            }
        }
    }
}

fn report(out: &mut Vec<Finding>, w: &Workflow, trig: Span, on: &str, at: Span, jobs: &[&Job]) {
    let names = jobs
        .iter()
        .map(|j| format!("`{}`", j.id.value))
        .collect::<Vec<_>>()
        .join(", ");
    let risk = jobs.iter().find_map(|j| job_risk(j).map(|r| (*j, r)));
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
            "{who} {names} can mint OIDC tokens in a workflow triggered by {on}, which runs for pull requests from forks in this repository's context (and matches trust policies pinned to the default branch)"
        )),
    };
    f = f.label("`id-token: write`").related(
        w.file,
        trig,
        "runs with the base repository's identity for events from forks",
    );
    if let Some((_, (span, _))) = &risk {
        f = f.related(w.file, *span, "untrusted code or data enters the job here");
    }
    out.push(f.help(
        "run untrusted code in an unprivileged `pull_request` workflow and keep `id-token: write` out of this one; if it must deploy, gate the job with an environment that requires review and never check out or download the pull request's files",
    ));
}
