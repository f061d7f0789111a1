use super::{Ctx, Rule, RuleMeta};
use crate::analysis::trust::{is_github_issuer, requested_audiences};
use crate::diag::Finding;
use crate::model::glob_match;

pub struct TrustAudMismatch;
pub static RULE: TrustAudMismatch = TrustAudMismatch;
static META: RuleMeta = crate::rule_meta!(
    "trust-aud-mismatch",
    Error,
    "The `aud` condition accepts none of the audiences GitHub tokens for AWS carry (`sts.amazonaws.com` or the workflows' `audience`)",
    [
        "iam-json",
        "terraform",
        "terraform-plan",
        "cloudformation",
        "workflow"
    ],
    false
);

impl Rule for TrustAudMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let requested = requested_audiences(ctx);
        // Client ids of GitHub providers in the scan: an audience registered there is
        // deliberate even when no scanned workflow requests it.
        let mut registered: Vec<String> = Vec::new();
        for p in ctx.models.iter().flat_map(|m| &m.providers) {
            let github = p
                .url
                .as_ref()
                .and_then(|u| u.value.known())
                .is_some_and(|u| {
                    is_github_issuer(u.trim_start_matches("https://").trim_end_matches('/'))
                });
            if github && let Some(ids) = &p.client_ids {
                registered.extend(ids.iter().filter_map(|i| i.value.known()));
            }
        }
        registered.sort();
        registered.dedup();
        for t in ctx.trusts() {
            if !t.can_admit() {
                continue;
            }
            let default = if t.china() {
                "sts.amazonaws.com.cn"
            } else {
                "sts.amazonaws.com"
            };
            let accepted = std::iter::once(default)
                .chain(requested.custom.iter().map(String::as_str))
                .chain(registered.iter().map(String::as_str));
            for c in t.positive("aud") {
                let op = c.op();
                // Any unknown value could be the right one.
                let Some(values) = c
                    .values
                    .iter()
                    .map(|v| v.value.known())
                    .collect::<Option<Vec<String>>>()
                else {
                    continue;
                };
                let matches = |v: &str, a: &str| {
                    if op.is_like() {
                        glob_match(v, a)
                    } else if op.base.eq_ignore_ascii_case("StringEqualsIgnoreCase") {
                        v.eq_ignore_ascii_case(a)
                    } else {
                        v == a
                    }
                };
                if values
                    .iter()
                    .any(|v| accepted.clone().any(|a| matches(v, a)))
                {
                    continue;
                }
                // A workflow audience given as an expression may be anything.
                if requested.unknown {
                    continue;
                }
                let shown: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
                let wanted = {
                    let mut w = requested.all(default);
                    if w.is_empty() {
                        w.push(default.to_string());
                    }
                    w.iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let span = c.values.first().map(|v| v.span).unwrap_or(c.values_span);
                out.push(
                    Finding::new(META.id, META.severity, t.policy.file, span)
                        .message(format!(
                            "`{}` accepts only {}, but tokens for AWS carry {wanted}: no workflow can assume {}",
                            c.key.value,
                            shown.join(", "),
                            t.policy.owner
                        ))
                        .label("no requested audience matches")
                        .related(t.policy.file, c.key.span, "the audience condition")
                        .help(format!(
                            "set `{}` to {wanted} (configure-aws-credentials requests `sts.amazonaws.com` unless its `audience` input says otherwise; China regions use `sts.amazonaws.com.cn`)",
                            c.key.value
                        )),
                );
            }
        }
    }
}
