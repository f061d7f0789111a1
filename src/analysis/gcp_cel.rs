//! CEL for Google Cloud workload identity: `attribute_condition` and `attribute_mapping` values
//! parsed with the `cel` crate (cel-rust) and evaluated three-valued against the claims a job
//! can present.
//!
//! Evaluation yields the set of outcomes a CEL run could have ([`Outcomes`]: true, false,
//! error), so that `!`, `&&` and `||` follow CEL's error rules (`false && error` is false,
//! `!error` is an error) and an unknown claim stays unknown. Google rejects a credential whose
//! condition is false or fails, so a condition admits a job when `true` is its only outcome,
//! rejects it when `true` is not among them, and is unknown otherwise.
//!
//! Supported: string and boolean literals, lists, `==`, `!=`, `&&`, `||`, `!`, `in [...]`,
//! `.startsWith/.endsWith/.contains/.matches`, `assertion.X` (also `assertion['X']`),
//! `attribute.X`, `google.subject`, `google.groups`, `+` on strings. Anything else evaluates
//! to every outcome (unknown), never to a guess.
//!
//! The parser (ANTLR-generated) needs deep stacks for nested input: an expression longer than
//! Google's limit (4,096 characters) or nested deeper than [`MAX_NESTING`] is not parsed, and
//! the parse runs on its own thread with a large stack, where its AST is also dropped.

use super::eval::{Hole, StrOp, Tri, VPart, Val, value_match};
use crate::source::tree::{Part, Template};

/// Google's limit on an attribute condition's length, in characters.
pub const MAX_LEN: usize = 4096;
/// Deepest bracket/unary/conditional nesting parsed.
pub const MAX_NESTING: usize = 24;
const PARSE_STACK: usize = 64 << 20;

