//! IAM policy documents, statements, conditions and OIDC providers.

use super::{MapHandle, SStr, Spanned};
use crate::source::tree::Template;
use crate::source::{FileId, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    /// A role trust (assume-role) policy.
    Trust,
    /// An identity (permission) policy.
    Permission,
}

#[derive(Clone, Debug)]
pub struct PolicyDoc {
    pub file: FileId,
    pub span: Span,
    pub kind: PolicyKind,
    /// Human name of what holds the policy (`trust.json`, `aws_iam_role.deploy`, a CFN logical id).
    pub owner: String,
    pub statements: Vec<Statement>,
}

#[derive(Clone, Debug)]
pub struct Principal {
    /// `Federated`, `AWS`, `Service`, `CanonicalUser`, or `*` for `"Principal": "*"`.
    pub kind: String,
    pub value: SStr,
}

#[derive(Clone, Debug)]
pub struct Statement {
    pub span: Span,
    pub sid: Option<String>,
    /// `None` when absent or not a string.
    pub effect: Option<SStr>,
    pub principals: Vec<Principal>,
    pub principal_span: Option<Span>,
    pub not_principal: bool,
    pub actions: Vec<SStr>,
    pub action_span: Option<Span>,
    pub not_action: bool,
    pub resources: Vec<SStr>,
    pub not_resource: bool,
    pub conditions: Vec<Condition>,
    /// The `Condition` block (for inserting a new operator), or the statement itself when
    /// there is no `Condition` block yet.
    pub condition_block: Option<MapHandle>,
    pub statement_block: Option<MapHandle>,
}

#[derive(Clone, Debug)]
pub struct Condition {
    /// The operator as written, e.g. `StringLike`, `ForAnyValue:StringEquals`.
    pub operator: Spanned<String>,
    /// The condition key as written.
    pub key: Spanned<String>,
    pub values: Vec<SStr>,
    /// Span of the value (scalar or list).
    pub values_span: Span,
    /// The operator's block, for inserting another key under the same operator.
    pub operator_block: Option<MapHandle>,
}

/// The parts of a condition operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operator {
    pub for_any_value: bool,
    pub for_all_values: bool,
    /// Base operator without qualifier and `IfExists`, e.g. `StringLike`, `StringNotEquals`.
    pub base: String,
    pub if_exists: bool,
}

impl Operator {
    pub fn parse(raw: &str) -> Operator {
        let mut s = raw.trim();
        let mut for_any_value = false;
        let mut for_all_values = false;
        if let Some((q, rest)) = s.split_once(':') {
            if q.eq_ignore_ascii_case("ForAnyValue") {
                for_any_value = true;
                s = rest;
            } else if q.eq_ignore_ascii_case("ForAllValues") {
                for_all_values = true;
                s = rest;
            }
        }
        let mut if_exists = false;
        let lower = s.to_ascii_lowercase();
        if lower.ends_with("ifexists") {
            if_exists = true;
            s = &s[..s.len() - "IfExists".len()];
        }
        Operator {
            for_any_value,
            for_all_values,
            base: s.to_string(),
            if_exists,
        }
    }
    pub fn base_is(&self, name: &str) -> bool {
        self.base.eq_ignore_ascii_case(name)
    }
    /// `StringEquals`, `StringLike` or `StringEqualsIgnoreCase` without `IfExists` or
    /// `ForAllValues:` — the operators that positively scope a claim (AWS's own guardrail list).
    pub fn is_positive_string_match(&self) -> bool {
        !self.if_exists
            && !self.for_all_values
            && (self.base_is("StringEquals")
                || self.base_is("StringLike")
                || self.base_is("StringEqualsIgnoreCase"))
    }
    pub fn is_like(&self) -> bool {
        self.base_is("StringLike")
    }
    pub fn is_equals(&self) -> bool {
        self.base_is("StringEquals") || self.base_is("StringEqualsIgnoreCase")
    }
}

