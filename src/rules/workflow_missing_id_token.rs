use super::workflow_id_token_too_broad::grant_span;
use super::{Ctx, Rule, RuleMeta};
use crate::analysis::access::oidc_step;
use crate::diag::{Finding, Fix};
use crate::fix::{NewValue, insert_entry};
use crate::model::{IdToken, Job, PermSpec, Permissions, Step, Workflow, WorkflowKind};
use crate::source::FileId;

pub struct WorkflowMissingIdToken;
pub static RULE: WorkflowMissingIdToken = WorkflowMissingIdToken;
static META: RuleMeta = crate::rule_meta!(
    "workflow-missing-id-token",
    Error,
    "A job assumes an AWS role through OIDC but never obtains the ID token (GitHub: no `id-token: write`; GitLab: no `id_tokens` entry)",
    ["workflow", "gitlab-ci"],
    true
);

fn id_token(p: Option<&Permissions>) -> IdToken {
    p.map(|p| p.id_token()).unwrap_or(IdToken::Missing)
}

impl Rule for WorkflowMissingIdToken {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let actions = crate::analysis::subjects::LocalActions::index(ctx);
        for m in &ctx.models {
            for w in &m.workflows {
                if w.kind != WorkflowKind::Workflow {
                    continue;
                }
                if w.has_trigger("workflow_call") {
                    check_callers(ctx, w, out);
                }
                let rel = &ctx.file(w.file).rel;
                for job in &w.jobs {
                    // (a step of its own, or a local composite action assuming the role)
                    let found = job.steps.iter().find_map(|s| {
                        token_use(s, job, w).map(|u| (s, u)).or_else(|| {
                            actions
                                .reached(rel, s)
                                .iter()
                                .any(|(_, _, a)| matches!(a, crate::analysis::access::Access::Oidc))
                                .then_some((s, (AWS, AWS_FAILS)))
                        })
                    });
                    let Some((step, used)) = found else {
                        gcp_job(ctx, w, job, out);
                        continue;
                    };
                    check_job(ctx, w, job, step, used, out);
                }
            }
        }
        check_gitlab(ctx, out);
    }
}

/// GitLab jobs: the token passed to AWS is not an ID token the job declares in `id_tokens:`,
/// or is one of the job JWTs GitLab removed in 17.0 (`CI_JOB_JWT`, `CI_JOB_JWT_V1`,
/// `CI_JOB_JWT_V2`). Such a variable is empty at run time and the call fails.
fn check_gitlab(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    use crate::analysis::gitlab::TokenUse;
    let gl = ctx.gitlab();
    for a in &gl.assumptions {
        let job = &gl.jobs[a.job];
        let (file, span) = a.token_at;
        let (msg, help) = match &a.token {
            TokenUse::Removed(v) => (
                format!(
                    "GitLab job `{}` passes `${v}` to `{}`, but GitLab removed `{v}` in 17.0: the variable is empty and the call fails",
                    job.name.value, a.how
                ),
                "declare an ID token in the job (`id_tokens: AWS_TOKEN: aud: sts.amazonaws.com`, the audience the role's trust and provider accept) and pass `$AWS_TOKEN`".to_string(),
            ),
            TokenUse::Undeclared(v) => (
                format!(
                    "GitLab job `{}` passes `${v}` to `{}`, but the job declares no ID token `{v}` in `id_tokens` (nor defines the variable): the call gets no token and fails",
                    job.name.value, a.how
                ),
                format!(
                    "declare it in the job, or in a template it extends: `id_tokens: {v}: aud: sts.amazonaws.com` (the audience the role's trust and provider accept)"
                ),
            ),
            TokenUse::IdToken(_) | TokenUse::Unknown => continue,
        };
        out.push(
            Finding::new(META.id, META.severity, file, span)
                .message(msg)
                .label("the OIDC token passed to AWS")
                .related(job.file, job.name.span, "the job")
                .help(help),
        );
    }
}

const AWS: &str = "assumes an AWS role through OIDC";
const AWS_FAILS: &str = "configure-aws-credentials fails with \"Credentials could not be loaded\" or falls back to other credentials";

