//! Shared knowledge about GitHub's OIDC issuer, used by the trust-policy rules.

use crate::model::{Condition, PolicyDoc, PolicyKind, SStr, Statement};
use crate::scan::Scan;
use crate::source::tree::{Part, Template};

pub const DEFAULT_ISSUER: &str = "token.actions.githubusercontent.com";

/// Is this issuer (a provider URL without `https://`) one of GitHub's?
pub fn is_github_issuer(issuer: &str) -> bool {
    let i = issuer.to_ascii_lowercase();
    let host = i.split('/').next().unwrap_or("");
    host == DEFAULT_ISSUER
        || (host.starts_with("token.actions.") && host.ends_with(".ghe.com"))
        || i.ends_with("/_services/token")
}

/// The issuer named by a `Federated` principal ARN (`…:oidc-provider/<issuer>`), if GitHub's.
/// Unknown parts are allowed after `oidc-provider/` only when the literal tail names GitHub.
pub fn federated_issuer(value: &Template) -> Option<String> {
    let text = value.display();
    let idx = text.find("oidc-provider/")?;
    let issuer = &text[idx + "oidc-provider/".len()..];
    if issuer.contains("${") {
        return None;
    }
    is_github_issuer(issuer).then(|| issuer.to_string())
}

/// A trust statement that lets GitHub's OIDC tokens assume the role.
pub struct GithubTrust<'a> {
    pub policy: &'a PolicyDoc,
    pub statement: &'a Statement,
    /// Condition-key prefix (the issuer without scheme).
    pub issuer: String,
    /// The `Federated` principal value, when literal.
    pub principal: Option<&'a SStr>,
}

impl<'a> GithubTrust<'a> {
    /// Conditions on `<issuer>:<claim>`.
    pub fn claim_conditions(&self, claim: &str) -> impl Iterator<Item = &'a Condition> + '_ {
        let issuer = self.issuer.clone();
        let claim = claim.to_ascii_lowercase();
        self.statement.conditions.iter().filter(move |c| {
            c.claim_of(&issuer).as_deref() == Some(claim.as_str())
                    // `"${local.issuer}:sub"`: an issuer known only at apply time is taken to
                    // be this statement's (no alarm is raised on a guess).
                    || (c.key.value.starts_with("${")
                        && c.key.value.to_ascii_lowercase().ends_with(&format!("}}:{claim}")))
        })
    }
    /// Positive string matches (`StringEquals`, `StringLike`, `StringEqualsIgnoreCase`) on a claim.
    pub fn positive(&self, claim: &str) -> Vec<&'a Condition> {
        self.claim_conditions(claim)
            .filter(|c| c.op().is_positive_string_match() && !c.values.is_empty())
            .collect()
    }
    /// A positive condition on a claim of another GitHub issuer (say the enterprise issuer
    /// `…/acme:sub` under the default provider) can never be satisfied: the key is absent from
    /// the request, so the statement admits nobody. Such a statement is broken, not open.
    pub fn never_matches(&self) -> bool {
        let own = self.issuer.to_ascii_lowercase();
        self.statement.conditions.iter().any(|c| {
            let op = c.op();
            let positive = !op.if_exists
                && !op.for_all_values
                && !op.base.to_ascii_lowercase().contains("not")
                && !op.base.eq_ignore_ascii_case("Null");
            positive
                && c.key.value.rsplit_once(':').is_some_and(|(iss, _)| {
                    let iss = iss.to_ascii_lowercase();
                    is_github_issuer(&iss) && iss != own && !iss.contains("${")
                })
        })
    }
    pub fn allows_web_identity(&self) -> bool {
        self.statement
            .allows_action("sts:AssumeRoleWithWebIdentity")
    }
    pub fn china(&self) -> bool {
        self.principal
            .is_some_and(|p| p.value.display().starts_with("arn:aws-cn:"))
    }
}

/// Every Allow statement of every trust policy in the scan that trusts a GitHub issuer.
pub fn github_trusts(scan: &Scan) -> Vec<GithubTrust<'_>> {
    let mut out = Vec::new();
    for m in &scan.models {
        for p in &m.policies {
            if p.kind != PolicyKind::Trust {
                continue;
            }
            for s in &p.statements {
                if !s.is_allow() || s.not_principal {
                    continue;
                }
                let federated: Vec<&SStr> = s
                    .principals
                    .iter()
                    .filter(|pr| pr.kind == "Federated")
                    .map(|pr| &pr.value)
                    .collect();
                let mut found = None;
                for f in &federated {
                    if let Some(iss) = federated_issuer(&f.value) {
                        found = Some((iss, Some(*f)));
                        break;
                    }
                }
                // A Federated principal known only at apply time, with conditions on GitHub's
                // claims: the conditions name the issuer.
                if found.is_none() && federated.iter().any(|f| !f.value.is_known()) {
                    for c in &s.conditions {
                        if let Some((iss, _)) = c.key.value.rsplit_once(':')
                            && is_github_issuer(iss)
                        {
                            found = Some((iss.to_ascii_lowercase(), federated.first().copied()));
                            break;
                        }
                    }
                }
                if let Some((issuer, principal)) = found {
                    out.push(GithubTrust {
                        policy: p,
                        statement: s,
                        issuer,
                        principal,
                    });
                }
            }
        }
    }
    out
}