/// A parsed expression, in the subset evaluated here.
#[derive(Clone, Debug, PartialEq)]
pub enum E {
    Str(String),
    Bool(bool),
    List(Vec<E>),
    /// `assertion.X`, `attribute.X`, `google.X`.
    Var(Ns, String),
    Eq(Box<E>, Box<E>),
    Ne(Box<E>, Box<E>),
    And(Box<E>, Box<E>),
    Or(Box<E>, Box<E>),
    Not(Box<E>),
    In(Box<E>, Box<E>),
    Call(Method, Box<E>, Box<E>),
    Add(Box<E>, Box<E>),
    Cond(Box<E>, Box<E>, Box<E>),
    /// Valid CEL outside the evaluated subset (its kind, for messages), with the operands it
    /// reads (so that the claims it depends on stay visible).
    Other(String, Vec<E>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ns {
    Assertion,
    Attribute,
    Google,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    StartsWith,
    EndsWith,
    Contains,
    Matches,
}

/// Why a condition was not parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CelError {
    /// Not valid CEL: the parser's message.
    Syntax(String),
    /// Longer than Google accepts.
    TooLong(usize),
    /// Too deeply nested to analyse (not a verdict on validity).
    TooDeep,
}

/// Nesting measure of the text: brackets, runs of unary operators and `?` count as levels.
fn nesting(text: &str) -> usize {
    let (mut depth, mut max, mut unary, mut q) = (0usize, 0usize, 0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut esc = false;
    for c in text.chars() {
        if let Some(qc) = quote {
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == qc {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            '?' => q += 1,
            '!' | '-' => {
                unary += 1;
                max = max.max(depth + unary + q);
                continue;
            }
            c if c.is_whitespace() => continue,
            _ => {}
        }
        unary = 0;
        max = max.max(depth + q);
    }
    max
}

/// Parse a CEL expression into the evaluated subset.
pub fn parse(text: &str) -> Result<E, CelError> {
    parse_many(&[text]).pop().unwrap_or(Err(CelError::TooDeep))
}

/// Parse many expressions (one parser thread for all of them), in order.
pub fn parse_many(texts: &[&str]) -> Vec<Result<E, CelError>> {
    let mut out: Vec<Option<Result<E, CelError>>> = Vec::with_capacity(texts.len());
    let mut todo: Vec<(usize, String)> = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let n = text.chars().count();
        if n > MAX_LEN {
            out.push(Some(Err(CelError::TooLong(n))));
        } else if nesting(text) > MAX_NESTING {
            out.push(Some(Err(CelError::TooDeep)));
        } else {
            out.push(None);
            todo.push((i, text.to_string()));
        }
    }
    // a few parser threads (the ANTLR parser is slow in debug builds and on big scans)
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4)
        .min(todo.len().div_ceil(64).max(1));
    let per = todo.len().div_ceil(threads).max(1);
    let chunks: Vec<Vec<(usize, String)>> = todo.chunks(per).map(|c| c.to_vec()).collect();
    std::thread::scope(|sc| {
        let handles: Vec<_> = chunks
            .into_iter()
            .filter_map(|chunk| {
                std::thread::Builder::new()
                    .name("cel-parse".into())
                    .stack_size(PARSE_STACK)
                    .spawn_scoped(sc, move || {
                        chunk
                            .into_iter()
                            .map(|(i, text)| {
                                let r = match cel::parser::Parser::new().parse(&text) {
                                    Ok(ast) => Ok(convert(&ast.expr, 0)),
                                    Err(e) => Err(CelError::Syntax(first_line(&e.to_string()))),
                                };
                                (i, r)
                            })
                            .collect::<Vec<_>>()
                    })
                    .ok()
            })
            .collect();
        for h in handles {
            if let Ok(v) = h.join() {
                for (i, r) in v {
                    out[i] = Some(r);
                }
            }
        }
    });
    out.into_iter()
        .map(|r| r.unwrap_or(Err(CelError::TooDeep)))
        .collect()
}

fn first_line(s: &str) -> String {
    let l = s
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    // ANTLR's "expecting {…}" lists every token: the position and the cause are enough
    let l = l.split(" expecting").next().unwrap_or(l);
    l.chars().take(160).collect()
}

fn convert(e: &cel::common::ast::Expr, depth: usize) -> E {
    use cel::common::ast::{Expr, LiteralValue, operators as op};
    if depth > 4 * MAX_NESTING {
        return E::Other("nesting".into(), vec![]);
    }
    let c = |x: &cel::IdedExpr| Box::new(convert(&x.expr, depth + 1));
    let kids = |call: &cel::common::ast::CallExpr| -> Vec<E> {
        call.target
            .iter()
            .map(|t| convert(&t.expr, depth + 1))
            .chain(call.args.iter().map(|a| convert(&a.expr, depth + 1)))
            .collect()
    };
    match e {
        Expr::Literal(LiteralValue::String(s)) => E::Str(s.inner().to_string()),
        Expr::Literal(LiteralValue::Boolean(b)) => E::Bool(*b.inner()),
        Expr::Literal(_) => E::Other("literal".into(), vec![]),
        Expr::List(l) => E::List(
            l.elements
                .iter()
                .map(|x| convert(&x.expr, depth + 1))
                .collect(),
        ),
        Expr::Ident(name) => E::Other(format!("identifier `{name}`"), vec![]),
        Expr::Select(s) if !s.test => match &s.operand.expr {
            Expr::Ident(root) => match root.as_str() {
                "assertion" => E::Var(Ns::Assertion, s.field.clone()),
                "attribute" => E::Var(Ns::Attribute, s.field.clone()),
                "google" => E::Var(Ns::Google, s.field.clone()),
                other => E::Other(format!("identifier `{other}`"), vec![]),
            },
            _ => E::Other(
                "field selection".into(),
                vec![convert(&s.operand.expr, depth + 1)],
            ),
        },
        Expr::Call(call) => {
            let a = &call.args;
            match (call.func_name.as_str(), call.target.as_ref(), a.len()) {
                (op::EQUALS, None, 2) => E::Eq(c(&a[0]), c(&a[1])),
                (op::NOT_EQUALS, None, 2) => E::Ne(c(&a[0]), c(&a[1])),
                (op::LOGICAL_AND, None, 2) => E::And(c(&a[0]), c(&a[1])),
                (op::LOGICAL_OR, None, 2) => E::Or(c(&a[0]), c(&a[1])),
                (op::LOGICAL_NOT, None, 1) => E::Not(c(&a[0])),
                (op::IN, None, 2) => E::In(c(&a[0]), c(&a[1])),
                (op::ADD, None, 2) => E::Add(c(&a[0]), c(&a[1])),
                (op::CONDITIONAL, None, 3) => E::Cond(c(&a[0]), c(&a[1]), c(&a[2])),
                (op::INDEX, None, 2) => match (&a[0].expr, &a[1].expr) {
                    (Expr::Ident(r), Expr::Literal(LiteralValue::String(k)))
                        if r == "assertion" =>
                    {
                        E::Var(Ns::Assertion, k.inner().to_string())
                    }
                    _ => E::Other("index".into(), kids(call)),
                },
                (m, Some(t), 1) => {
                    let method = match m {
                        "startsWith" => Method::StartsWith,
                        "endsWith" => Method::EndsWith,
                        "contains" => Method::Contains,
                        "matches" => Method::Matches,
                        other => return E::Other(format!("function `{other}`"), kids(call)),
                    };
                    E::Call(method, c(t), c(&a[0]))
                }
                (f, _, _) => E::Other(format!("function `{}`", f.trim_matches('_')), kids(call)),
            }
        }
        Expr::Comprehension(c) => E::Other(
            "macro".into(),
            vec![
                convert(&c.iter_range.expr, depth + 1),
                convert(&c.loop_step.expr, depth + 1),
            ],
        ),
        _ => E::Other("expression".into(), vec![]),
    }
}

impl E {
    /// Every `(namespace, name)` the expression reads.
    pub fn vars(&self, out: &mut Vec<(Ns, String)>) {
        match self {
            E::Var(ns, n) => out.push((*ns, n.clone())),
            E::List(v) => v.iter().for_each(|x| x.vars(out)),
            E::Eq(a, b) | E::Ne(a, b) | E::And(a, b) | E::Or(a, b) | E::In(a, b) | E::Add(a, b) => {
                a.vars(out);
                b.vars(out);
            }
            E::Call(_, a, b) => {
                a.vars(out);
                b.vars(out);
            }
            E::Cond(a, b, c) => {
                a.vars(out);
                b.vars(out);
                c.vars(out);
            }
            E::Not(a) => a.vars(out),
            E::Other(_, kids) => kids.iter().for_each(|x| x.vars(out)),
            _ => {}
        }
    }
    /// Every string literal of the expression.
    pub fn strings(&self, out: &mut Vec<String>) {
        match self {
            E::Str(v) => out.push(v.clone()),
            E::List(v) | E::Other(_, v) => v.iter().for_each(|x| x.strings(out)),
            E::Eq(a, b) | E::Ne(a, b) | E::And(a, b) | E::Or(a, b) | E::In(a, b) | E::Add(a, b) => {
                a.strings(out);
                b.strings(out);
            }
            E::Call(_, a, b) => {
                a.strings(out);
                b.strings(out);
            }
            E::Cond(a, b, c) => {
                a.strings(out);
                b.strings(out);
                c.strings(out);
            }
            E::Not(a) => a.strings(out),
            _ => {}
        }
    }
    /// A value that is never a boolean (a string or list literal, a mapping-like concat):
    /// `attribute_condition` must be boolean.
    pub fn surely_not_bool(&self) -> bool {
        matches!(self, E::Str(_) | E::List(_) | E::Add(..))
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/// The set of outcomes a boolean CEL expression may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Outcomes {
    pub t: bool,
    pub f: bool,
    pub err: bool,
}

impl Outcomes {
    pub const TRUE: Outcomes = Outcomes {
        t: true,
        f: false,
        err: false,
    };
    pub const FALSE: Outcomes = Outcomes {
        t: false,
        f: true,
        err: false,
    };
    pub const ERR: Outcomes = Outcomes {
        t: false,
        f: false,
        err: true,
    };
    pub const ANY: Outcomes = Outcomes {
        t: true,
        f: true,
        err: true,
    };
    fn from_tri(t: Tri) -> Outcomes {
        match t {
            Tri::True => Outcomes::TRUE,
            Tri::False => Outcomes::FALSE,
            Tri::Unknown => Outcomes {
                t: true,
                f: true,
                err: false,
            },
        }
    }
    fn each(self) -> impl Iterator<Item = Option<bool>> {
        [
            (self.t, Some(true)),
            (self.f, Some(false)),
            (self.err, None),
        ]
        .into_iter()
        .filter(|(b, _)| *b)
        .map(|(_, v)| v)
    }
    fn combine(
        self,
        o: Outcomes,
        f: impl Fn(Option<bool>, Option<bool>) -> Option<bool>,
    ) -> Outcomes {
        let mut out = Outcomes::default();
        for a in self.each() {
            for b in o.each() {
                match f(a, b) {
                    Some(true) => out.t = true,
                    Some(false) => out.f = true,
                    None => out.err = true,
                }
            }
        }
        out
    }
    /// Whether Google admits the credential: only when `true` is the sole outcome.
    pub fn admits(self) -> Tri {
        match (self.t, self.f || self.err) {
            (true, false) => Tri::True,
            (false, _) => Tri::False,
            _ => Tri::Unknown,
        }
    }
}

/// A claim's value as the evaluator sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// A string, possibly partly known.
    Str(Val),
    /// Not in the token: reading it is an error.
    Absent,
    /// Not known whether present, nor its value (lists, numbers, anything).
    Unknown,
    /// A claim naming a tenant the condition's author does not own: `prefix`, then a name the
    /// other tenant chose (equal to no literal the condition names), then, when `delim` is
    /// given, that character and anything (`repo:` + OWNER + `/`…).
    Foreign {
        prefix: &'static str,
        delim: Option<char>,
    },
}

/// Where claims and mapped attributes come from.
pub trait Env {
    fn assertion(&self, name: &str) -> Claim;
    /// `attribute.X` / `google.X`: the mapping's value (mapped through [`eval_str`]), `Absent`
    /// when the mapping does not define it.
    fn mapped(&self, ns: Ns, name: &str) -> Claim;
}

#[derive(Clone, Debug)]
enum V {
    S(Val),
    B(Outcomes),
    L(Vec<V>),
    Err,
    /// Any value or an error.
    Any,
    /// [`Claim::Foreign`].
    F(&'static str, Option<char>),
}

fn claim_v(c: Claim) -> V {
    match c {
        Claim::Str(v) => V::S(v),
        Claim::Absent => V::Err,
        Claim::Unknown => V::Any,
        Claim::Foreign { prefix, delim } => V::F(prefix, delim),
    }
}

fn eval(e: &E, env: &dyn Env, depth: usize) -> V {
    if depth > 8 * MAX_NESTING {
        return V::Any;
    }
    let ev = |x: &E| eval(x, env, depth + 1);
    match e {
        E::Str(s) => V::S(Val::lit(s.clone())),
        E::Bool(b) => V::B(if *b { Outcomes::TRUE } else { Outcomes::FALSE }),
        E::List(items) => V::L(items.iter().map(ev).collect()),
        E::Var(Ns::Assertion, n) => claim_v(env.assertion(n)),
        E::Var(ns, n) => claim_v(env.mapped(*ns, n)),
        E::Eq(a, b) => V::B(equals(&ev(a), &ev(b))),
        E::Ne(a, b) => V::B(not(equals(&ev(a), &ev(b)))),
        E::Not(a) => V::B(not(boolean(&ev(a)))),
        E::And(a, b) => V::B(
            boolean(&ev(a)).combine(boolean(&ev(b)), |x, y| match (x, y) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            }),
        ),
        E::Or(a, b) => V::B(
            boolean(&ev(a)).combine(boolean(&ev(b)), |x, y| match (x, y) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            }),
        ),
        E::In(a, b) => {
            let x = ev(a);
            match ev(b) {
                V::L(items) => {
                    let mut acc = Outcomes::FALSE;
                    for i in &items {
                        acc = acc.combine(equals(&x, i), |p, q| match (p, q) {
                            (Some(true), _) | (_, Some(true)) => Some(true),
                            (Some(false), Some(false)) => Some(false),
                            _ => None,
                        });
                    }
                    if matches!(x, V::Err) {
                        return V::B(Outcomes::ERR);
                    }
                    V::B(acc)
                }
                V::Err => V::B(Outcomes::ERR),
                _ => V::B(Outcomes::ANY),
            }
        }
        E::Add(a, b) => match (ev(a), ev(b)) {
            (V::S(x), V::S(y)) => V::S(Val::concat(&[&x, &y])),
            (V::Err, _) | (_, V::Err) => V::Err,
            _ => V::Any,
        },
        E::Call(m, t, arg) => match (ev(t), ev(arg)) {
            (V::S(s), V::S(a)) => V::B(method(*m, &s, &a)),
            (V::F(prefix, delim), V::S(a)) => V::B(foreign_method(*m, prefix, delim, &a)),
            (V::Err, _) | (_, V::Err) => V::B(Outcomes::ERR),
            _ => V::B(Outcomes::ANY),
        },
        E::Cond(c, a, b) => {
            let o = boolean(&ev(c));
            match (o.t, o.f || o.err) {
                (true, false) => ev(a),
                (false, _) if !o.err => ev(b),
                _ => V::Any,
            }
        }
        E::Other(..) => V::Any,
    }
}

