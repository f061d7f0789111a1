//! An IAM condition evaluator for the GitHub OIDC request context, exact to AWS semantics and
//! three-valued: whatever the scan cannot know (apply-time values such as `${var.org}`, a
//! branch a workflow may run on, a claim AWS may or may not populate) makes the answer
//! `Unknown`, never a guess.
//!
//! Semantics (IAM User Guide, condition operators):
//! - values of one key are OR-ed; keys and operators are AND-ed; statements are OR-ed; an
//!   applicable `Deny` wins over every `Allow`;
//! - `StringEquals` is exact and case-sensitive, `StringEqualsIgnoreCase` ignores case,
//!   `StringLike` treats `*` as any run (empty included, across `/` and `:`) and `?` as one
//!   character; `${*}`, `${?}` and `${$}` are the literal characters;
//! - a key absent from the request makes positive operators false, negated (`…Not…`)
//!   operators and `…IfExists` true, `ForAllValues:` true and `ForAnyValue:` false;
//! - `Null` tests presence (`"true"`: the key is absent);
//! - other operator families (numeric, date, ARN, IP, binary, bool) are not judged: `Unknown`.
//!
//! The request's values may contain holes (a part of a value that ranges over a set of
//! strings, e.g. the branch name of `push: branches: ['release/**']`). A comparison is `False`
//! only when no filling of the holes matches, `True` only when the value is fully known.

use crate::analysis::trust::federated_issuer;
use crate::analysis::wildcard::{PEl, SEl, covers, possible};
use crate::model::{Condition, Operator, PolicyDoc, Statement};
use crate::source::tree::{Part, Template};
use std::collections::BTreeMap;

/// Kleene three-valued logic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tri {
    False,
    Unknown,
    True,
}

impl Tri {
    pub fn from_bool(b: bool) -> Tri {
        if b { Tri::True } else { Tri::False }
    }
    pub fn and(self, o: Tri) -> Tri {
        self.min(o)
    }
    pub fn or(self, o: Tri) -> Tri {
        self.max(o)
    }
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Tri {
        match self {
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
            Tri::True => Tri::False,
        }
    }
    /// Both possibilities of an unknown choice: equal results stay, different ones are unknown.
    pub fn merge(self, o: Tri) -> Tri {
        if self == o { self } else { Tri::Unknown }
    }
    pub fn all(it: impl IntoIterator<Item = Tri>) -> Tri {
        it.into_iter().fold(Tri::True, Tri::and)
    }
    pub fn any(it: impl IntoIterator<Item = Tri>) -> Tri {
        it.into_iter().fold(Tri::False, Tri::or)
    }
}

/// The set of strings a hole in a request value stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hole {
    /// Any string.
    Any,
    /// Any string without `:` (git ref names, repository names).
    NoColon,
    /// Decimal digits (GitHub owner and repository ids).
    Digits,
    /// Any string without `:` or `/` (an owner's or a repository's name).
    Segment,
}

impl Hole {
    pub fn admits(self, c: char) -> bool {
        match self {
            Hole::Any => true,
            Hole::NoColon => c != ':',
            Hole::Digits => c.is_ascii_digit(),
            Hole::Segment => c != ':' && c != '/',
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VPart {
    Lit(String),
    Hole(Hole),
}

/// A request-context value: literal text with holes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Val {
    pub parts: Vec<VPart>,
}

impl Val {
    pub fn lit(s: impl Into<String>) -> Val {
        Val {
            parts: vec![VPart::Lit(s.into())],
        }
    }
    pub fn hole(h: Hole) -> Val {
        Val {
            parts: vec![VPart::Hole(h)],
        }
    }
    pub fn push_lit(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if let Some(VPart::Lit(l)) = self.parts.last_mut() {
            l.push_str(s);
        } else {
            self.parts.push(VPart::Lit(s.to_string()));
        }
    }
    pub fn push_hole(&mut self, h: Hole) {
        if self.parts.last() != Some(&VPart::Hole(h)) {
            self.parts.push(VPart::Hole(h));
        }
    }
    pub fn push(&mut self, v: &Val) {
        for p in &v.parts {
            match p {
                VPart::Lit(s) => self.push_lit(s),
                VPart::Hole(h) => self.push_hole(*h),
            }
        }
    }
    pub fn concat(parts: &[&Val]) -> Val {
        let mut out = Val::default();
        for p in parts {
            out.push(p);
        }
        out
    }
    pub fn known(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                VPart::Lit(l) => s.push_str(l),
                VPart::Hole(_) => return None,
            }
        }
        Some(s)
    }
    /// Display form: holes as `*` (a `StringLike` pattern admitting every filling).
    pub fn pattern(&self) -> String {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                VPart::Lit(l) => s.push_str(l),
                VPart::Hole(_) => s.push('*'),
            }
        }
        s
    }
    fn chars(&self, fold: bool) -> Vec<SEl> {
        let mut out = Vec::new();
        for p in &self.parts {
            match p {
                VPart::Lit(l) => {
                    for c in l.chars() {
                        if fold {
                            out.extend(c.to_lowercase().map(SEl::Ch));
                        } else {
                            out.push(SEl::Ch(c));
                        }
                    }
                }
                VPart::Hole(h) => out.push(SEl::Hole(*h)),
            }
        }
        out
    }
}