/// How wide a `sub` pattern is, judged on its literal parts only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubReach {
    /// Matches subjects of repositories of any owner.
    AnyRepo,
    /// Matches every repository of one owner.
    OrgWide { owner: String },
    /// Narrower than an owner, or a shape this classification does not judge.
    Narrower,
}

/// Classify a `StringLike` pattern for `sub`. Handles `repo:OWNER/REPO:…` and the immutable
/// `repo:OWNER@ID/REPO@ID:…`. Unknown parts (`${var.org}`) are never guessed: a verdict is
/// given only when it holds whatever the unknown part is.
pub fn sub_reach(pattern: &Template) -> SubReach {
    // Work on a char stream where unknown parts are a placeholder character.
    const UNKNOWN: char = '\u{0}';
    let mut s = String::new();
    for p in &pattern.parts {
        match p {
            Part::Lit(l) => s.push_str(l),
            Part::Unknown(_) => s.push(UNKNOWN),
        }
    }
    let wild = |c: char| c == '*' || c == '?';
    if s.starts_with('*') {
        return SubReach::AnyRepo;
    }
    let Some(rest) = s.strip_prefix("repo:") else {
        return SubReach::Narrower;
    };
    // The owner runs to the first '/', or to ':' when there is no repository part.
    let owner_end = rest.find(['/', ':']).unwrap_or(rest.len());
    let owner_seg = &rest[..owner_end];
    let owner_name = owner_seg.split('@').next().unwrap_or("");
    if owner_name.is_empty() && owner_end == rest.len() {
        return SubReach::Narrower;
    }
    if owner_name.chars().any(wild) {
        return SubReach::AnyRepo;
    }
    // A wildcard in the ID position (`repo:acme@*/…`) is not an owner wildcard.
    let after = &rest[owner_end..];
    let Some(repo_part) = after.strip_prefix('/') else {
        return SubReach::Narrower;
    };
    if repo_part.starts_with('*') {
        // Put the unknown parts' expressions back for messages.
        let mut exprs = pattern.parts.iter().filter_map(|p| match p {
            Part::Unknown(e) => Some(e.as_str()),
            Part::Lit(_) => None,
        });
        let mut owner = String::new();
        for ch in owner_name.chars() {
            if ch == UNKNOWN {
                owner.push_str(&format!("${{{}}}", exprs.next().unwrap_or("…")));
            } else {
                owner.push(ch);
            }
        }
        return SubReach::OrgWide { owner };
    }
    SubReach::Narrower
}

/// Do other positive conditions already pin the repository (so `sub` is not the only scope)?
pub fn repository_pinned(t: &GithubTrust, owner_only_ok: bool) -> bool {
    let mut claims = vec!["repository", "repository_id"];
    if owner_only_ok {
        claims.extend(["repository_owner", "repository_owner_id"]);
    }
    claims.iter().any(|claim| {
        t.positive(claim).iter().any(|c| {
            c.values.iter().all(|v| {
                v.value
                    .known()
                    .is_some_and(|k| !(k.is_empty() || c.op().is_like() && k.contains(['*', '?'])))
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Template {
        Template::lit(s)
    }

    #[test]
    fn reach() {
        assert_eq!(sub_reach(&t("*")), SubReach::AnyRepo);
        assert_eq!(sub_reach(&t("repo:*")), SubReach::AnyRepo);
        assert_eq!(sub_reach(&t("repo:*/app:*")), SubReach::AnyRepo);
        assert_eq!(sub_reach(&t("repo:ac?e/app:*")), SubReach::AnyRepo);
        assert_eq!(
            sub_reach(&t("repo:acme/*")),
            SubReach::OrgWide {
                owner: "acme".into()
            }
        );
        assert_eq!(
            sub_reach(&t("repo:acme@*/*")),
            SubReach::OrgWide {
                owner: "acme".into()
            }
        );
        assert_eq!(
            sub_reach(&t("repo:acme@*/app@*:ref:refs/heads/main")),
            SubReach::Narrower
        );
        assert_eq!(sub_reach(&t("repo:acme/app:*")), SubReach::Narrower);
        assert_eq!(sub_reach(&t("repo:acme/app-*")), SubReach::Narrower);
        let tpl = Template {
            parts: vec![
                Part::Lit("repo:".into()),
                Part::Unknown("var.org".into()),
                Part::Lit("/*".into()),
            ],
        };
        assert!(matches!(sub_reach(&tpl), SubReach::OrgWide { .. }));
        let tpl = Template {
            parts: vec![Part::Unknown("var.sub".into())],
        };
        assert_eq!(sub_reach(&tpl), SubReach::Narrower);
    }

    #[test]
    fn issuers() {
        assert!(is_github_issuer("token.actions.githubusercontent.com"));
        assert!(is_github_issuer("token.actions.githubusercontent.com/acme"));
        assert!(is_github_issuer("token.actions.acme.ghe.com"));
        assert!(is_github_issuer("ghes.example.com/_services/token"));
        assert!(!is_github_issuer("oidc.eks.us-east-1.amazonaws.com/id/X"));
    }
}