fn boolean(v: &V) -> Outcomes {
    match v {
        V::B(o) => *o,
        V::Any => Outcomes::ANY,
        // a string or list where a boolean is needed: a type error
        _ => Outcomes::ERR,
    }
}

fn not(o: Outcomes) -> Outcomes {
    Outcomes {
        t: o.f,
        f: o.t,
        err: o.err,
    }
}

fn equals(a: &V, b: &V) -> Outcomes {
    match (a, b) {
        (V::Err, _) | (_, V::Err) => Outcomes::ERR,
        // another tenant's name equals no literal the condition names
        (V::F(..), V::S(x)) | (V::S(x), V::F(..)) if x.known().is_some() => Outcomes::FALSE,
        (V::S(x), V::S(y)) => match (x.known(), y.known()) {
            (Some(p), _) => {
                Outcomes::from_tri(value_match(StrOp::Equals, &Template::lit(like_lit(&p)), y))
            }
            (_, Some(q)) => {
                Outcomes::from_tri(value_match(StrOp::Equals, &Template::lit(like_lit(&q)), x))
            }
            _ => Outcomes {
                t: true,
                f: true,
                err: false,
            },
        },
        (V::B(x), V::B(y)) => x.combine(*y, |p, q| match (p, q) {
            (Some(p), Some(q)) => Some(p == q),
            _ => None,
        }),
        // CEL's heterogeneous equality: a string never equals a bool or a list
        (V::S(_), V::B(o)) | (V::B(o), V::S(_)) => {
            if o.err {
                Outcomes {
                    t: false,
                    f: true,
                    err: true,
                }
            } else {
                Outcomes::FALSE
            }
        }
        _ => Outcomes::ANY,
    }
}