/// Whether a claim is in the request, and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Presence {
    Present(Val),
    Absent,
    /// The scan cannot tell whether AWS sees the key, nor its value.
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub presence: Presence,
    /// For `sub`: the same subject in the immutable `repo:OWNER@ID/REPO@ID:…` form (IDs as
    /// holes). Trust values written in that form are compared with it, and can then at best be
    /// `Unknown`: the scan does not know the IDs, nor whether the repository emits that form.
    pub id_form: Option<Val>,
}

/// The request an `AssumeRoleWithWebIdentity` call makes, as far as a static scan knows it.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The token issuer (condition-key prefix), e.g. `token.actions.githubusercontent.com`.
    pub issuer: String,
    /// Lower-cased full condition key → claim. Keys not listed are `Presence::Unknown`.
    pub claims: BTreeMap<String, Claim>,
}

impl Request {
    pub fn new(issuer: &str) -> Request {
        Request {
            issuer: issuer.to_ascii_lowercase(),
            claims: BTreeMap::new(),
        }
    }
    /// Set a claim of the issuer (`sub`, `aud`, …).
    pub fn set(&mut self, claim: &str, presence: Presence) {
        let key = format!("{}:{}", self.issuer, claim.to_ascii_lowercase());
        self.claims.insert(
            key,
            Claim {
                presence,
                id_form: None,
            },
        );
    }
    pub fn set_sub(&mut self, sub: Val, id_form: Option<Val>) {
        let key = format!("{}:sub", self.issuer);
        self.claims.insert(
            key,
            Claim {
                presence: Presence::Present(sub),
                id_form,
            },
        );
    }
    pub fn claim(&self, key: &str) -> Option<&Claim> {
        self.claims.get(&key.to_ascii_lowercase())
    }
}

// ---------------------------------------------------------------------------------------------
// Pattern × value matching: does some filling of the value's holes match the pattern?

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrOp {
    Equals,
    EqualsIgnoreCase,
    Like,
}

/// The policy value as a pattern. Unknown parts and policy variables become `Star` (they may
/// be anything); the second result says whether the pattern is fully known.
fn pattern_of(t: &Template, op: StrOp) -> (Vec<PEl>, bool) {
    let fold = op == StrOp::EqualsIgnoreCase;
    let mut out = Vec::new();
    let mut known = true;
    for p in &t.parts {
        match p {
            Part::Unknown(_) => {
                known = false;
                out.push(PEl::Star);
            }
            Part::Lit(s) => {
                let mut rest = s.as_str();
                while !rest.is_empty() {
                    if let Some(after) = rest.strip_prefix("${")
                        && let Some(end) = after.find('}')
                    {
                        let var = &after[..end];
                        match var {
                            "*" => out.push(PEl::Ch('*')),
                            "?" => out.push(PEl::Ch('?')),
                            "$" => out.push(PEl::Ch('$')),
                            _ => {
                                // a policy variable (`${aws:username}`): its value is the
                                // request's, unknown here
                                known = false;
                                out.push(PEl::Star);
                            }
                        }
                        rest = &after[end + 1..];
                        continue;
                    }
                    let c = rest.chars().next().unwrap_or_default();
                    rest = &rest[c.len_utf8()..];
                    match (op, c) {
                        (StrOp::Like, '*') => out.push(PEl::Star),
                        (StrOp::Like, '?') => out.push(PEl::One),
                        _ if fold => out.extend(c.to_lowercase().map(PEl::Ch)),
                        _ => out.push(PEl::Ch(c)),
                    }
                }
            }
        }
    }
    (out, known)
}

