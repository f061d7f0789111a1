use super::{Ctx, Rule, RuleMeta};
use crate::analysis::issuers::github::is_retired_issuer;
use crate::analysis::issuers::{Registry, literal_federated_hosts};
use crate::diag::Finding;

pub struct TrustIssuerMismatch;
pub static RULE: TrustIssuerMismatch = TrustIssuerMismatch;
static META: RuleMeta = crate::rule_meta!(
    "trust-issuer-mismatch",
    Error,
    "Condition keys name a different issuer (another GitHub issuer, GitLab, HCP Terraform, …) than the `Federated` provider, so they never match",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

impl Rule for TrustIssuerMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let registry = Registry::new(&ctx.settings.custom_issuers);
        for t in ctx.ci_trusts() {
            let s = t.statement;
            // Every issuer the statement trusts (a statement may list several), when all are
            // literal hosts. A provider host no issuer owns (a typo, a test URL) is
            // provider-url-invalid's concern; the keys are compared only between issuers
            // oidc-lint knows.
            let Some(trusted) = literal_federated_hosts(s) else {
                continue;
            };
            if !trusted.iter().all(|h| registry.recognize(h).is_some()) {
                continue;
            }
            // Only GitHub's retired beta issuer: the statement is dead whatever its keys say
            // (trust-sub-never-matches), and its keys are no correction.
            if trusted.iter().all(|h| is_retired_issuer(h)) {
                continue;
            }
            for c in &s.conditions {
                let Some((prefix, claim)) = c.key.value.rsplit_once(':') else {
                    continue;
                };
                let prefix_l = prefix.to_ascii_lowercase();
                if prefix_l.contains("${")
                    || registry.recognize(&prefix_l).is_none()
                    || trusted.contains(&prefix_l)
                {
                    continue;
                }
                let principal = t
                    .principal
                    .map(|p| p.value.display())
                    .unwrap_or_else(|| trusted[0].clone());
                let op = c.op();
                let effect = if !op.is_positive_string_match() {
                    "the key is never in the request, so this condition always passes".to_string()
                } else if t.ci.is_github() {
                    "this condition can never be satisfied, so no workflow can assume the role"
                        .to_string()
                } else {
                    format!(
                        "this condition can never be satisfied, so no {} token can assume the role",
                        t.ci.name
                    )
                };
                let retired = if is_retired_issuer(prefix) {
                    " (GitHub's beta issuer, retired in October 2021)"
                } else {
                    ""
                };
                out.push(
                    Finding::new(META.id, META.severity, t.policy.file, c.key.span)
                        .message(format!(
                            "`{}` is a key of issuer `{prefix}`{retired}, but {} trusts `{principal}` (issuer `{}`): {effect}",
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