/// `*` and `?` written literally in a `Like` pattern, and `$` (pattern variables).
fn like_lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '*' => out.push_str("${*}"),
            '?' => out.push_str("${?}"),
            '$' => out.push_str("${$}"),
            c => out.push(c),
        }
    }
    out
}

/// `startsWith` and friends on another tenant's claim: a prefix reaching past the tenant's
/// name (it holds the delimiter after the name) names the author's own tenant, so it is false;
/// anything else the other tenant can satisfy by choosing its name.
fn foreign_method(m: Method, prefix: &str, delim: Option<char>, a: &Val) -> Outcomes {
    let maybe = Outcomes {
        t: true,
        f: true,
        err: false,
    };
    let Some(arg) = a.known() else { return maybe };
    match m {
        Method::StartsWith => {
            if prefix.starts_with(arg.as_str()) {
                return Outcomes::TRUE;
            }
            match arg.strip_prefix(prefix) {
                None => Outcomes::FALSE,
                Some(rest) if delim.is_some_and(|d| rest.contains(d)) => Outcomes::FALSE,
                Some(_) => maybe,
            }
        }
        _ => maybe,
    }
}

fn method(m: Method, s: &Val, a: &Val) -> Outcomes {
    let Some(arg) = a.known() else {
        return Outcomes {
            t: true,
            f: true,
            err: false,
        };
    };
    let pat = match m {
        Method::StartsWith => format!("{}*", like_lit(&arg)),
        Method::EndsWith => format!("*{}", like_lit(&arg)),
        Method::Contains => format!("*{}*", like_lit(&arg)),
        Method::Matches => {
            return match (s.known(), regex::Regex::new(&arg)) {
                (Some(v), Ok(re)) => Outcomes::from_tri(Tri::from_bool(re.is_match(&v))),
                (_, Err(_)) => Outcomes::ERR,
                (None, Ok(_)) => Outcomes {
                    t: true,
                    f: true,
                    err: false,
                },
            };
        }
    };
    Outcomes::from_tri(value_match(StrOp::Like, &Template::lit(pat), s))
}