fn has_hole(s: &[SEl]) -> bool {
    s.iter().any(|e| matches!(e, SEl::Hole(_)))
}

/// Compare one policy value with one request value.
pub fn value_match(op: StrOp, policy: &Template, value: &Val) -> Tri {
    let (p, known) = pattern_of(policy, op);
    let s = value.chars(op == StrOp::EqualsIgnoreCase);
    // Over the matcher's work limit the answer is `Unknown` (and the command line says so).
    match possible(&p, &s) {
        Some(false) => Tri::False,
        None => Tri::Unknown,
        Some(true) if known && (!has_hole(&s) || covers(&p, &s) == Some(true)) => Tri::True,
        Some(true) => Tri::Unknown,
    }
}

/// A `sub` trust value written in the immutable form: `repo:OWNER@ID/REPO@ID:…`.
pub fn is_id_form(policy: &Template) -> bool {
    let prefix = policy.known_prefix();
    let Some(rest) = prefix.strip_prefix("repo:") else {
        return false;
    };
    let seg = rest.split(':').next().unwrap_or("");
    seg.contains('@')
}

/// The immutable form of a `repo:OWNER/REPO:…` subject: `repo:OWNER@<digits>/REPO@<digits>:…`.
pub fn id_form_of(sub: &Val) -> Option<Val> {
    id_form_with(sub, None)
}

/// [`id_form_of`] with the owner and repository ids when known.
pub fn id_form_with(sub: &Val, ids: Option<(u64, u64)>) -> Option<Val> {
    let first = match sub.parts.first() {
        Some(VPart::Lit(l)) => l,
        _ => return None,
    };
    let rest = first.strip_prefix("repo:")?;
    let colon = rest.find(':')?;
    let (repo, tail) = rest.split_at(colon);
    let (owner, name) = repo.split_once('/')?;
    let mut v = Val::lit(format!("repo:{owner}@"));
    match ids {
        Some((o, _)) => v.push_lit(&o.to_string()),
        None => v.push_hole(Hole::Digits),
    }
    v.push_lit(&format!("/{name}@"));
    match ids {
        Some((_, r)) => v.push_lit(&r.to_string()),
        None => v.push_hole(Hole::Digits),
    }
    v.push_lit(tail);
    for p in &sub.parts[1..] {
        match p {
            VPart::Lit(s) => v.push_lit(s),
            VPart::Hole(h) => v.push_hole(*h),
        }
    }
    Some(v)
}

// ---------------------------------------------------------------------------------------------
// Conditions

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Base {
    Str(StrOp, bool),
    Null,
    Other,
}

fn base_of(op: &Operator) -> Base {
    let b = op.base.to_ascii_lowercase();
    match b.as_str() {
        "stringequals" => Base::Str(StrOp::Equals, false),
        "stringnotequals" => Base::Str(StrOp::Equals, true),
        "stringequalsignorecase" => Base::Str(StrOp::EqualsIgnoreCase, false),
        "stringnotequalsignorecase" => Base::Str(StrOp::EqualsIgnoreCase, true),
        "stringlike" => Base::Str(StrOp::Like, false),
        "stringnotlike" => Base::Str(StrOp::Like, true),
        "null" => Base::Null,
        _ => Base::Other,
    }
}

fn absent_result(op: &Operator, base: Base, values: &[Template]) -> Tri {
    match base {
        Base::Null => null_result(values, true),
        _ if op.for_all_values => Tri::True,
        _ if op.if_exists => Tri::True,
        _ if op.for_any_value => Tri::False,
        Base::Str(_, negated) => Tri::from_bool(negated),
        Base::Other => Tri::Unknown,
    }
}

fn null_result(values: &[Template], absent: bool) -> Tri {
    if values.is_empty() {
        return Tri::Unknown;
    }
    Tri::any(values.iter().map(|v| match v.known() {
        Some(s) if s.eq_ignore_ascii_case("true") => Tri::from_bool(absent),
        Some(s) if s.eq_ignore_ascii_case("false") => Tri::from_bool(!absent),
        _ => Tri::Unknown,
    }))
}

