use super::{Ctx, Rule, RuleMeta};
use crate::diag::Finding;

pub struct ProviderUrlInvalid;
pub static RULE: ProviderUrlInvalid = ProviderUrlInvalid;
static META: RuleMeta = crate::rule_meta!(
    "provider-url-invalid",
    Error,
    "A GitHub OIDC provider URL is not exactly `https://token.actions.githubusercontent.com` (or a documented enterprise form)",
    [
        "terraform",
        "terraform-plan",
        "cloudformation",
        "aws-export"
    ],
    false
);

const DEFAULT_HOST: &str = "token.actions.githubusercontent.com";

/// Levenshtein distance, for hosts that are typos of GitHub's.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn slug_ok(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `Some(problem)` when `url` is meant for GitHub Actions but is not a form GitHub issues
/// tokens for; `None` when valid or not meant for GitHub.
pub(crate) fn url_problem(url: &str) -> Option<String> {
    let lower = url.trim().to_ascii_lowercase();
    let (scheme, rest) = match lower.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, lower.as_str()),
    };
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (host, port) = match hostport.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (hostport, None),
    };
    let ghes = path.ends_with("/_services/token") || path.contains("/_services/token/");
    let ghe_com = host.starts_with("token.actions.") && host.ends_with(".ghe.com");
    // GitHub's other OIDC issuers (audit-log streaming:
    // `oidc-configuration.audit-log.githubusercontent.com`) are providers for other purposes, not
    // a mistyped Actions issuer.
    let other_github_issuer = host.ends_with(".githubusercontent.com")
        && !host.contains("token")
        && !host.contains("action");
    let meant = !other_github_issuer
        && (host == DEFAULT_HOST
            || host.trim_end_matches('.') == DEFAULT_HOST
            || ghe_com
            || ghes
            || host.contains("githubusercontent")
            || (host.contains("token.action") && host.contains("github"))
            || distance(host, DEFAULT_HOST) <= 3);
    if !meant {
        return None;
    }
    if url.trim() != url {
        return Some("surrounding whitespace".into());
    }
    match scheme {
        None => return Some("no `https://` scheme".into()),
        Some("https") => {}
        Some(s) => return Some(format!("scheme `{s}://` instead of `https://`")),
    }
    if port.is_some() {
        return Some("a port".into());
    }
    if lower.contains(['?', '#']) {
        return Some("a query or fragment".into());
    }
    if path.contains("/.well-known") {
        return Some(
            "the discovery document path (the URL is the issuer, without `/.well-known/…`)".into(),
        );
    }
    if path.ends_with('/') {
        return Some("a trailing `/`".into());
    }
    if ghes {
        return (path != "/_services/token").then(|| {
            "a path other than `/_services/token` on a GitHub Enterprise Server host".into()
        });
    }
    if crate::analysis::issuers::github::is_retired_issuer(host) {
        return Some(format!(
            "host `{host}`, GitHub's beta issuer retired in October 2021 (no token carries it; GitHub's is `{DEFAULT_HOST}`)"
        ));
    }
    if host != DEFAULT_HOST && !ghe_com {
        return Some(format!("host `{host}` (GitHub's is `{DEFAULT_HOST}`)"));
    }
    // Optional enterprise slug: `/<slug>`.
    match path.strip_prefix('/') {
        None if path.is_empty() => None,
        Some(slug) if slug_ok(slug) => None,
        _ => Some(format!(
            "path `{path}` (only an enterprise slug, `/<slug>`, may follow the host)"
        )),
    }
}

impl Rule for ProviderUrlInvalid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for p in ctx.models.iter().flat_map(|m| &m.providers) {
            let Some(url) = &p.url else { continue };
            let Some(u) = url.value.known() else { continue };
            // `aws iam get-open-id-connect-provider` prints the URL without its scheme.
            let checked = if ctx.file(p.file).format.name() == "aws-export" && !u.contains("://") {
                format!("https://{u}")
            } else {
                u.clone()
            };
            let Some(problem) = url_problem(&checked) else {
                continue;
            };
            out.push(
                Finding::new(META.id, META.severity, p.file, url.span)
                    .message(format!(
                        "{} has URL `{u}` with {problem}: it does not equal the issuer in GitHub's tokens, so every role trusting it fails to be assumed",
                        crate::analysis::trust::provider_name(&p.owner)
                    ))
                    .label("not GitHub's issuer URL")
                    .help(format!(
                        "use `https://{DEFAULT_HOST}` (GitHub Enterprise: `https://{DEFAULT_HOST}/<enterprise-slug>`, `https://token.actions.<name>.ghe.com`, or `https://HOST/_services/token`)"
                    )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        for ok in [
            "https://token.actions.githubusercontent.com",
            "https://token.actions.githubusercontent.com/acme",
            "https://token.actions.acme.ghe.com",
            "https://ghes.example.com/_services/token",
            "https://oidc.eks.us-east-1.amazonaws.com/id/ABC",
            "https://gitlab.com",
            "https://app.terraform.io",
            "https://oidc-configuration.audit-log.githubusercontent.com",
        ] {
            assert_eq!(url_problem(ok), None, "{ok}");
        }
        for bad in [
            "https://token.actions.githubusercontent.com/",
            "http://token.actions.githubusercontent.com",
            "token.actions.githubusercontent.com",
            "https://token.actions.githubusercontent.co",
            "https://token.action.githubusercontent.com",
            "https://tokens.actions.githubusercontent.com",
            "https://token.actions.githubusercontent.com:443",
            "https://token.actions.githubusercontent.com/.well-known/openid-configuration",
            "https://token.actions.githubusercontent.com/acme/x",
        ] {
            assert!(url_problem(bad).is_some(), "{bad}");
        }
    }
}