/// What a step requesting a GitHub OIDC token does with it (for messages), and what fails
/// without the token; `None` when it requests none.
fn token_use(step: &Step, job: &Job, w: &Workflow) -> Option<(&'static str, &'static str)> {
    if oidc_step(step, job, w).is_some() {
        return Some((AWS, AWS_FAILS));
    }
    if crate::analysis::azure::oidc_login(step).is_some() {
        return Some((
            "signs in to Azure through OIDC (`azure/login` with `client-id`)",
            "azure/login fails asking to \"give write permissions to id-token in the workflow\"",
        ));
    }
    None
}

fn check_job(
    ctx: &Ctx<'_>,
    w: &Workflow,
    job: &Job,
    step: &Step,
    (what, fails): (&'static str, &'static str),
    out: &mut Vec<Finding>,
) {
    let file = w.file;
    let own = w.effective_permissions(job);
    let span = step.uses.as_ref().map(|u| u.span).unwrap_or(step.span);
    let base = |msg: String| {
        Finding::new(META.id, META.severity, file, span)
            .message(msg)
            .label(if what == AWS {
                "this step requests an OIDC token to assume the role"
            } else {
                "this step requests an OIDC token to sign in"
            })
    };
    // A reusable workflow without its own permissions inherits its caller's: reported at the
    // caller (see `check_callers`). Run by another trigger of its own (`workflow_dispatch`,
    // `push`), it has the default token, which never holds `id-token`.
    if own.is_none()
        && w.has_trigger("workflow_call")
        && w.triggers.iter().all(|t| t.event == "workflow_call")
    {
        return;
    }
    match id_token(own) {
        IdToken::Write | IdToken::Unknown => {}
        IdToken::Missing => {
            let (msg, related) = match (&job.permissions, &w.permissions) {
                (Some(p), _) => (
                    format!(
                        "job `{}` {what}, but its `permissions` block does not grant `id-token: write`",
                        job.id.value
                    ),
                    Some((
                        p.key_span,
                        "the job-level permissions block replaces the workflow's and drops `id-token`",
                    )),
                ),
                (None, Some(p)) => (
                    format!(
                        "job `{}` {what}, but the workflow's `permissions` block does not grant `id-token: write`",
                        job.id.value
                    ),
                    Some((
                        p.key_span,
                        "the workflow-level permissions block lacks `id-token: write`",
                    )),
                ),
                (None, None) => (
                    format!(
                        "job `{}` {what}, but no `permissions` block grants `id-token: write` (the default token has none){}",
                        job.id.value,
                        if w.has_trigger("workflow_call") {
                            "; a caller may grant it, but a run by the workflow's own triggers fails"
                        } else {
                            ""
                        }
                    ),
                    None,
                ),
            };
            let mut f = base(msg).help(format!(
                "add `id-token: write` to the job's permissions; without it {fails}"
            ));
            if let Some((s, m)) = related {
                f = f.related(file, s, m);
            }
            f.fix = fix_for(ctx, file, w, job);
            out.push(f);
        }
    }
}

/// A called workflow's jobs can only keep or reduce the calling job's permissions. When one
/// of them needs `id-token: write` (its own or the called workflow's block asks for it, or it
/// has none and assumes a role through OIDC) and a caller does not grant it, GitHub rejects the
/// run (or the step fails): one finding per calling job, at its `uses:`.
fn check_callers(ctx: &Ctx<'_>, w: &Workflow, out: &mut Vec<Finding>) {
    let need = w
        .jobs
        .iter()
        .find_map(|job| match w.effective_permissions(job) {
            Some(p) if p.id_token() == IdToken::Write => Some((
                grant_span(p),
                format!("its job `{}` requests `id-token: write`", job.id.value),
                "this called job requests `id-token: write`, which the caller does not grant",
            )),
            Some(_) => None,
            None => {
                let (step, (what, _)) = job
                    .steps
                    .iter()
                    .find_map(|s| Some((s, token_use(s, job, w)?)))?;
                Some((
                    step.uses.as_ref().map(|u| u.span).unwrap_or(step.span),
                    format!(
                        "its job `{}` inherits the caller's permissions and {what}",
                        job.id.value
                    ),
                    "this step of the called job requests an OIDC token",
                ))
            }
        });
    let Some((at, why, label)) = need else {
        return;
    };
    for &(cw, cjob) in ctx.callers_of(w.file) {
        if id_token(cw.effective_permissions(cjob)) != IdToken::Missing {
            continue;
        }
        // A calling job with no `permissions` in a workflow that only runs when called has
        // the permissions its own caller grants, which this call does not decide.
        if cw.effective_permissions(cjob).is_none()
            && !cw.triggers.is_empty()
            && cw.triggers.iter().all(|t| t.event == "workflow_call")
        {
            continue;
        }
        let Some(uses) = &cjob.uses else { continue };
        let whose = match (&cjob.permissions, &cw.permissions) {
            (Some(_), _) => "its `permissions` block does not grant `id-token: write`",
            (None, Some(_)) => {
                "the workflow's `permissions` block does not grant `id-token: write`"
            }
            (None, None) => {
                "no `permissions` block grants `id-token: write` (the default token has none)"
            }
        };
        let mut f = Finding::new(META.id, META.severity, cw.file, uses.span)
            .message(format!(
                "job `{}` calls {}, and {why}, but {whose}: a called workflow cannot raise its caller's permissions, so the run fails",
                cjob.id.value,
                ctx.file(w.file).rel
            ))
            .label("this call does not pass `id-token: write`")
            .related(w.file, at, label)
            .help("grant `id-token: write` in the calling job's `permissions` block");
        f.fix = fix_for(ctx, cw.file, cw, cjob);
        out.push(f);
    }
}

