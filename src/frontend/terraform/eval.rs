//! Terraform expressions evaluated as far as the scan knows their inputs: conditionals, `for`
//! expressions, string templates (with `%{if}`/`%{for}` directives), operators and the
//! collection and string functions IAM configurations are built with (`concat`, `merge`,
//! `flatten`, `distinct`, `compact`, `format`, `join`, `split`, `replace`, `lookup`,
//! `coalesce`, `try`, …).
//!
//! The HCL reader keeps such an expression as one unknown part holding its text; [`evaluate`]
//! parses that text again and computes what is known, with the variables and locals of the
//! module. Whatever depends on a value the scan cannot see stays an unknown part (its text kept
//! for messages): an unknown is never read as empty or absent. Two decisions where Terraform's
//! own answer depends on an unknown:
//! - a conditional whose condition is unknown yields both branches when both are lists (the
//!   values either branch may produce: each reachable one is judged), the branch value when
//!   both are the same, else an unknown;
//! - a `for` expression over an unknown collection yields one representative element computed
//!   with the loop variables unknown (`[for r in var.repos : "repo:acme/${r}:*"]` is a list of
//!   `repo:acme/${r}:*`, whose shape the rules can judge);
//! - a known map indexed by a key it cannot know (`local.repos[var.app]`) yields what a
//!   conditional would: every entry's items when all are lists, the value all share, else an
//!   unknown; an index that differs per instance (`local.subjects[each.key]`) stays unknown,
//!   since each instance takes one entry and the entries together are no one's value.
//!
//! The input is the scanned repository's: nesting depth and the number of nodes one evaluation
//! may build are bounded; past either bound the value is unknown.

use super::{Syms, ref_key};
use crate::source::Span;
use crate::source::tree::{Entry, Node, Part, Style, Template, Value};
use hcl_edit::Span as _;
use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::template::{Directive, Element, Template as HclTemplate};
use std::cell::Cell;
use std::collections::HashMap;

/// Longest expression text parsed again.
const MAX_TEXT: usize = 16 * 1024;
/// Deepest nesting evaluated.
const MAX_DEPTH: usize = 48;
/// Most nodes one evaluation may build.
const MAX_NODES: usize = 20_000;
/// Most iterations of one `for` expression or directive.
const MAX_ITEMS: usize = 1_000;

/// Evaluate the expression `text` (the whole value at `span`) with the module's symbols.
/// `None` when it is no expression this evaluator computes anything of.
pub(super) fn evaluate(text: &str, span: Span, syms: &Syms) -> Option<Node> {
    if text.len() > MAX_TEXT || !worth_parsing(text, syms) {
        return None;
    }
    let e = hcl_edit::parser::parse_expr(text).ok()?;
    let ev = Eval {
        src: text,
        span,
        syms,
        nodes: Cell::new(0),
    };
    let n = ev.eval(&e, &Scope::default(), 0);
    match &n.value {
        // Unknown as a whole stays as written; a branch the condition picks
        // (`var.x != "" ? var.x : aws_iam_role.r[0].name`) is that branch's expression.
        Value::Str(t) if matches!(t.parts.as_slice(), [Part::Unknown(u)] if u.trim() == text.trim()) => {
            None
        }
        _ => Some(n),
    }
}

/// Plain references are resolved by lookup; only expressions with calls, operators, indexes,
/// conditionals or `for`, and attributes of a known value (`local.config.repository`,
/// `module.settings.tags.team`: the lookup knows the value, not its attribute), are parsed again.
fn worth_parsing(text: &str, syms: &Syms) -> bool {
    if text.contains(['(', '?', '[', '{', '=', '!', '&', '|', '<', '>', '"']) {
        return true;
    }
    // (`aws_iam_role.x.arn` and the like, whose prefixes no symbol names, stay as written;
    // `path.module` inside a string is the module's directory)
    let t = text.trim();
    if matches!(t, "path.module" | "path.root" | "path.cwd") {
        return true;
    }
    t.match_indices('.')
        .skip(1)
        .any(|(i, _)| syms.contains_key(&t[..i]))
}

#[derive(Default, Clone)]
struct Scope {
    /// `for` variables in scope.
    vars: HashMap<String, Node>,
}

struct Eval<'a> {
    src: &'a str,
    span: Span,
    syms: &'a Syms,
    nodes: Cell<usize>,
}

/// A comparable rendering of a fully known value (`None` when any part is unknown).
fn canon(n: &Node) -> Option<String> {
    Some(match &n.value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Num(x) => num(x).map(|f| f.to_string()).unwrap_or_else(|| x.clone()),
        Value::Str(t) => format!("{:?}", t.known()?),
        Value::Seq(v) => {
            let items: Option<Vec<String>> = v.iter().map(canon).collect();
            format!("[{}]", items?.join(","))
        }
        Value::Map(v) => {
            let items: Option<Vec<String>> = v
                .iter()
                .map(|e| canon(&e.value).map(|c| format!("{:?}:{c}", e.key)))
                .collect();
            format!("{{{}}}", items?.join(","))
        }
        Value::Tagged(..) => return None,
    })
}

fn num(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok()
}

/// A value as text, when it is a string, number or boolean (partly known strings kept).
fn text_of(n: &Node) -> Option<Template> {
    match &n.value {
        Value::Str(t) => Some(t.clone()),
        Value::Num(x) => Some(Template::lit(x.clone())),
        Value::Bool(b) => Some(Template::lit(b.to_string())),
        _ => None,
    }
}

fn known_text(n: &Node) -> Option<String> {
    text_of(n)?.known()
}

fn is_unknown(n: &Node) -> bool {
    matches!(&n.value, Value::Str(t) if matches!(t.parts.as_slice(), [Part::Unknown(_)]))
}

