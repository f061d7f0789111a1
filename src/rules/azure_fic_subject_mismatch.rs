use super::{Ctx, Rule, RuleMeta};
use crate::analysis::azure::{self, DEFAULT_AUDIENCE, GITHUB_ISSUER};
use crate::analysis::eval::Tri;
use crate::diag::Finding;

pub struct AzureFicSubjectMismatch;
pub static RULE: AzureFicSubjectMismatch = AzureFicSubjectMismatch;
static META: RuleMeta = crate::rule_meta!(
    "azure-fic-subject-mismatch",
    Error,
    "A job signs in to Azure with `azure/login` as an identity none of whose federated identity credentials admits the subject the job presents",
    ["workflow", "terraform"],
    false
);

impl Rule for AzureFicSubjectMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        if ctx.models.iter().all(|m| m.azure.credentials.is_empty()) {
            return;
        }
        let an = azure::analyze(ctx, ctx.callers());
        for l in &an.logins {
            let Some(v) = an.judge(l) else { continue };
            if !v.rejects_all() {
                continue;
            }
            let subs: Vec<String> = l
                .subjects
                .iter()
                .map(|s| azure::show(s, &v.repo, an.form))
                .collect();
            let first = &subs[0];
            let more = match subs.len() {
                1 => String::new(),
                2 => " (and 1 other subject)".to_string(),
                n => format!(" (and {} other subjects)", n - 1),
            };
            let ident = v.identity;
            let ident_rel = &ctx.file(ident.file).rel;
            let aud = l.audience.as_deref().unwrap_or(DEFAULT_AUDIENCE);
            let github: Vec<_> = v
                .credentials
                .iter()
                .filter(|c| {
                    c.issuer.as_ref().is_some_and(|i| {
                        i.value.known().is_none_or(|k| k.starts_with(GITHUB_ISSUER))
                    })
                })
                .collect();
            let why = if github.is_empty() {
                format!(
                    "none of its {} federated identity credential(s) has GitHub's issuer `{GITHUB_ISSUER}`",
                    v.credentials.len()
                )
            } else if github.iter().all(|c| {
                c.audiences
                    .as_ref()
                    .is_some_and(|a| a.iter().all(|x| x.value.known().is_some_and(|k| k != aud)))
            }) {
                format!(
                    "none of its credentials for GitHub lists the audience `{aud}` the step requests"
                )
            } else {
                let listed: Vec<String> = github
                    .iter()
                    .filter_map(|c| {
                        c.subject
                            .as_ref()
                            .map(|s| format!("`{}`", s.value.display()))
                            .or_else(|| {
                                c.claims_expression
                                    .as_ref()
                                    .map(|e| format!("`{}`", e.value.display()))
                            })
                    })
                    .take(4)
                    .collect();
                format!(
                    "its credentials admit only {} (Entra compares the subject exactly, letter case included)",
                    listed.join(", ")
                )
            };
            let mut f = Finding::new(META.id, META.severity, l.file, l.client_id_span)
                .message(format!(
                    "job `{}` signs in to Azure as `{}` ({ident_rel}) and presents `{first}`{more}, which no federated identity credential of that identity admits: {why}",
                    l.job.id.value, ident.owner
                ))
                .label(format!("signs in as `{}`", ident.owner))
                .help(format!(
                    "add a federated identity credential to `{}` with issuer `{GITHUB_ISSUER}`, subject `{first}` and audience `{aud}`, or run the job in an environment (`environment:`) whose credential exists",
                    ident.owner
                ));
            let mut shown = std::collections::BTreeSet::new();
            for c in v.credentials.iter() {
                if shown.len() == 3 {
                    break;
                }
                let (span, what) = match (&c.subject, &c.claims_expression) {
                    (Some(s), _) => (
                        s.span,
                        format!("`{}` admits `{}`", c.owner, s.value.display()),
                    ),
                    (None, Some(e)) => (
                        e.span,
                        format!("`{}` admits `{}`", c.owner, e.value.display()),
                    ),
                    (None, None) => (c.span, format!("`{}` has no subject", c.owner)),
                };
                // instances of one `for_each` block share its text
                if !shown.insert((c.file, span.start, span.end)) {
                    continue;
                }
                f = f.related(c.file, span, what);
            }
            if let Some(env) = &l.job.environment {
                f = f.related(
                    l.file,
                    env.span,
                    "`environment:` makes the subject `…:environment:NAME` for every event",
                );
            }
            debug_assert!(v.admits.iter().all(|t| *t == Tri::False));
            out.push(f);
        }
    }
}
