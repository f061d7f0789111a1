use super::{Ctx, Rule, RuleMeta};
use crate::analysis::subjects::{self, describe_condition};
use crate::diag::Finding;

pub struct RoleAudienceMismatch;
pub static RULE: RoleAudienceMismatch = RoleAudienceMismatch;
static META: RuleMeta = crate::rule_meta!(
    "role-audience-mismatch",
    Error,
    "A job requests an OIDC audience that the assumed role's trust policy or the scan's OIDC provider does not admit",
    ["workflow", "iam-json", "terraform", "cloudformation"],
    false
);

impl Rule for RoleAudienceMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let an = ctx.analysis();
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
            let Some(p) = subjects::provider_rejection(ctx.providers(), trust, aud) else {
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
    }
}