fn present_result(base: Base, values: &[Template], claim: &Claim, value: &Val) -> Tri {
    match base {
        Base::Null => null_result(values, false),
        Base::Other => Tri::Unknown,
        Base::Str(sop, negated) => {
            if values.is_empty() {
                return Tri::Unknown;
            }
            let m = Tri::any(values.iter().map(|v| match &claim.id_form {
                Some(idv) if is_id_form(v) => match value_match(sop, v, idv) {
                    Tri::False => Tri::False,
                    _ => Tri::Unknown,
                },
                _ => value_match(sop, v, value),
            }));
            // For a single-valued key, `ForAnyValue:` and `ForAllValues:` over a present value
            // reduce to the plain operator.
            if negated { m.not() } else { m }
        }
    }
}

/// Evaluate one condition (operator, key, values) against the request.
pub fn eval_condition(c: &Condition, req: &Request) -> Tri {
    let values: Vec<Template> = c.values.iter().map(|v| v.value.clone()).collect();
    eval_raw(&c.operator.value, &c.key.value, &values, req)
}

/// Evaluate an operator/key/values triple (the condition's parts, without spans).
pub fn eval_raw(operator: &str, key: &str, values: &[Template], req: &Request) -> Tri {
    let op = Operator::parse(operator);
    let base = base_of(&op);
    let unknown_claim = Claim {
        presence: Presence::Unknown,
        id_form: None,
    };
    let claim = req.claim(key).unwrap_or(&unknown_claim);
    match &claim.presence {
        Presence::Absent => absent_result(&op, base, values),
        Presence::Present(v) => present_result(base, values, claim, v),
        Presence::Unknown => absent_result(&op, base, values).merge(present_result(
            base,
            values,
            claim,
            &Val::hole(Hole::Any),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Statements and policies

const ACTION: &str = "sts:assumerolewithwebidentity";

fn action_tri(s: &Statement) -> Tri {
    if s.actions.is_empty() {
        return Tri::Unknown;
    }
    let any = Tri::any(s.actions.iter().map(|a| {
        let lower = Template {
            parts: a
                .value
                .parts
                .iter()
                .map(|p| match p {
                    Part::Lit(l) => Part::Lit(l.to_ascii_lowercase()),
                    u => u.clone(),
                })
                .collect(),
        };
        value_match(StrOp::Like, &lower, &Val::lit(ACTION))
    }));
    if s.not_action { any.not() } else { any }
}

fn principal_tri(s: &Statement, issuer: &str) -> Tri {
    if s.principals.is_empty() {
        return Tri::Unknown;
    }
    let names_issuer = s.conditions.iter().any(|c| {
        c.key
            .value
            .to_ascii_lowercase()
            .starts_with(&format!("{issuer}:"))
    });
    let listed = Tri::any(s.principals.iter().map(|p| match p.kind.as_str() {
        "*" => match p.value.value.known().as_deref() {
            Some("*") => Tri::True,
            Some(_) => Tri::False,
            None => Tri::Unknown,
        },
        "Federated" => {
            // A literal provider ARN names its issuer's host whatever the CI system
            // (`…:oidc-provider/gitlab.com`, `…/oidc.circleci.com/org/ID`).
            let literal_host = p.value.value.known().and_then(|t| {
                t.split_once("oidc-provider/")
                    .map(|(_, h)| h.trim_end_matches('/').to_string())
            });
            if let Some(host) = literal_host {
                Tri::from_bool(host.eq_ignore_ascii_case(issuer))
            } else if let Some(iss) = federated_issuer(&p.value.value) {
                Tri::from_bool(iss.eq_ignore_ascii_case(issuer))
            } else if p.value.value.is_known() {
                Tri::False
            } else if names_issuer {
                // `${aws_iam_openid_connect_provider.github.arn}` with conditions on this
                // issuer's claims: only this issuer's tokens carry them.
                Tri::True
            } else {
                Tri::Unknown
            }
        }
        "AWS" => match p.value.value.known().as_deref() {
            Some("*") => Tri::Unknown,
            Some(_) => Tri::False,
            None => Tri::Unknown,
        },
        _ => Tri::False,
    }));
    if s.not_principal {
        listed.not()
    } else {
        listed
    }
}

/// Whether the statement applies to the request (principal, action, conditions).
pub fn statement_applies(s: &Statement, req: &Request) -> Tri {
    principal_tri(s, &req.issuer)
        .and(action_tri(s))
        .and(Tri::all(
            s.conditions.iter().map(|c| eval_condition(c, req)),
        ))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
    Unknown,
}

fn effect(s: &Statement) -> Effect {
    match s.effect.as_ref().map(|e| e.value.known()) {
        Some(Some(e)) if e == "Allow" => Effect::Allow,
        Some(Some(e)) if e == "Deny" => Effect::Deny,
        _ => Effect::Unknown,
    }
}

/// Does the trust policy let the request assume the role? Statements are OR-ed; an applicable
/// `Deny` wins.
pub fn eval_policy(p: &PolicyDoc, req: &Request) -> Tri {
    let mut allow = Tri::False;
    let mut deny = Tri::False;
    for s in &p.statements {
        let a = statement_applies(s, req);
        match effect(s) {
            Effect::Allow => allow = allow.or(a),
            Effect::Deny => deny = deny.or(a),
            Effect::Unknown => {
                allow = allow.or(a.and(Tri::Unknown));
                deny = deny.or(a.and(Tri::Unknown));
            }
        }
    }
    allow.and(deny.not())
}

/// Why a policy rejects a request.
#[derive(Clone, Copy, Debug)]
pub enum Rejection<'a> {
    /// An `Allow` statement for this issuer whose condition is false.
    Condition(&'a Statement, &'a Condition),
    /// A `Deny` statement that applies.
    Deny(&'a Statement),
    /// No `Allow` statement names this issuer and action.
    NoStatement,
}

/// Explain a rejection: prefer a failing condition on `prefer_claim` (e.g. `sub`), in the
/// first `Allow` statement for this issuer.
pub fn explain<'a>(p: &'a PolicyDoc, req: &Request, prefer_claim: &str) -> Rejection<'a> {
    for s in &p.statements {
        if effect(s) == Effect::Deny && statement_applies(s, req) == Tri::True {
            return Rejection::Deny(s);
        }
    }
    let preferred = format!("{}:{}", req.issuer, prefer_claim.to_ascii_lowercase());
    let mut first = None;
    for s in &p.statements {
        if effect(s) != Effect::Allow
            || principal_tri(s, &req.issuer) == Tri::False
            || action_tri(s) == Tri::False
        {
            continue;
        }
        for c in &s.conditions {
            if eval_condition(c, req) == Tri::False {
                if c.key.value.eq_ignore_ascii_case(&preferred) {
                    return Rejection::Condition(s, c);
                }
                first.get_or_insert(Rejection::Condition(s, c));
            }
        }
    }
    first.unwrap_or(Rejection::NoStatement)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Template {
        Template::lit(s)
    }
    fn req(sub: Val) -> Request {
        let mut r = Request::new("token.actions.githubusercontent.com");
        let idf = id_form_of(&sub);
        r.set_sub(sub, idf);
        r.set("aud", Presence::Present(Val::lit("sts.amazonaws.com")));
        r.set("environment", Presence::Absent);
        r
    }
    const SUB: &str = "token.actions.githubusercontent.com:sub";

    #[test]
    fn string_like_crosses_separators() {
        let r = req(Val::lit("repo:o/r:ref:refs/heads/main"));
        assert_eq!(eval_raw("StringLike", SUB, &[t("repo:o/*")], &r), Tri::True);
        assert_eq!(
            eval_raw("StringLike", SUB, &[t("repo:o/r:ref:refs/heads/mai?")], &r),
            Tri::True
        );
        assert_eq!(
            eval_raw("StringEquals", SUB, &[t("repo:o/*")], &r),
            Tri::False
        );
        assert_eq!(
            eval_raw(
                "StringEqualsIgnoreCase",
                SUB,
                &[t("REPO:O/R:ref:refs/heads/MAIN")],
                &r
            ),
            Tri::True
        );
        assert_eq!(
            eval_raw("StringNotLike", SUB, &[t("repo:x/*"), t("repo:o/*")], &r),
            Tri::False
        );
    }

    #[test]
    fn absent_keys() {
        let r = req(Val::lit("repo:o/r:pull_request"));
        let env = "token.actions.githubusercontent.com:environment";
        assert_eq!(eval_raw("StringEquals", env, &[t("prod")], &r), Tri::False);
        assert_eq!(
            eval_raw("StringEqualsIfExists", env, &[t("prod")], &r),
            Tri::True
        );
        assert_eq!(
            eval_raw("ForAllValues:StringEquals", env, &[t("prod")], &r),
            Tri::True
        );
        assert_eq!(
            eval_raw("ForAnyValue:StringEquals", env, &[t("prod")], &r),
            Tri::False
        );
        assert_eq!(
            eval_raw("StringNotEquals", env, &[t("prod")], &r),
            Tri::True
        );
        assert_eq!(eval_raw("Null", env, &[t("true")], &r), Tri::True);
        assert_eq!(eval_raw("Null", SUB, &[t("true")], &r), Tri::False);
        // unknown keys and operators
        assert_eq!(
            eval_raw("StringEquals", "aws:SourceIp", &[t("x")], &r),
            Tri::Unknown
        );
        assert_eq!(
            eval_raw("StringEqualsIfExists", "aws:SourceIp", &[t("x")], &r),
            Tri::Unknown
        );
        assert_eq!(
            eval_raw("Null", "aws:SourceIp", &[t("false")], &r),
            Tri::Unknown
        );
        assert_eq!(
            eval_raw("NumericLessThan", SUB, &[t("3")], &r),
            Tri::Unknown
        );
    }

    #[test]
    fn holes_and_unknowns() {
        let mut v = Val::lit("repo:o/r:ref:refs/heads/release/");
        v.push_hole(Hole::NoColon);
        let r = req(v);
        assert_eq!(
            eval_raw(
                "StringEquals",
                SUB,
                &[t("repo:o/r:ref:refs/heads/main")],
                &r
            ),
            Tri::False
        );
        assert_eq!(
            eval_raw(
                "StringLike",
                SUB,
                &[t("repo:o/r:ref:refs/heads/release/*")],
                &r
            ),
            Tri::True
        );
        assert_eq!(
            eval_raw("StringLike", SUB, &[t("repo:o/r:environment:*")], &r),
            Tri::False
        );
        // a `*` that swallows the hole whole matches every filling
        assert_eq!(
            eval_raw("StringLike", SUB, &[t("repo:o/r:*")], &r),
            Tri::True
        );
        assert_eq!(
            eval_raw(
                "StringLike",
                SUB,
                &[t("repo:o/r:ref:refs/heads/release/?*")],
                &r
            ),
            Tri::Unknown
        );
        let tpl = Template {
            parts: vec![
                Part::Lit("repo:".into()),
                Part::Unknown("var.org".into()),
                Part::Lit("/r:pull_request".into()),
            ],
        };
        let r = req(Val::lit("repo:o/r:ref:refs/heads/main"));
        assert_eq!(
            eval_raw("StringLike", SUB, std::slice::from_ref(&tpl), &r),
            Tri::False
        );
        let r = req(Val::lit("repo:o/r:pull_request"));
        assert_eq!(eval_raw("StringLike", SUB, &[tpl], &r), Tri::Unknown);
        // literal wildcards through policy-variable escapes
        let r = req(Val::lit("repo:o/r:*"));
        assert_eq!(
            eval_raw("StringLike", SUB, &[t("repo:o/r:${*}")], &r),
            Tri::True
        );
        let r = req(Val::lit("repo:o/r:x"));
        assert_eq!(
            eval_raw("StringLike", SUB, &[t("repo:o/r:${*}")], &r),
            Tri::False
        );
    }

    #[test]
    fn immutable_form_is_never_certain() {
        let r = req(Val::lit("repo:acme/app:ref:refs/heads/main"));
        assert_eq!(
            eval_raw(
                "StringEquals",
                SUB,
                &[t("repo:acme@12/app@34:ref:refs/heads/main")],
                &r
            ),
            Tri::Unknown
        );
        assert_eq!(
            eval_raw(
                "StringLike",
                SUB,
                &[t("repo:acme@*/app@*:ref:refs/heads/main")],
                &r
            ),
            Tri::Unknown
        );
        assert_eq!(
            eval_raw(
                "StringEquals",
                SUB,
                &[t("repo:acme@12/other@34:ref:refs/heads/main")],
                &r
            ),
            Tri::False
        );
        assert_eq!(
            eval_raw(
                "StringEquals",
                SUB,
                &[t("repo:acme@12/app@34:pull_request")],
                &r
            ),
            Tri::False
        );
    }
}