impl Condition {
    pub fn op(&self) -> Operator {
        Operator::parse(&self.operator.value)
    }
    /// The claim name when the key is a claim of `issuer` (`token.actions.githubusercontent.com`),
    /// lower-cased. Condition key names are case-insensitive in IAM.
    pub fn claim_of(&self, issuer: &str) -> Option<String> {
        self.claim_str(issuer).map(str::to_ascii_lowercase)
    }
    /// The claim part of the key as written, when the key is `<issuer>:<claim>` (compared
    /// without allocating: this runs for every condition of every trust statement, often).
    fn claim_str(&self, issuer: &str) -> Option<&str> {
        let key = self.key.value.as_str();
        let n = issuer.len();
        (key.len() > n
            && key.as_bytes()[n] == b':'
            && key.is_char_boundary(n)
            && key[..n].eq_ignore_ascii_case(issuer))
        .then(|| &key[n + 1..])
    }
    /// Whether the key is `<issuer>:<claim>` (both compared ignoring ASCII case).
    pub fn is_claim(&self, issuer: &str, claim: &str) -> bool {
        self.claim_str(issuer)
            .is_some_and(|c| c.eq_ignore_ascii_case(claim))
    }
    /// [`Self::is_claim`], or a key whose issuer is known only at apply time
    /// (`"${aws_iam_openid_connect_provider.github.url}:sub"`), taken to be the statement's.
    pub fn is_claim_or_unresolved(&self, issuer: &str, claim: &str) -> bool {
        self.is_claim(issuer, claim)
            || self
                .unresolved_claim_str()
                .is_some_and(|k| k.eq_ignore_ascii_case(claim))
    }
    /// [`Self::claim_of`], or the claim of a key whose issuer is known only at apply time.
    pub fn claim_of_or_unresolved(&self, issuer: &str) -> Option<String> {
        self.claim_str(issuer)
            .or_else(|| self.unresolved_claim_str())
            .map(str::to_ascii_lowercase)
    }
    fn unresolved_claim_str(&self) -> Option<&str> {
        let key = self.key.value.as_str();
        if !key.starts_with("${") {
            return None;
        }
        key.rsplit_once("}:").map(|(_, k)| k)
    }
}

impl Statement {
    pub fn is_allow(&self) -> bool {
        self.effect
            .as_ref()
            .and_then(|e| e.value.known())
            .is_some_and(|e| e == "Allow")
    }

    /// Whether the statement's actions include `action` (exact, `*`, or a matching wildcard).
    pub fn allows_action(&self, action: &str) -> bool {
        if self.not_action {
            return !self
                .actions
                .iter()
                .any(|a| action_matches(&a.value, action));
        }
        self.actions
            .iter()
            .any(|a| action_matches(&a.value, action))
    }
}

/// IAM action match: case-insensitive, `*` and `?` wildcards. An unknown action matches.
pub fn action_matches(pattern: &Template, action: &str) -> bool {
    match pattern.known() {
        Some(p) => super::glob::glob_match(&p.to_ascii_lowercase(), &action.to_ascii_lowercase()),
        None => true,
    }
}

/// An IAM OIDC identity provider.
#[derive(Clone, Debug)]
pub struct OidcProvider {
    pub file: FileId,
    pub span: Span,
    pub owner: String,
    pub url: Option<SStr>,
    /// `None` when the list is not known statically.
    pub client_ids: Option<Vec<SStr>>,
    pub client_ids_span: Option<Span>,
}

/// The name of the customer-managed policy an attached value designates: a bare name (what
/// `data "aws_iam_policy" { name = … }` looks up) or `arn:PARTITION:iam::ACCOUNT:policy/[PATH/]NAME`
/// with an account other than `aws` (the account may be unknown; the name must be known).
pub fn customer_policy_name(t: &Template) -> Option<String> {
    let flat = t.flat();
    let ok = |n: &str| {
        !n.is_empty() && !n.contains(crate::source::tree::HOLE) && !n.contains([':', '/', '*'])
    };
    if ok(&flat) {
        return Some(flat);
    }
    let rest = flat.strip_prefix("arn:")?;
    let (_, rest) = rest.split_once(":iam::")?;
    let (account, path) = rest.split_once(":policy/")?;
    if account == "aws" {
        return None;
    }
    let name = path.rsplit('/').next()?;
    ok(name).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::glob_match;

    #[test]
    fn glob() {
        assert!(glob_match("repo:o/*", "repo:o/a:ref:refs/heads/main"));
        assert!(glob_match("repo:o/app*", "repo:o/app-evil"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a?c", "abc"));
        assert!(glob_match("repo:o/*", "repo:o/*:ref:refs/tags/v*"));
        assert!(!glob_match("a?c", "ac"));
        assert!(!glob_match(
            "repo:o/a:ref:refs/heads/main",
            "repo:o/a:pull_request"
        ));
    }

    #[test]
    fn operators() {
        let o = Operator::parse("ForAllValues:StringLikeIfExists");
        assert!(o.for_all_values && o.if_exists && o.is_like());
        assert!(!o.is_positive_string_match());
        assert!(Operator::parse("ForAnyValue:StringEquals").is_positive_string_match());
    }
}