/// Evaluate a boolean expression (an `attribute_condition`).
pub fn eval_bool(e: &E, env: &dyn Env) -> Outcomes {
    boolean(&eval(e, env, 0))
}

/// Evaluate a string expression (an `attribute_mapping` value).
pub fn eval_str(e: &E, env: &dyn Env) -> Claim {
    match eval(e, env, 0) {
        V::S(v) => Claim::Str(v),
        V::Err => Claim::Absent,
        V::F(prefix, delim) => Claim::Foreign { prefix, delim },
        _ => Claim::Unknown,
    }
}

/// A template with unknown parts as a value with holes.
pub fn val_of(t: &Template, hole: Hole) -> Val {
    let mut v = Val::default();
    for p in &t.parts {
        match p {
            Part::Lit(s) => v.push_lit(s),
            Part::Unknown(_) => v.push_hole(hole),
        }
    }
    v
}

/// Whether a value is one literal string.
pub fn lit_of(v: &Val) -> Option<&str> {
    match v.parts.as_slice() {
        [VPart::Lit(s)] => Some(s),
        [] => Some(""),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct M(BTreeMap<String, Claim>);
    impl Env for M {
        fn assertion(&self, n: &str) -> Claim {
            self.0.get(n).cloned().unwrap_or(Claim::Absent)
        }
        fn mapped(&self, _: Ns, n: &str) -> Claim {
            self.0
                .get(&format!("@{n}"))
                .cloned()
                .unwrap_or(Claim::Absent)
        }
    }
    fn env(pairs: &[(&str, Option<&str>)]) -> M {
        M(pairs
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    match v {
                        Some(s) => Claim::Str(Val::lit(*s)),
                        None => Claim::Unknown,
                    },
                )
            })
            .collect())
    }
    fn run(c: &str, e: &M) -> Tri {
        eval_bool(&parse(c).unwrap(), e).admits()
    }

    #[test]
    fn basics() {
        let e = env(&[
            ("repository_owner", Some("acme")),
            ("repository", Some("acme/app")),
            ("ref", None),
        ]);
        assert_eq!(run("assertion.repository_owner == 'acme'", &e), Tri::True);
        assert_eq!(run("assertion.repository_owner == 'evil'", &e), Tri::False);
        assert_eq!(
            run(
                "assertion.repository_owner != 'evil' && assertion.repository.startsWith('acme/')",
                &e
            ),
            Tri::True
        );
        assert_eq!(
            run("assertion.repository in ['acme/app', 'acme/x']", &e),
            Tri::True
        );
        assert_eq!(run("assertion.repository in ['acme/y']", &e), Tri::False);
        assert_eq!(run("assertion.ref == 'refs/heads/main'", &e), Tri::Unknown);
        assert_eq!(
            run(
                "assertion.ref == 'refs/heads/main' && assertion.repository_owner == 'evil'",
                &e
            ),
            Tri::False
        );
        // a missing claim is an error: rejected, and `!` does not turn it into true
        assert_eq!(run("assertion.nope == 'x'", &e), Tri::False);
        assert_eq!(run("!(assertion.nope == 'x')", &e), Tri::False);
        assert_eq!(
            run(
                "assertion.nope == 'x' || assertion.repository_owner == 'acme'",
                &e
            ),
            Tri::True
        );
        assert_eq!(run("assertion.repository.matches('^acme/')", &e), Tri::True);
        assert_eq!(run("size(assertion.repository) > 3", &e), Tri::Unknown);
        assert_eq!(
            run("assertion['repository_owner'] == 'acme'", &e),
            Tri::True
        );
    }

    #[test]
    fn partial_values() {
        let mut m = env(&[]);
        let mut r = Val::lit("acme/");
        r.push_hole(Hole::NoColon);
        m.0.insert("repository".into(), Claim::Str(r));
        assert_eq!(
            run("assertion.repository.startsWith('acme/')", &m),
            Tri::True
        );
        assert_eq!(run("assertion.repository == 'evil/app'", &m), Tri::False);
        assert_eq!(run("assertion.repository == 'acme/app'", &m), Tri::Unknown);
    }

    #[test]
    fn errors_and_limits() {
        assert!(matches!(parse("assertion.x =="), Err(CelError::Syntax(_))));
        assert!(matches!(
            parse(&"a".repeat(5000)),
            Err(CelError::TooLong(5000))
        ));
        let deep = format!("{}true{}", "(".repeat(200), ")".repeat(200));
        assert_eq!(parse(&deep), Err(CelError::TooDeep));
        let deep = format!("{}true", "!".repeat(200));
        assert_eq!(parse(&deep), Err(CelError::TooDeep));
        let ok = format!("{}true{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert!(parse(&ok).is_ok());
        let long_chain = (0..300)
            .map(|i| format!("assertion.a == '{i}'"))
            .collect::<Vec<_>>()
            .join(" || ");
        assert!(long_chain.len() < MAX_LEN * 3);
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        const CLAIMS: &[&str] = &["repository", "repository_owner", "ref"];
        const VALUES: &[&str] = &["acme", "acme/app", "evil/app", "refs/heads/main", "a*", ""];

        fn arb_str() -> impl Strategy<Value = String> {
            prop_oneof![
                (0..CLAIMS.len()).prop_map(|i| format!("assertion.{}", CLAIMS[i])),
                (0..VALUES.len()).prop_map(|i| format!("'{}'", VALUES[i])),
                Just("assertion.missing".to_string()),
            ]
        }
        fn arb_bool() -> impl Strategy<Value = String> {
            let leaf = prop_oneof![
                (arb_str(), arb_str()).prop_map(|(a, b)| format!("{a} == {b}")),
                (arb_str(), arb_str()).prop_map(|(a, b)| format!("{a} != {b}")),
                (arb_str(), 0..VALUES.len())
                    .prop_map(|(a, i)| format!("{a}.startsWith('{}')", VALUES[i])),
                (arb_str(), 0..VALUES.len())
                    .prop_map(|(a, i)| format!("{a}.endsWith('{}')", VALUES[i])),
                (arb_str(), 0..VALUES.len())
                    .prop_map(|(a, i)| format!("{a}.contains('{}')", VALUES[i])),
                (arb_str(), 0..VALUES.len(), 0..VALUES.len())
                    .prop_map(|(a, i, j)| format!("{a} in ['{}', '{}']", VALUES[i], VALUES[j])),
                Just("true".to_string()),
                Just("false".to_string()),
            ];
            leaf.prop_recursive(4, 24, 2, |inner| {
                prop_oneof![
                    (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) && ({b})")),
                    (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) || ({b})")),
                    inner.prop_map(|a| format!("!({a})")),
                ]
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            /// Forgetting a claim never turns a verdict into its opposite: the outcome set with
            /// some claims unknown contains the outcome with them known.
            #[test]
            fn unknown_claims_are_sound(c in arb_bool(), vals in proptest::collection::vec(0..VALUES.len(), 3), hide in proptest::collection::vec(any::<bool>(), 3)) {
                let e = parse(&c).unwrap();
                let mut known = BTreeMap::new();
                let mut partial = BTreeMap::new();
                for (i, name) in CLAIMS.iter().enumerate() {
                    let v = Claim::Str(Val::lit(VALUES[vals[i]]));
                    known.insert(name.to_string(), v.clone());
                    partial.insert(name.to_string(), if hide[i] { Claim::Unknown } else { v });
                }
                let k = eval_bool(&e, &M(known));
                let p = eval_bool(&e, &M(partial));
                // fully known: exactly one outcome
                prop_assert_eq!(k.t as u8 + k.f as u8 + k.err as u8, 1);
                prop_assert!((!k.t || p.t) && (!k.f || p.f) && (!k.err || p.err), "{c}: {k:?} not in {p:?}");
                let (ka, pa) = (k.admits(), p.admits());
                prop_assert!(pa == Tri::Unknown || pa == ka);
            }

            /// Arbitrary text never panics, and parses or fails the same way twice.
            #[test]
            fn parse_total(s in "[ -~]{0,80}") {
                let a = parse(&s);
                prop_assert_eq!(a, parse(&s));
            }
        }
    }
}