fn push_part(parts: &mut Vec<Part>, p: Part) {
    match (parts.last_mut(), p) {
        (Some(Part::Lit(prev)), Part::Lit(s)) => prev.push_str(&s),
        (_, Part::Lit(s)) if s.is_empty() => {}
        (_, p) => parts.push(p),
    }
}

fn splice(parts: &mut Vec<Part>, t: &Template) {
    for p in &t.parts {
        push_part(parts, p.clone());
    }
}

fn finish(mut parts: Vec<Part>) -> Template {
    if parts.is_empty() {
        parts.push(Part::Lit(String::new()));
    }
    Template { parts }
}

fn size(n: &Node) -> usize {
    let mut k = 0usize;
    n.walk(&mut |_| k += 1);
    k
}

impl Eval<'_> {
    fn node(&self, value: Value) -> Node {
        self.nodes.set(self.nodes.get() + 1);
        Node {
            span: self.span,
            value,
            style: Style::Flow,
        }
    }

    /// A node built by the expression `e`, spanned where `e` is written.
    fn node_at(&self, e: &Expression, value: Value) -> Node {
        let mut n = self.node(value);
        n.span = self.at(e);
        n
    }

    /// Where an object key is written.
    fn key_at(&self, k: &ObjectKey) -> Span {
        match k {
            ObjectKey::Expression(x) => self.at(x),
            ObjectKey::Ident(i) => self.range_at(i.span()),
        }
    }

    fn text(&self, e: &Expression) -> String {
        e.span()
            .and_then(|r| self.src.get(r))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|| "…".into())
    }

    fn unknown(&self, e: &Expression) -> Node {
        self.node(Value::Str(Template::unknown(self.text(e))))
    }

    fn str(&self, s: impl Into<String>) -> Node {
        self.node(Value::Str(Template::lit(s)))
    }

    /// Where a literal of the expression is written: its own span when the evaluated text is
    /// the file's text at `span` (a list item keeps its line), else the whole value's.
    fn at(&self, e: &Expression) -> Span {
        self.range_at(e.span())
    }

    fn range_at(&self, r: Option<std::ops::Range<usize>>) -> Span {
        match r {
            Some(r)
                if (self.span.end - self.span.start) as usize == self.src.len()
                    && self.span.end > self.span.start
                    && r.end <= self.src.len() =>
            {
                Span::new(
                    self.span.start as usize + r.start,
                    self.span.start as usize + r.end,
                )
            }
            _ => self.span,
        }
    }

    fn over_budget(&self) -> bool {
        self.nodes.get() > MAX_NODES
    }

    /// A value taken from the symbols, respanned to the reference and counted.
    fn adopt(&self, n: &Node) -> Node {
        self.adopt_at(n, self.span)
    }

    /// [`Self::adopt`], respanned to where the reference `e` is written (a caller's value
    /// reported at the module's `var.NAME` inside a larger expression).
    fn adopt_ref(&self, n: &Node, e: &Expression) -> Node {
        self.adopt_at(n, self.at(e))
    }

    fn adopt_at(&self, n: &Node, span: Span) -> Node {
        let mut v = n.clone();
        self.nodes.set(self.nodes.get() + size(&v));
        fn respan(n: &mut Node, span: Span) {
            n.span = span;
            match &mut n.value {
                Value::Seq(items) => items.iter_mut().for_each(|i| respan(i, span)),
                Value::Map(entries) => entries.iter_mut().for_each(|e| {
                    e.key_span = span;
                    respan(&mut e.value, span)
                }),
                Value::Tagged(_, inner) => respan(inner, span),
                _ => {}
            }
        }
        respan(&mut v, span);
        v
    }

    fn eval(&self, e: &Expression, scope: &Scope, depth: usize) -> Node {
        if depth > MAX_DEPTH || self.over_budget() {
            return self.unknown(e);
        }
        let d = depth + 1;
        match e {
            Expression::Null(_) => self.node(Value::Null),
            Expression::Bool(b) => self.node(Value::Bool(*b.value())),
            Expression::Number(n) => self.node(Value::Num(n.value().to_string())),
            Expression::String(s) => {
                let mut n = self.str(s.value().clone());
                n.span = self.at(e);
                n
            }
            Expression::Array(a) => {
                let items = a.iter().map(|x| self.eval(x, scope, d)).collect();
                self.node_at(e, Value::Seq(items))
            }
            Expression::Object(o) => {
                let mut entries = Vec::new();
                for (k, v) in o.iter() {
                    let key = match k {
                        ObjectKey::Ident(i) => i.value().to_string(),
                        ObjectKey::Expression(x) => {
                            let kn = self.eval(x, scope, d);
                            match text_of(&kn) {
                                Some(t) => t.display(),
                                None => format!("${{{}}}", self.text(x)),
                            }
                        }
                    };
                    entries.push(Entry {
                        key,
                        key_span: self.key_at(k),
                        value: self.eval(v.expr(), scope, d),
                    });
                }
                self.node_at(e, Value::Map(entries))
            }
            Expression::StringTemplate(t) => {
                let mut parts = Vec::new();
                self.template(t, scope, d, &mut parts);
                self.node_at(e, Value::Str(finish(parts)))
            }
            Expression::HeredocTemplate(h) => {
                let mut parts = Vec::new();
                self.template(&h.template, scope, d, &mut parts);
                self.node_at(e, Value::Str(finish(parts)))
            }
            Expression::Parenthesis(p) => self.eval(p.inner(), scope, d),
            Expression::Variable(v) => match scope.vars.get(v.value().as_str()) {
                Some(n) => n.clone(),
                None => self
                    .lookup(v.value().as_str())
                    .unwrap_or_else(|| self.unknown(e)),
            },
            Expression::Traversal(t) => self.traversal(e, t, scope, d),
            Expression::Conditional(c) => {
                let cond = self.eval(&c.cond_expr, scope, d);
                match cond.value {
                    Value::Bool(true) => self.eval(&c.true_expr, scope, d),
                    Value::Bool(false) => self.eval(&c.false_expr, scope, d),
                    _ => {
                        let a = self.eval(&c.true_expr, scope, d);
                        let b = self.eval(&c.false_expr, scope, d);
                        match (&a.value, &b.value) {
                            (Value::Seq(x), Value::Seq(y)) => {
                                let mut v = x.clone();
                                v.extend(y.iter().cloned());
                                self.node(Value::Seq(v))
                            }
                            _ if canon(&a).is_some() && canon(&a) == canon(&b) => a,
                            _ => self.unknown(e),
                        }
                    }
                }
            }
            Expression::UnaryOp(u) => {
                let x = self.eval(&u.expr, scope, d);
                match (u.operator.value(), &x.value) {
                    (UnaryOperator::Not, Value::Bool(b)) => self.node(Value::Bool(!b)),
                    (UnaryOperator::Neg, Value::Num(n)) => match num(n) {
                        Some(f) => self.node(Value::Num((-f).to_string())),
                        None => self.unknown(e),
                    },
                    _ => self.unknown(e),
                }
            }
            Expression::BinaryOp(b) => self.binary(e, b, scope, d),
            Expression::FuncCall(f) => {
                if !f.name.namespace.is_empty() {
                    return self.unknown(e);
                }
                let args: Vec<&Expression> = f.args.iter().collect();
                self.call(e, f.name.name.value().as_str(), &args, scope, d)
            }
            Expression::ForExpr(f) => self.for_expr(e, f, scope, d),
        }
    }

    fn lookup(&self, key: &str) -> Option<Node> {
        self.syms.get(key).map(|n| self.adopt(n))
    }

    fn template(&self, t: &HclTemplate, scope: &Scope, d: usize, parts: &mut Vec<Part>) {
        for el in t.iter() {
            if self.over_budget() || d > MAX_DEPTH {
                parts.push(Part::Unknown("…".into()));
                return;
            }
            match el {
                Element::Literal(l) => push_part(parts, Part::Lit(l.value().to_string())),
                Element::Interpolation(i) => {
                    let v = self.eval(&i.expr, scope, d + 1);
                    match text_of(&v) {
                        Some(t) => splice(parts, &t),
                        None => push_part(parts, Part::Unknown(self.text(&i.expr))),
                    }
                }
                Element::Directive(dir) => match dir.as_ref() {
                    Directive::If(ifd) => {
                        let c = self.eval(&ifd.if_expr.cond_expr, scope, d + 1);
                        match c.value {
                            Value::Bool(true) => {
                                self.template(&ifd.if_expr.template, scope, d + 1, parts)
                            }
                            Value::Bool(false) => {
                                if let Some(el) = &ifd.else_expr {
                                    self.template(&el.template, scope, d + 1, parts)
                                }
                            }
                            _ => push_part(parts, Part::Unknown("%{if …}".into())),
                        }
                    }
                    Directive::For(fd) => {
                        let f = &fd.for_expr;
                        let coll = self.eval(&f.collection_expr, scope, d + 1);
                        let Some(items) = self.iterate(&coll) else {
                            push_part(parts, Part::Unknown("%{for …}".into()));
                            continue;
                        };
                        for (k, v) in items {
                            let mut s = scope.clone();
                            if let Some(kv) = &f.key_var {
                                s.vars.insert(kv.value().to_string(), k);
                            }
                            s.vars.insert(f.value_var.value().to_string(), v);
                            self.template(&f.template, &s, d + 1, parts);
                        }
                    }
                },
            }
        }
    }

    /// The (key, value) pairs of a known list or map.
    fn iterate(&self, coll: &Node) -> Option<Vec<(Node, Node)>> {
        match &coll.value {
            Value::Seq(v) if v.len() <= MAX_ITEMS => Some(
                v.iter()
                    .enumerate()
                    .map(|(i, x)| (self.node(Value::Num(i.to_string())), x.clone()))
                    .collect(),
            ),
            Value::Map(v) if v.len() <= MAX_ITEMS => Some(
                v.iter()
                    .map(|e| (self.str(e.key.clone()), e.value.clone()))
                    .collect(),
            ),
            _ => None,
        }
    }

    fn traversal(
        &self,
        e: &Expression,
        t: &hcl_edit::expr::Traversal,
        scope: &Scope,
        d: usize,
    ) -> Node {
        // The root: a `for` variable, else the longest dotted name the symbols know.
        let mut ops = t.operators.iter().map(|o| o.value()).peekable();
        let mut cur = match &t.expr {
            Expression::Variable(v) if scope.vars.contains_key(v.value().as_str()) => {
                scope.vars[v.value().as_str()].clone()
            }
            Expression::Variable(v) => {
                let root = v.value().to_string();
                if root == "path" {
                    // `path.module`: the module's own directory; `path.root`/`path.cwd`: the
                    // root module's, an ancestor the module builder looks for.
                    return match ops.next() {
                        Some(TraversalOperator::GetAttr(a)) if a.value().as_str() == "module" => {
                            match self.syms.get(super::MODULE_DIR).and_then(|d| d.as_str()) {
                                Some(d) => self.str(format!("{}{d}", super::MODULE_DIR)),
                                None => self.str("."),
                            }
                        }
                        Some(TraversalOperator::GetAttr(a))
                            if matches!(a.value().as_str(), "root" | "cwd") =>
                        {
                            self.str(super::ROOT_DIR)
                        }
                        _ => self.unknown(e),
                    };
                }
                let mut name = root;
                let mut found = self.syms.get(&name).map(|_| name.clone());
                let mut consumed = 0usize;
                let mut taken = 0usize;
                for op in t.operators.iter().map(|o| o.value()) {
                    let TraversalOperator::GetAttr(a) = op else {
                        break;
                    };
                    name = format!("{name}.{}", a.value());
                    taken += 1;
                    if self.syms.contains_key(&name) {
                        found = Some(name.clone());
                        consumed = taken;
                    }
                }
                let Some(key) = found else {
                    // Fall back on the reader's own key (`data.x.this[0].json`).
                    return self
                        .lookup(&ref_key(&self.text(e)))
                        .unwrap_or_else(|| self.unknown(e));
                };
                for _ in 0..consumed {
                    ops.next();
                }
                // (a variable, the caller's value, at its reference: the report maps it to
                // the caller's argument; other symbols keep the whole value's span)
                match self.syms.get(&key) {
                    Some(n) if key.starts_with("var.") => self.adopt_ref(n, e),
                    // (a local of the file being read keeps where its items are written)
                    Some(n) if super::same_file_local(&key, self.syms) => {
                        self.nodes.set(self.nodes.get() + size(n));
                        n.clone()
                    }
                    Some(n) => self.adopt(n),
                    None => return self.unknown(e),
                }
            }
            other => self.eval(other, scope, d),
        };
        for op in ops {
            let next = match (op, &cur.value) {
                (TraversalOperator::GetAttr(a), Value::Map(_)) => {
                    cur.get(a.value().as_str()).cloned()
                }
                (TraversalOperator::LegacyIndex(i), Value::Seq(v)) => {
                    v.get(*i.value() as usize).cloned()
                }
                (TraversalOperator::Index(ix), _) => {
                    let k = self.eval(ix, scope, d);
                    match (&cur.value, &k.value) {
                        (Value::Seq(v), Value::Num(n)) => num(n)
                            .and_then(|f| (f >= 0.0).then(|| v.get(f as usize)).flatten().cloned()),
                        (Value::Map(entries), _) => match known_text(&k) {
                            Some(s) => cur.get(&s).cloned(),
                            None if !self.per_instance(ix) => self.any_entry(entries),
                            None => None,
                        },
                        _ => None,
                    }
                }
                _ => None,
            };
            match next {
                Some(n) => cur = n,
                None => return self.unknown(e),
            }
        }
        cur
    }

    /// Whether an index reads what differs per instance of a resource or module
    /// (`each.key`, `each.value.level`, `count.index`): each instance takes one entry, so the
    /// entries together are no one instance's value.
    fn per_instance(&self, ix: &Expression) -> bool {
        let t = self.text(ix);
        t.match_indices("each.")
            .chain(t.match_indices("count."))
            .any(|(i, _)| {
                !t[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
            })
    }

    /// A known map's entry under a key the scan cannot know (`local.repos[var.app]`): the
    /// entries any value of the key could choose, judged as a conditional's branches are —
    /// every entry's items when all are lists, the one value when all are the same, else
    /// unknown.
    fn any_entry(&self, entries: &[Entry]) -> Option<Node> {
        if entries.is_empty() || entries.len() > MAX_ITEMS {
            return None;
        }
        if entries
            .iter()
            .all(|e| matches!(e.value.value, Value::Seq(_)))
        {
            let mut items = Vec::new();
            for e in entries {
                if let Value::Seq(v) = &e.value.value {
                    items.extend(v.iter().cloned());
                }
                if items.len() > MAX_ITEMS {
                    return None;
                }
            }
            return Some(self.node(Value::Seq(items)));
        }
        let first = canon(&entries[0].value)?;
        entries[1..]
            .iter()
            .all(|e| canon(&e.value).as_deref() == Some(first.as_str()))
            .then(|| entries[0].value.clone())
    }

    fn binary(
        &self,
        e: &Expression,
        b: &hcl_edit::expr::BinaryOp,
        scope: &Scope,
        d: usize,
    ) -> Node {
        let l = self.eval(&b.lhs_expr, scope, d);
        let op = *b.operator.value();
        // Three-valued `&&`/`||`: a known side may decide alone.
        if matches!(op, BinaryOperator::And | BinaryOperator::Or) {
            let r = self.eval(&b.rhs_expr, scope, d);
            let (lb, rb) = (as_bool(&l), as_bool(&r));
            let v = match op {
                BinaryOperator::And => match (lb, rb) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                },
                _ => match (lb, rb) {
                    (Some(true), _) | (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                },
            };
            return v.map_or_else(|| self.unknown(e), |v| self.node(Value::Bool(v)));
        }
        let r = self.eval(&b.rhs_expr, scope, d);
        match op {
            BinaryOperator::Eq | BinaryOperator::NotEq => match (canon(&l), canon(&r)) {
                (Some(x), Some(y)) => {
                    self.node(Value::Bool((x == y) == (op == BinaryOperator::Eq)))
                }
                _ => self.unknown(e),
            },
            _ => {
                let (Some(x), Some(y)) = (num_of(&l), num_of(&r)) else {
                    return self.unknown(e);
                };
                let v = match op {
                    BinaryOperator::Less => Value::Bool(x < y),
                    BinaryOperator::LessEq => Value::Bool(x <= y),
                    BinaryOperator::Greater => Value::Bool(x > y),
                    BinaryOperator::GreaterEq => Value::Bool(x >= y),
                    BinaryOperator::Plus => Value::Num((x + y).to_string()),
                    BinaryOperator::Minus => Value::Num((x - y).to_string()),
                    BinaryOperator::Mul => Value::Num((x * y).to_string()),
                    _ => return self.unknown(e),
                };
                self.node(v)
            }
        }
    }

    fn for_expr(
        &self,
        e: &Expression,
        f: &hcl_edit::expr::ForExpr,
        scope: &Scope,
        d: usize,
    ) -> Node {
        let coll = self.eval(&f.intro.collection_expr, scope, d);
        let kv = f.intro.key_var.as_ref().map(|k| k.value().to_string());
        let vv = f.intro.value_var.value().to_string();
        let items = match self.iterate(&coll) {
            Some(items) => items,
            None if f.key_expr.is_none() => {
                // An unknown collection: one representative element, loop variables unknown.
                let mut s = scope.clone();
                if let Some(k) = &kv {
                    s.vars.insert(
                        k.clone(),
                        self.node(Value::Str(Template::unknown(k.clone()))),
                    );
                }
                s.vars.insert(
                    vv.clone(),
                    self.node(Value::Str(Template::unknown(vv.clone()))),
                );
                let v = self.eval(&f.value_expr, &s, d);
                if is_unknown(&v) {
                    return self.unknown(e);
                }
                return self.node(Value::Seq(vec![v]));
            }
            None => return self.unknown(e),
        };
        let mut seq = Vec::new();
        let mut map: Vec<Entry> = Vec::new();
        for (k, v) in items {
            if self.over_budget() {
                return self.unknown(e);
            }
            let mut s = scope.clone();
            if let Some(name) = &kv {
                s.vars.insert(name.clone(), k);
            }
            s.vars.insert(vv.clone(), v);
            if let Some(c) = &f.cond
                && as_bool(&self.eval(&c.expr, &s, d)) == Some(false)
            {
                continue;
            }
            let val = self.eval(&f.value_expr, &s, d);
            match &f.key_expr {
                None => seq.push(val),
                Some(ke) => {
                    let Some(key) = known_text(&self.eval(ke, &s, d)) else {
                        return self.unknown(e);
                    };
                    // Grouping mode (`=> v...`): each key's values, in order, as a list.
                    if f.grouping {
                        match map.iter_mut().find(|x| x.key == key) {
                            Some(Entry {
                                value:
                                    Node {
                                        value: Value::Seq(vs),
                                        ..
                                    },
                                ..
                            }) => vs.push(val),
                            _ => map.push(Entry {
                                key,
                                key_span: self.span,
                                value: self.node(Value::Seq(vec![val])),
                            }),
                        }
                        continue;
                    }
                    map.retain(|x| x.key != key);
                    map.push(Entry {
                        key,
                        key_span: self.span,
                        value: val,
                    });
                }
            }
        }
        if f.key_expr.is_some() {
            self.node(Value::Map(map))
        } else {
            self.node(Value::Seq(seq))
        }
    }

    fn call(
        &self,
        e: &Expression,
        name: &str,
        args: &[&Expression],
        scope: &Scope,
        d: usize,
    ) -> Node {
        let ev = |i: usize| args.get(i).map(|a| self.eval(a, scope, d));
        let all = || -> Vec<Node> { args.iter().map(|a| self.eval(a, scope, d)).collect() };
        let unknown = || self.unknown(e);
        match name {
            "jsonencode" if args.len() == 1 => {
                let v = ev(0).unwrap_or_else(unknown);
                self.node(Value::Tagged("jsonencode".into(), Box::new(v)))
            }
            // Read by the module builder (templates and files of the scan), not here.
            "templatefile" | "file" => {
                let mut entries = vec![Entry {
                    key: "path".into(),
                    key_span: self.span,
                    value: ev(0).unwrap_or_else(unknown),
                }];
                if let Some(v) = ev(1) {
                    entries.push(Entry {
                        key: "vars".into(),
                        key_span: self.span,
                        value: v,
                    });
                }
                let inner = self.node(Value::Map(entries));
                self.node(Value::Tagged(name.into(), Box::new(inner)))
            }
            "tolist" | "toset" | "tomap" | "sensitive" | "nonsensitive" if args.len() == 1 => {
                ev(0).unwrap_or_else(unknown)
            }
            "concat" => {
                let mut out = Vec::new();
                for a in all() {
                    match a.value {
                        Value::Seq(v) => out.extend(v),
                        _ => return unknown(),
                    }
                }
                self.node(Value::Seq(out))
            }
            "merge" => {
                let mut out: Vec<Entry> = Vec::new();
                for a in all() {
                    match a.value {
                        Value::Map(v) => {
                            for en in v {
                                out.retain(|x| x.key != en.key);
                                out.push(en);
                            }
                        }
                        Value::Null => {}
                        _ => return unknown(),
                    }
                }
                self.node(Value::Map(out))
            }
            "flatten" if args.len() == 1 => {
                fn flat(n: Node, out: &mut Vec<Node>) -> bool {
                    match n.value {
                        Value::Seq(v) => v.into_iter().all(|x| flat(x, out)),
                        Value::Str(ref t) if matches!(t.parts.as_slice(), [Part::Unknown(_)]) => {
                            false
                        }
                        _ => {
                            out.push(n);
                            true
                        }
                    }
                }
                let mut out = Vec::new();
                match ev(0) {
                    Some(n) if flat(n.clone(), &mut out) => self.node(Value::Seq(out)),
                    _ => unknown(),
                }
            }
            "distinct" if args.len() == 1 => match ev(0).map(|n| n.value) {
                Some(Value::Seq(v)) => {
                    let mut seen: Vec<String> = Vec::new();
                    let mut out = Vec::new();
                    for x in v {
                        match canon(&x) {
                            Some(c) if seen.contains(&c) => {}
                            Some(c) => {
                                seen.push(c);
                                out.push(x);
                            }
                            None => out.push(x),
                        }
                    }
                    self.node(Value::Seq(out))
                }
                _ => unknown(),
            },
            "compact" if args.len() == 1 => match ev(0).map(|n| n.value) {
                Some(Value::Seq(v)) => {
                    let out = v
                        .into_iter()
                        .filter(|x| {
                            !matches!(&x.value, Value::Null) && known_text(x).as_deref() != Some("")
                        })
                        .collect();
                    self.node(Value::Seq(out))
                }
                _ => unknown(),
            },
            "format" if !args.is_empty() => {
                let vals = all();
                let Some(fmt) = known_text(&vals[0]) else {
                    return unknown();
                };
                let mut parts = Vec::new();
                let mut next = 1usize;
                let mut chars = fmt.chars().peekable();
                while let Some(c) = chars.next() {
                    if c != '%' {
                        push_part(&mut parts, Part::Lit(c.to_string()));
                        continue;
                    }
                    match chars.next() {
                        Some('%') => push_part(&mut parts, Part::Lit("%".into())),
                        Some('s' | 'd' | 'v' | 'q') => {
                            let Some(t) = vals.get(next).and_then(text_of) else {
                                return unknown();
                            };
                            splice(&mut parts, &t);
                            next += 1;
                        }
                        _ => return unknown(),
                    }
                }
                self.node(Value::Str(finish(parts)))
            }
            "join" if args.len() == 2 => {
                let (Some(sep), Some(Value::Seq(v))) =
                    (ev(0).as_ref().and_then(known_text), ev(1).map(|n| n.value))
                else {
                    return unknown();
                };
                let mut parts = Vec::new();
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        push_part(&mut parts, Part::Lit(sep.clone()));
                    }
                    match text_of(x) {
                        Some(t) => splice(&mut parts, &t),
                        None => return unknown(),
                    }
                }
                self.node(Value::Str(finish(parts)))
            }
            "split" if args.len() == 2 => {
                match (
                    ev(0).as_ref().and_then(known_text),
                    ev(1).as_ref().and_then(known_text),
                ) {
                    (Some(sep), Some(s)) if !sep.is_empty() => {
                        let items = s.split(sep.as_str()).map(|x| self.str(x)).collect();
                        self.node(Value::Seq(items))
                    }
                    _ => unknown(),
                }
            }
            "replace" if args.len() == 3 => {
                let v: Vec<Option<String>> = all().iter().map(known_text).collect();
                match (&v[0], &v[1], &v[2]) {
                    // `/…/` is a regular expression: not evaluated.
                    (Some(s), Some(from), Some(to))
                        if !(from.is_empty() || from.starts_with('/') && from.ends_with('/')) =>
                    {
                        self.str(s.replace(from.as_str(), to))
                    }
                    _ => unknown(),
                }
            }
            "tobool" if args.len() == 1 => match ev(0).as_ref().and_then(as_bool) {
                Some(b) => self.node(Value::Bool(b)),
                None => unknown(),
            },
            "tostring" if args.len() == 1 => match ev(0).map(|n| n.value) {
                Some(Value::Bool(b)) => self.str(b.to_string()),
                Some(Value::Num(n)) => self.str(n),
                Some(v @ Value::Str(_)) => self.node(v),
                _ => unknown(),
            },
            "tonumber" if args.len() == 1 => match ev(0).map(|n| n.value) {
                Some(v @ Value::Num(_)) => self.node(v),
                Some(Value::Str(t)) => match t.known().filter(|k| num(k).is_some()) {
                    Some(k) => self.node(Value::Num(k)),
                    None => unknown(),
                },
                _ => unknown(),
            },
            // Decided on the literal text at the side the test looks at, when it is long
            // enough (`startswith("refs/${var.x}", "refs/")` is true).
            "startswith" | "endswith" | "strcontains" if args.len() == 2 => {
                let (Some(t), Some(a)) = (
                    ev(0).as_ref().and_then(text_of),
                    ev(1).as_ref().and_then(known_text),
                ) else {
                    return unknown();
                };
                let decided = match (name, t.known()) {
                    ("startswith", Some(k)) => Some(k.starts_with(a.as_str())),
                    ("endswith", Some(k)) => Some(k.ends_with(a.as_str())),
                    (_, Some(k)) => Some(k.contains(a.as_str())),
                    ("startswith", None) => match t.parts.first() {
                        Some(Part::Lit(l)) if l.len() >= a.len() => Some(l.starts_with(a.as_str())),
                        _ => None,
                    },
                    ("endswith", None) => match t.parts.last() {
                        Some(Part::Lit(l)) if l.len() >= a.len() => Some(l.ends_with(a.as_str())),
                        _ => None,
                    },
                    _ => t
                        .parts
                        .iter()
                        .any(|p| matches!(p, Part::Lit(l) if l.contains(a.as_str())))
                        .then_some(true),
                };
                match decided {
                    Some(b) => self.node(Value::Bool(b)),
                    None => unknown(),
                }
            }
            "lower" | "upper" | "trimspace" if args.len() == 1 => {
                match ev(0).as_ref().and_then(known_text) {
                    Some(s) => self.str(match name {
                        "lower" => s.to_lowercase(),
                        "upper" => s.to_uppercase(),
                        _ => s.trim().to_string(),
                    }),
                    None => unknown(),
                }
            }
            "trimprefix" | "trimsuffix" if args.len() == 2 => {
                let s = ev(0).as_ref().and_then(text_of);
                let a = ev(1).as_ref().and_then(known_text);
                match (s, a) {
                    (Some(t), Some(a)) => {
                        let mut t = t;
                        if name == "trimprefix" {
                            if let Some(Part::Lit(first)) = t.parts.first_mut() {
                                if let Some(rest) = first.strip_prefix(a.as_str()) {
                                    *first = rest.to_string();
                                }
                            } else {
                                return unknown();
                            }
                        } else if let Some(Part::Lit(last)) = t.parts.last_mut() {
                            if let Some(rest) = last.strip_suffix(a.as_str()) {
                                *last = rest.to_string();
                            }
                        } else {
                            return unknown();
                        }
                        self.node(Value::Str(t))
                    }
                    _ => unknown(),
                }
            }
            // (a Terragrunt configuration: the directory of the unit it is evaluated for)
            "get_terragrunt_dir" if args.is_empty() => {
                self.lookup(super::TERRAGRUNT_DIR).unwrap_or_else(unknown)
            }
            // Terraform's RE2 syntax, which the `regex` crate shares (linear time; its compiled
            // size is bounded): the matches, when the pattern captures nothing.
            "regexall" if args.len() == 2 => {
                let v: Vec<Option<String>> = all().iter().map(known_text).collect();
                let (Some(p), Some(text)) = (&v[0], &v[1]) else {
                    return unknown();
                };
                let Ok(re) = regex::RegexBuilder::new(p)
                    .size_limit(1 << 20)
                    .dfa_size_limit(1 << 20)
                    .build()
                else {
                    return unknown();
                };
                if re.captures_len() != 1 {
                    return unknown();
                }
                let items = re
                    .find_iter(text)
                    .take(1024)
                    .map(|m| self.str(m.as_str().to_string()))
                    .collect();
                self.node(Value::Seq(items))
            }
            "length" if args.len() == 1 => match ev(0).map(|n| n.value) {
                Some(Value::Seq(v)) => self.node(Value::Num(v.len().to_string())),
                Some(Value::Map(v)) => self.node(Value::Num(v.len().to_string())),
                Some(Value::Str(t)) if t.is_known() => self.node(Value::Num(
                    t.known().unwrap_or_default().chars().count().to_string(),
                )),
                _ => unknown(),
            },
            "lookup" if args.len() >= 2 => {
                let m = ev(0).unwrap_or_else(unknown);
                let k = ev(1).as_ref().and_then(known_text);
                match (&m.value, k) {
                    (Value::Map(_), Some(k)) => match m.get(&k) {
                        Some(v) => v.clone(),
                        None => ev(2).unwrap_or_else(unknown),
                    },
                    _ => unknown(),
                }
            }
            "element" if args.len() == 2 => {
                match (ev(0).map(|n| n.value), ev(1).map(|n| n.value)) {
                    (Some(Value::Seq(v)), Some(Value::Num(i))) if !v.is_empty() => {
                        match num(&i).filter(|f| *f >= 0.0) {
                            Some(f) => v[(f as usize) % v.len()].clone(),
                            None => unknown(),
                        }
                    }
                    _ => unknown(),
                }
            }
            "keys" | "values" if args.len() == 1 => match ev(0).map(|n| n.value) {
                Some(Value::Map(v)) => {
                    let items = v
                        .into_iter()
                        .map(|en| {
                            if name == "keys" {
                                self.str(en.key)
                            } else {
                                en.value
                            }
                        })
                        .collect();
                    self.node(Value::Seq(items))
                }
                _ => unknown(),
            },
            "contains" if args.len() == 2 => {
                match (ev(0).map(|n| n.value), ev(1).as_ref().and_then(canon)) {
                    (Some(Value::Seq(v)), Some(x)) => {
                        let cs: Vec<Option<String>> = v.iter().map(canon).collect();
                        if cs.iter().any(|c| c.as_deref() == Some(x.as_str())) {
                            self.node(Value::Bool(true))
                        } else if cs.iter().all(Option::is_some) {
                            self.node(Value::Bool(false))
                        } else {
                            unknown()
                        }
                    }
                    _ => unknown(),
                }
            }
            // The first argument that is known to be non-null (and, for coalesce, non-empty);
            // an unknown one before it decides nothing.
            "coalesce" | "coalescelist" => {
                for a in all() {
                    if is_unknown(&a) {
                        return unknown();
                    }
                    let empty = match &a.value {
                        Value::Null => true,
                        Value::Seq(v) => v.is_empty(),
                        Value::Str(t) => t.known().as_deref() == Some(""),
                        _ => false,
                    };
                    if !empty {
                        return a;
                    }
                }
                unknown()
            }
            // `try`: the first argument the scan can evaluate; whether an earlier, unknown one
            // would fail is not known, so an unknown first argument stays unknown.
            "try" => match ev(0) {
                Some(a) if !is_unknown(&a) => a,
                _ => unknown(),
            },
            _ => unknown(),
        }
    }
}

