use super::{Ctx, Rule, RuleMeta};
use crate::diag::{Edit, Finding, Fix, Severity};
use crate::fix::{NewValue, insert_entry};
use crate::model::{IdToken, Job, PermSpec, Permissions, Step, Workflow, WorkflowKind};
use crate::source::Span;

pub struct WorkflowIdTokenTooBroad;
pub static RULE: WorkflowIdTokenTooBroad = WorkflowIdTokenTooBroad;
static META: RuleMeta = crate::rule_meta!(
    "workflow-id-token-too-broad",
    Warning,
    "`id-token: write` is granted at workflow level, so jobs that never use AWS can mint OIDC tokens too",
    ["workflow"],
    true
);

/// Actions known to request an OIDC token themselves.
const TOKEN_ACTIONS: &[&str] = &[
    "aws-actions/configure-aws-credentials",
    "pypa/gh-action-pypi-publish",
    "google-github-actions/auth",
    "azure/login",
    "hashicorp/vault-action",
    "ossf/scorecard-action",
    "codecov/codecov-action",
    "actions/github-script",
    "octo-sts/action",
    "docker://",
];

/// Could this step use the job's OIDC token? Known token consumers, local or Docker actions
/// (their contents are not followed), and scripts that talk to the token endpoint.
fn step_may_use_token(step: &Step) -> bool {
    if let Some(a) = step.action() {
        if a.starts_with("./") || a.starts_with("docker://") {
            return true;
        }
        let owner = a.split('/').next().unwrap_or("");
        if TOKEN_ACTIONS.iter().any(|t| a.starts_with(t))
            || matches!(owner, "sigstore" | "aws-actions")
            || a.starts_with("actions/attest")
        {
            return true;
        }
    }
    if let Some(run) = &step.run {
        let r = run.value.to_ascii_lowercase();
        if [
            "actions_id_token",
            "id-token",
            "idtoken",
            "id_token",
            "oidc",
            "--provenance",
            "trusted publish",
            "cosign",
            "sigstore",
        ]
        .iter()
        .any(|k| r.contains(k))
        {
            return true;
        }
    }
    step.env
        .iter()
        .any(|e| e.key.to_ascii_uppercase().contains("ID_TOKEN") || e.key == "ROLE_TO_ASSUME")
}

/// Could this job use an OIDC token? Calls of reusable workflows inherit the grant and are
/// not followed, so they count as users.
pub fn job_may_use_token(job: &Job) -> bool {
    job.uses.is_some()
        || job.steps.iter().any(step_may_use_token)
        || job.env.iter().any(|e| e.key == "ROLE_TO_ASSUME")
}

/// Does a job of `w` reach AWS: a configure-aws-credentials step of its own, one inside a
/// local composite action it runs (the role analysis follows `uses: ./…`), or one in a local
/// reusable workflow of the scan it calls (`uses: ./.github/workflows/…`, followed a few calls
/// deep)?
fn uses_aws(ctx: &Ctx<'_>, w: &Workflow) -> bool {
    reaches_aws(ctx, w, 0)
}

fn reaches_aws(ctx: &Ctx<'_>, w: &Workflow, depth: usize) -> bool {
    if w.jobs
        .iter()
        .any(|j| j.steps.iter().any(|s| s.is_configure_aws_credentials()))
        || ctx
            .analysis()
            .assumptions
            .iter()
            .any(|a| a.through.is_some() && std::ptr::eq(a.workflow, w))
    {
        return true;
    }
    if depth >= 4 {
        return false;
    }
    let rel = &ctx.file(w.file).rel;
    w.jobs
        .iter()
        .filter_map(|j| j.local_callee(rel))
        .any(|callee_rel| {
            local_workflow(ctx, &callee_rel)
                .is_some_and(|c| !std::ptr::eq(c, w) && reaches_aws(ctx, c, depth + 1))
        })
}

/// The workflow of the scan at `rel` (a reusable workflow a job calls).
fn local_workflow<'c>(ctx: &'c Ctx<'_>, rel: &str) -> Option<&'c Workflow> {
    ctx.models
        .iter()
        .flat_map(|m| &m.workflows)
        .find(|c| c.kind == WorkflowKind::Workflow && ctx.file(c.file).rel == rel)
}

