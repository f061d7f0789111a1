use super::{Ctx, Rule, RuleMeta};
use crate::analysis::trust::{federated_issuer, is_github_issuer};
use crate::diag::Finding;

pub struct TrustIssuerMismatch;
pub static RULE: TrustIssuerMismatch = TrustIssuerMismatch;
static META: RuleMeta = crate::rule_meta!(
    "trust-issuer-mismatch",
    Error,
    "Condition keys name a different GitHub issuer than the `Federated` provider, so they never match",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

impl Rule for TrustIssuerMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for t in ctx.trusts() {
            let s = t.statement;
            // Every GitHub issuer the statement trusts (a statement may list several).
            let trusted: Vec<String> = s
                .principals
                .iter()
                .filter(|p| p.kind == "Federated")
                .filter_map(|p| federated_issuer(&p.value.value))
                .map(|i| i.to_ascii_lowercase())
                .collect();
            if trusted.is_empty() {
                // The provider is only known at apply time: the keys name the issuer.
                continue;
            }
            for c in &s.conditions {
                let Some((prefix, claim)) = c.key.value.rsplit_once(':') else {
                    continue;
                };
                let prefix_l = prefix.to_ascii_lowercase();
                if !is_github_issuer(&prefix_l) || trusted.contains(&prefix_l) {
                    continue;
                }
                let principal = t
                    .principal
                    .map(|p| p.value.display())
                    .unwrap_or_else(|| trusted[0].clone());
                let op = c.op();
                let effect = if op.is_positive_string_match() {
                    "this condition can never be satisfied, so no workflow can assume the role"
                } else {
                    "the key is never in the request, so this condition always passes"
                };
                out.push(
                    Finding::new(META.id, META.severity, t.policy.file, c.key.span)
                        .message(format!(
                            "`{}` is a key of issuer `{prefix}`, but {} trusts `{principal}` (issuer `{}`): {effect}",
                            c.key.value, t.policy.owner, trusted[0]
                        ))
                        .label("condition key for another issuer")
                        .related(
                            t.policy.file,
                            t.principal.map(|p| p.span).or(s.principal_span).unwrap_or(s.span),
                            "the trusted provider",
                        )
                        .help(format!(
                            "condition keys are the provider URL without `https://`: use `{}:{claim}`",
                            trusted[0]
                        )),
                );
            }
        }
    }
}