pub(super) fn as_bool(n: &Node) -> Option<bool> {
    match &n.value {
        Value::Bool(b) => Some(*b),
        Value::Str(t) => match t.known()?.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn num_of(n: &Node) -> Option<f64> {
    match &n.value {
        Value::Num(x) => num(x),
        Value::Str(t) => num(&t.known()?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syms(pairs: &[(&str, &str)]) -> Syms {
        let mut s = Syms::new();
        for (k, v) in pairs {
            let e = hcl_edit::parser::parse_expr(v).unwrap();
            let ev = Eval {
                src: v,
                span: Span::default(),
                syms: &Syms::new(),
                nodes: Cell::new(0),
            };
            s.insert(k.to_string(), ev.eval(&e, &Scope::default(), 0));
        }
        s
    }

    fn show(n: &Node) -> String {
        match &n.value {
            Value::Str(t) => t.display(),
            Value::Seq(v) => format!("[{}]", v.iter().map(show).collect::<Vec<_>>().join(",")),
            Value::Map(v) => format!(
                "{{{}}}",
                v.iter()
                    .map(|e| format!("{}={}", e.key, show(&e.value)))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Value::Num(x) => x.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Null => "null".into(),
            Value::Tagged(t, inner) => format!("{t}({})", show(inner)),
        }
    }

    fn ev(text: &str, s: &Syms) -> String {
        evaluate(text, Span::default(), s)
            .map(|n| show(&n))
            .unwrap_or_else(|| "?".into())
    }

    #[test]
    fn functions_and_conditionals() {
        let s = syms(&[
            ("var.org", "\"acme\""),
            ("var.repos", "[\"a\", \"b\"]"),
            ("var.empty", "[]"),
            ("local.base", "{ x = 1 }"),
        ]);
        assert_eq!(ev("concat(var.repos, [\"c\"])", &s), "[a,b,c]");
        assert_eq!(
            ev("[for r in var.repos : \"repo:${var.org}/${r}:*\"]", &s),
            "[repo:acme/a:*,repo:acme/b:*]"
        );
        assert_eq!(
            ev("[for r in var.unknown : \"repo:${var.org}/${r}:*\"]", &s),
            "[repo:acme/${r}:*]"
        );
        assert_eq!(
            ev(
                "length(var.empty) == 0 ? [\"${var.org}/*\"] : var.repos",
                &s
            ),
            "[acme/*]"
        );
        assert_eq!(ev("var.flag ? [\"x\"] : [\"y\"]", &s), "[x,y]");
        assert_eq!(ev("var.flag ? \"x\" : \"y\"", &s), "?");
        assert_eq!(ev("merge(local.base, { y = \"2\" })", &s), "{x=1,y=2}");
        assert_eq!(ev("merge(local.base, var.other)", &s), "?");
        assert_eq!(
            ev("format(\"repo:%s/%s:*\", var.org, var.name)", &s),
            "repo:acme/${var.name}:*"
        );
        assert_eq!(ev("join(\",\", var.repos)", &s), "a,b");
        assert_eq!(ev("split(\",\", \"a,b\")", &s), "[a,b]");
        assert_eq!(
            ev("replace(\"repo:X:*\", \"X\", var.org)", &s),
            "repo:acme:*"
        );
        assert_eq!(ev("lookup(local.base, \"x\", 2)", &s), "1");
        assert_eq!(ev("coalesce(\"\", var.org)", &s), "acme");
        assert_eq!(ev("coalesce(var.nope, \"x\")", &s), "?");
        assert_eq!(ev("distinct(flatten([var.repos, [\"a\"]]))", &s), "[a,b]");
        assert_eq!(ev("compact([\"\", \"a\"])", &s), "[a]");
        assert_eq!(ev("try(var.repos[0], \"x\")", &s), "a");
        assert_eq!(
            ev("\"%{ for r in var.repos }${r};%{ endfor }\"", &s),
            "a;b;"
        );
        assert_eq!(
            ev(
                "\"%{ if var.org == \"acme\" }yes%{ else }no%{ endif }\"",
                &s
            ),
            "yes"
        );
        assert_eq!(ev("regexall(\":+\", \"acme/app:ref\")", &s), "[:]");
        assert_eq!(ev("length(regexall(\":+\", var.org)) > 0", &s), "false");
        assert_eq!(ev("regexall(\"(a)\", var.org)", &s), "?");
        assert_eq!(ev("regexall(\"[\", var.org)", &s), "?");
        assert_eq!(
            ev(
                "templatefile(\"${path.module}/t.tpl\", { org = var.org })",
                &s
            ),
            "templatefile({path=./t.tpl,vars={org=acme}})"
        );
    }

    #[test]
    fn an_element_is_never_the_whole_collection() {
        let s = syms(&[("local.subjects", "{ ci = [\"repo:acme/app:*\"] }")]);
        for (text, want) in [
            ("local.subjects[each.key]", "${local.subjects[each.key]}"),
            ("local.subjects[\"ci\"]", "[repo:acme/app:*]"),
        ] {
            let mut n = Node::new(Span::default(), Value::Str(Template::unknown(text)));
            super::super::resolve(&mut n, &s);
            assert_eq!(show(&n), want, "{text}");
        }
    }

    #[test]
    fn an_unknown_key_chooses_any_entry() {
        let s = syms(&[
            (
                "local.repos",
                "{ a = [\"repo:acme/a:*\"], b = [\"repo:acme/b:*\", \"x\"] }",
            ),
            ("local.names", "{ a = \"deploy\", b = \"deploy\" }"),
            ("local.mixed", "{ a = \"deploy\", b = \"plan\" }"),
        ]);
        for (text, want) in [
            ("local.repos[var.app]", "[repo:acme/a:*,repo:acme/b:*,x]"),
            ("local.names[var.app]", "deploy"),
            ("local.mixed[var.app]", "${local.mixed[var.app]}"),
            (
                "local.repos[each.value.app]",
                "${local.repos[each.value.app]}",
            ),
            ("local.repos[count.index]", "${local.repos[count.index]}"),
        ] {
            let mut n = Node::new(Span::default(), Value::Str(Template::unknown(text)));
            super::super::resolve(&mut n, &s);
            assert_eq!(show(&n), want, "{text}");
        }
    }

    #[test]
    fn bounded() {
        // Doubling a list 30 times would build a billion nodes: the budget stops it.
        let mut s = syms(&[("local.l0", "[\"x\", \"y\"]")]);
        for i in 1..30 {
            let text = format!("concat(local.l{}, local.l{})", i - 1, i - 1);
            if let Some(n) = evaluate(&text, Span::default(), &s) {
                s.insert(format!("local.l{i}"), n);
            }
        }
        assert!(s.values().all(|n| size(n) <= 2 * MAX_NODES + 2));
        let deep = format!("{}1{}", "(".repeat(200), ")".repeat(200));
        let _ = evaluate(&deep, Span::default(), &s);
    }
}