/// Add `id-token: write` where it takes effect for this job.
fn fix_for(ctx: &Ctx<'_>, file: FileId, w: &Workflow, job: &Job) -> Option<Fix> {
    let src = ctx.file(file);
    let write = NewValue::Str("write".into());
    if let Some(p) = &job.permissions {
        let PermSpec::Map(_) = p.spec else {
            return None;
        };
        let e = insert_entry(src, p.block.as_ref()?, "id-token", &write)?;
        return Some(Fix {
            description: format!(
                "add `id-token: write` to job `{}`'s permissions",
                job.id.value
            ),
            safe: true,
            edits: vec![e],
        });
    }
    let block = job.block.as_ref()?;
    match w.permissions.as_ref().map(|p| &p.spec) {
        // Copy the workflow's scopes into a job-level block, plus id-token: the job keeps
        // exactly what it had and gains the token.
        Some(PermSpec::Map(scopes)) => {
            let mut entries: Vec<(String, NewValue)> = scopes
                .iter()
                .filter(|(k, _)| k != "id-token")
                .map(|(k, v)| (k.clone(), NewValue::Str(v.value.clone())))
                .collect();
            entries.push(("id-token".into(), write));
            let e = insert_entry(src, block, "permissions", &NewValue::Map(entries))?;
            Some(Fix {
                description: format!(
                    "give job `{}` its own permissions: the workflow's plus `id-token: write`",
                    job.id.value
                ),
                safe: true,
                edits: vec![e],
            })
        }
        None => {
            let e = insert_entry(
                src,
                block,
                "permissions",
                &NewValue::Map(vec![
                    ("id-token".into(), write),
                    ("contents".into(), NewValue::Str("read".into())),
                ]),
            )?;
            Some(Fix {
                description: format!(
                    "add `permissions: {{id-token: write, contents: read}}` to job `{}` (other scopes become none)",
                    job.id.value
                ),
                safe: false,
                edits: vec![e],
            })
        }
        _ => None,
    }
}

/// Google Cloud: a `google-github-actions/auth` step using workload identity federation needs
/// the token as much as an AWS role assumption does; the finding is worded for it.
fn gcp_job(ctx: &Ctx<'_>, w: &Workflow, job: &Job, out: &mut Vec<Finding>) {
    let Some(step) = job
        .steps
        .iter()
        .find(|s| crate::analysis::access::gcp_oidc_step(s).is_some())
    else {
        return;
    };
    let before = out.len();
    check_job(ctx, w, job, step, (AWS, AWS_FAILS), out);
    for f in &mut out[before..] {
        f.message = f.message.replace(
            "assumes an AWS role through OIDC",
            "authenticates to Google Cloud through workload identity federation",
        );
        f.label = "this step requests an OIDC token to impersonate the service account".into();
        f.help = "add `id-token: write` to the job's permissions; without it GitHub does not give the job `ACTIONS_ID_TOKEN_REQUEST_URL`/`ACTIONS_ID_TOKEN_REQUEST_TOKEN` and google-github-actions/auth fails".into();
    }
}
