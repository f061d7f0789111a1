use super::{Ctx, Rule, RuleMeta};
use crate::analysis::azure::{self, GITHUB_ISSUER};
use crate::diag::Finding;
use crate::model::azure::FederatedCredential;
use std::collections::BTreeSet;

pub struct AzureFicWrongIssuerOrAudience;
pub static RULE: AzureFicWrongIssuerOrAudience = AzureFicWrongIssuerOrAudience;
static META: RuleMeta = crate::rule_meta!(
    "azure-fic-wrong-issuer-or-audience",
    Error,
    "An Azure federated identity credential for GitHub Actions has an issuer or audience GitHub's tokens never carry",
    ["terraform"],
    false
);

/// A subject in GitHub's default shape (`repo:OWNER/REPO:…`).
fn github_subject(c: &FederatedCredential) -> bool {
    c.subject
        .as_ref()
        .is_some_and(|s| s.value.known_prefix().starts_with("repo:"))
        || c.claims_expression
            .as_ref()
            .is_some_and(|e| e.value.known_prefix().contains("'repo:"))
}

/// An issuer GitHub issues tokens under: the default, an enterprise's own
/// (`…/ENTERPRISE`), GHE.com (`https://token.actions.NAME.ghe.com`), GHES (`…/_services/token`).
fn github_issuer(i: &str) -> bool {
    azure::issuer_problem(i).is_none()
        && (i.starts_with(GITHUB_ISSUER)
            || (i.starts_with("https://token.actions.") && i.ends_with(".ghe.com"))
            || i.ends_with("/_services/token"))
}

impl Rule for AzureFicWrongIssuerOrAudience {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        // Audiences some `azure/login` step of the scan requests explicitly.
        let mut requested: BTreeSet<String> = BTreeSet::new();
        let mut any_login = false;
        for m in &ctx.models {
            for w in &m.workflows {
                for j in &w.jobs {
                    for s in &j.steps {
                        if azure::oidc_login(s).is_some() {
                            any_login = true;
                            if let Some(a) = azure::login_audience(s) {
                                requested.insert(a);
                            }
                        }
                    }
                }
            }
        }
        for m in &ctx.models {
            for c in &m.azure.credentials {
                let issuer = c
                    .issuer
                    .as_ref()
                    .and_then(|i| i.value.known().map(|k| (k, i.span)));
                let mut for_github = github_subject(c);
                if let Some((i, span)) = &issuer {
                    if let Some(problem) = azure::issuer_problem(i) {
                        out.push(
                            Finding::new(META.id, META.severity, c.file, *span)
                                .message(format!(
                                    "the issuer `{i}` of federated identity credential `{}` {problem}: no GitHub token is ever exchanged",
                                    c.owner
                                ))
                                .label("not GitHub's issuer as the token carries it")
                                .help(format!("set the issuer to exactly `{GITHUB_ISSUER}`")),
                        );
                        continue;
                    }
                    if github_issuer(i) {
                        for_github = true;
                    } else if for_github {
                        out.push(
                            Finding::new(META.id, META.severity, c.file, *span)
                                .message(format!(
                                    "federated identity credential `{}` admits a GitHub Actions subject but trusts the issuer `{i}`: GitHub's tokens carry `{GITHUB_ISSUER}`, so it never matches",
                                    c.owner
                                ))
                                .label("not GitHub's issuer")
                                .help(format!("set the issuer to `{GITHUB_ISSUER}` (or your enterprise's own issuer)")),
                        );
                        continue;
                    }
                }
                if !for_github {
                    continue;
                }
                let Some(auds) = &c.audiences else { continue };
                for a in auds {
                    let Some(k) = a.value.known() else { continue };
                    if azure::documented_audience(&k).is_some() || requested.contains(&k) {
                        continue;
                    }
                    // A custom audience is judged only against the workflows of the scan: with
                    // none here, they may live in another repository and request it.
                    let hint = match azure::near_audience(&k) {
                        Some(n) => format!("did you mean `{n}`? Entra compares audiences exactly"),
                        None if !any_login => continue,
                        None => format!(
                            "`azure/login` requests `{}` unless its `audience:` input says otherwise, and no workflow in the scan requests `{k}`",
                            azure::DEFAULT_AUDIENCE
                        ),
                    };
                    let clouds: Vec<String> = azure::AUDIENCES
                        .iter()
                        .take(3)
                        .map(|(x, c)| format!("`{x}` ({c})"))
                        .collect();
                    out.push(
                        Finding::new(META.id, META.severity, c.file, a.span)
                            .message(format!(
                                "federated identity credential `{}` lists the audience `{k}`, which GitHub tokens for Azure do not carry: {hint}",
                                c.owner
                            ))
                            .label("not a token-exchange audience")
                            .help(format!("use the token-exchange audience of your cloud: {}", clouds.join(", "))),
                    );
                }
            }
        }
    }
}