/// `id-token: write` in the `permissions` of a job calling a reusable workflow of the scan none
/// of whose jobs can request a token: a note (the grant is job-level, but the called
/// workflow's steps get a token they never use).
fn check_calls(ctx: &Ctx<'_>, w: &Workflow, out: &mut Vec<Finding>) {
    let rel = &ctx.file(w.file).rel;
    for job in &w.jobs {
        let Some(p) = &job.permissions else { continue };
        if p.id_token() != IdToken::Write {
            continue;
        }
        let Some(callee_rel) = job.local_callee(rel) else {
            continue;
        };
        let Some(callee) = local_workflow(ctx, &callee_rel) else {
            continue;
        };
        // A called job that asks for the token itself needs the caller's grant (GitHub rejects
        // the run otherwise); one that inherits it may use it.
        let may_use = callee
            .jobs
            .iter()
            .any(|j| match callee.effective_permissions(j) {
                Some(p) => p.id_token() != IdToken::Missing,
                None => job_may_use_token(j),
            });
        if may_use {
            continue;
        }
        out.push(
            Finding::new(META.id, Severity::Note, w.file, grant_span(p))
                .message(format!(
                    "job `{}` grants `id-token: write` to {callee_rel}, but no job there requests an OIDC token",
                    job.id.value
                ))
                .label("not used by the called workflow")
                .related(callee.file, callee.jobs.first().map(|j| j.id.span).unwrap_or_default(), "the called workflow's jobs use no token")
                .help("drop `id-token: write` from this job's permissions"),
        );
    }
}

/// The `id-token: write` value in a permissions block, or the block for `write-all`.
pub fn grant_span(p: &Permissions) -> Span {
    match &p.spec {
        PermSpec::Map(scopes) => scopes
            .iter()
            .rev()
            .find(|(k, _)| k == "id-token")
            .map(|(_, v)| v.span)
            .unwrap_or(p.span),
        _ => p.span,
    }
}

/// Remove the workflow-level `id-token: write` line and give each job that may use the token a
/// block of its own with the workflow's scopes: those jobs keep exactly what they had.
fn fix(ctx: &Ctx<'_>, w: &Workflow, wp: &Permissions, users: &[&Job]) -> Option<Fix> {
    let PermSpec::Map(scopes) = &wp.spec else {
        return None;
    };
    let src = ctx.file(w.file);
    let value = grant_span(wp);
    // The entry must sit alone on its line in a block mapping.
    let text = &src.text;
    let vs = value.start as usize;
    let line_start = text[..vs].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = text[vs..]
        .find('\n')
        .map(|i| vs + i + 1)
        .unwrap_or(text.len());
    let line = text[line_start..line_end].trim();
    let key_ok = ["id-token:", "\"id-token\":", "'id-token':"]
        .iter()
        .any(|k| line.starts_with(k));
    if !key_ok || line.contains(['{', '}', ',']) {
        return None;
    }
    let mut edits = vec![Edit {
        file: w.file,
        span: Span::new(line_start, line_end),
        replacement: String::new(),
    }];
    let entries: Vec<(String, NewValue)> = scopes
        .iter()
        .map(|(k, v)| (k.clone(), NewValue::Str(v.value.clone())))
        .collect();
    for j in users {
        edits.push(insert_entry(
            src,
            j.block.as_ref()?,
            "permissions",
            &NewValue::Map(entries.clone()),
        )?);
    }
    let description = if users.is_empty() {
        "remove the workflow-level `id-token: write` (no job inheriting it uses a token)"
            .to_string()
    } else {
        format!(
            "move `id-token: write` from the workflow to job{} {}",
            if users.len() == 1 { "" } else { "s" },
            users
                .iter()
                .map(|j| format!("`{}`", j.id.value))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Some(Fix {
        description,
        safe: false,
        edits,
    })
}

impl Rule for WorkflowIdTokenTooBroad {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for m in &ctx.models {
            for w in &m.workflows {
                if w.kind != WorkflowKind::Workflow {
                    continue;
                }
                check_calls(ctx, w, out);
                let Some(wp) = &w.permissions else { continue };
                if wp.id_token() != IdToken::Write || !uses_aws(ctx, w) {
                    continue;
                }
                let inheriting: Vec<&Job> =
                    w.jobs.iter().filter(|j| j.permissions.is_none()).collect();
                let (users, idle): (Vec<&Job>, Vec<&Job>) =
                    inheriting.into_iter().partition(|j| job_may_use_token(j));
                if idle.is_empty() {
                    continue;
                }
                let names = idle
                    .iter()
                    .map(|j| format!("`{}`", j.id.value))
                    .collect::<Vec<_>>()
                    .join(", ");
                let granted = if matches!(wp.spec, PermSpec::WriteAll) {
                    "`permissions: write-all` grants `id-token: write`"
                } else {
                    "`id-token: write` is granted"
                };
                let mut f = Finding::new(META.id, META.severity, w.file, grant_span(wp))
                    .message(format!(
                        "{granted} at workflow level, so job{} {names} can mint OIDC tokens although {} never use{} AWS or another token consumer",
                        if idle.len() == 1 { "" } else { "s" },
                        if idle.len() == 1 { "it" } else { "they" },
                        if idle.len() == 1 { "s" } else { "" },
                    ))
                    .label("granted to every job")
                    .help("grant `id-token: write` only in the `permissions` of the jobs that assume the AWS role; any step of the other jobs (third-party actions, build scripts) can otherwise request tokens")
                    .fix(fix(ctx, w, wp, &users));
                for j in &idle {
                    f = f.related(
                        w.file,
                        j.id.span,
                        "this job gets the token but does not use it",
                    );
                }
                out.push(f);
            }
        }
    }
}
