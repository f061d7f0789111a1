use super::{Ctx, Rule, RuleMeta};
use crate::analysis::subjects::{self, describe_condition};
use crate::diag::Finding;

pub struct RoleAudienceMismatch;
pub static RULE: RoleAudienceMismatch = RoleAudienceMismatch;
static META: RuleMeta = crate::rule_meta!(
    "role-audience-mismatch",
    Error,
    "A job requests an OIDC audience that the assumed role's trust policy or the scan's OIDC provider does not admit",
    [
        "workflow",
        "gitlab-ci",
        "iam-json",
        "terraform",
        "cloudformation"
    ],
    false
);

impl Rule for RoleAudienceMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let an = ctx.analysis();
        // Many jobs assume the same role with the same audience: the provider check is made
        // once per (trust policy, audience).
        let mut provider_checked: std::collections::HashMap<
            (*const crate::model::PolicyDoc, &str),
            Option<&crate::model::OidcProvider>,
        > = Default::default();
        for (a, j) in an.assumptions.iter().zip(ctx.judged()) {
            let Some(j) = j else { continue };
            let Some(aud) = &a.audience else { continue };
            let (role, trust) = (&an.roles[j.role], j.trust);
            let (span, label) = match a.audience_span {
                Some(s) => (s, "the audience this job requests".to_string()),
                None => (
                    a.role_span,
                    format!("requests the default audience `{aud}`"),
                ),
            };
            let requested = if a.audience_span.is_some() {
                format!("the audience `{aud}`")
            } else {
                format!("the default audience `{aud}`")
            };
            if let Some(c) = j.audience_rejection {
                out.push(
                    Finding::new(META.id, META.severity, a.file, span)
                        .message(format!(
                            "job `{}` requests {requested}, which the trust policy of role `{}` does not admit: {}",
                            a.job.id.value,
                            role.name,
                            describe_condition(c)
                        ))
                        .label(label)
                        .related(trust.file, c.values_span, format!("this condition rejects the audience `{aud}`"))
                        .help(format!(
                            "add `{aud}` to the values of `{}`, or request an admitted audience with the step's `audience` input",
                            c.key.value
                        )),
                );
                continue;
            }
            let rejected = *provider_checked
                .entry((trust as *const _, aud.as_str()))
                .or_insert_with(|| subjects::provider_rejection(ctx.providers(), trust, aud));
            let Some(p) = rejected else {
                continue;
            };
            let ids: Vec<String> = p
                .client_ids
                .iter()
                .flatten()
                .map(|i| format!("`{}`", i.value.display()))
                .collect();
            out.push(
                Finding::new(META.id, META.severity, a.file, span)
                    .message(format!(
                        "job `{}` requests {requested}, but the OIDC provider `{}` only accepts {}",
                        a.job.id.value,
                        p.owner,
                        if ids.is_empty() {
                            "no audience".to_string()
                        } else {
                            ids.join(", ")
                        }
                    ))
                    .label(label)
                    .related(
                        p.file,
                        p.client_ids_span.unwrap_or(p.span),
                        format!("the provider's client ids lack `{aud}`"),
                    )
                    .help(format!(
                        "add `{aud}` to the provider's client id list, or request one it accepts"
                    )),
            );
        }
        check_gitlab(ctx, out);
    }
}

/// GitLab jobs: every `aud` of the job's ID token (`id_tokens: NAME: aud:`) rejected by the
/// role's trust or by the provider's client id list. (A list is admitted when any value is.)
fn check_gitlab(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    use crate::analysis::gitlab::{TokenUse, provider_rejection};
    let gl = ctx.gitlab();
    let roles = &ctx.analysis().roles;
    for (a, j) in gl.assumptions.iter().zip(ctx.gitlab_judged()) {
        let Some(j) = j else { continue };
        let TokenUse::IdToken(tok) = &a.token else {
            continue;
        };
        let Some(auds) = a.audiences() else { continue };
        let job = &gl.jobs[a.job];
        let Some((file, _)) = job
            .id_tokens
            .iter()
            .flatten()
            .find(|(_, t)| t.name.value == tok.name.value)
        else {
            continue;
        };
        let role = &roles[j.role];
        let shown = auds
            .iter()
            .map(|x| format!("`{x}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let requested = if auds.len() == 1 {
            format!("the audience {shown}")
        } else {
            format!("the audiences {shown}")
        };
        let who = format!("GitLab job `{}`", job.name.value);
        let label = format!("the audience of ID token `{}`", tok.name.value);
        if let Some(c) = j.audience_rejection() {
            out.push(
                Finding::new(META.id, META.severity, *file, tok.aud_span)
                    .message(format!(
                        "{who} requests {requested}, which the trust policy of role `{}` does not admit: {}",
                        role.name,
                        describe_condition(c)
                    ))
                    .label(label)
                    .related(j.trust.file, c.values_span, "this condition rejects the job's audience")
                    .help(format!(
                        "set `aud:` of `{}` to a value `{}` admits, or add {shown} to its values",
                        tok.name.value, c.key.value
                    )),
            );
            continue;
        }
        let Some(p) = provider_rejection(ctx.providers(), &j.issuer, &auds) else {
            continue;
        };
        let ids: Vec<String> = p
            .client_ids
            .iter()
            .flatten()
            .map(|i| format!("`{}`", i.value.display()))
            .collect();
        out.push(
            Finding::new(META.id, META.severity, *file, tok.aud_span)
                .message(format!(
                    "{who} requests {requested}, but the OIDC provider `{}` only accepts {}",
                    p.owner,
                    if ids.is_empty() {
                        "no audience".to_string()
                    } else {
                        ids.join(", ")
                    }
                ))
                .label(label)
                .related(
                    p.file,
                    p.client_ids_span.unwrap_or(p.span),
                    "the provider's client ids lack the job's audience",
                )
                .help(format!(
                    "set `aud:` of `{}` to a client id the provider lists, or add it to the provider",
                    tok.name.value
                )),
        );
    }
}
