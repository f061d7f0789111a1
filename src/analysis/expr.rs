//! GitHub Actions expressions (`if:` conditions): a small parser and a three-valued evaluator.
//!
//! The question a rule asks is "can this job (or step) run when an outsider starts event E?".
//! [`Cond::may_run`] answers it by evaluating the expression with `github.event_name` known and
//! the values an outsider controls modelled symbolically (a fork's name never equals this
//! repository's, an outsider's login never equals a name the workflow pins, an outsider's
//! `author_association` is never `OWNER`/`MEMBER`/`COLLABORATOR`); every other context value is
//! unknown. The answer is `False` only when the expression is false for every value of the
//! unknowns the evaluator cannot see, so a rule that skips on `False` never skips a job that can
//! run. The input is repository-controlled: length and nesting are bounded, nothing panics, and
//! anything not understood is unknown.

/// Longest expression parsed; longer ones are unknown.
pub const MAX_LEN: usize = 4096;
/// Deepest nesting parsed; deeper ones are unknown.
pub const MAX_DEPTH: usize = 48;

#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Lit(Lit),
    /// A context path, lower-cased, `*` for a filter or a computed index (`github.event.x`).
    Path(Vec<String>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Three-valued truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tri {
    True,
    False,
    Unknown,
}

impl Tri {
    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }
    fn or(self, o: Tri) -> Tri {
        match (self, o) {
            (Tri::True, _) | (_, Tri::True) => Tri::True,
            (Tri::False, Tri::False) => Tri::False,
            _ => Tri::Unknown,
        }
    }
    fn from_bool(b: bool) -> Tri {
        if b { Tri::True } else { Tri::False }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Star,
    Not,
    And,
    Or,
    Cmp(CmpOp),
}

#[derive(Clone, PartialEq)]
enum Token {
    P(Tok),
    Ident(String),
    Lit(Lit),
}

fn lex(s: &str) -> Option<Vec<Token>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let two = |n: u8| b.get(i + 1) == Some(&n);
        let (t, n) = match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'(' => (Token::P(Tok::LParen), 1),
            b')' => (Token::P(Tok::RParen), 1),
            b'[' => (Token::P(Tok::LBracket), 1),
            b']' => (Token::P(Tok::RBracket), 1),
            b',' => (Token::P(Tok::Comma), 1),
            b'.' if !b.get(i + 1).is_some_and(u8::is_ascii_digit) => (Token::P(Tok::Dot), 1),
            b'*' => (Token::P(Tok::Star), 1),
            b'!' if two(b'=') => (Token::P(Tok::Cmp(CmpOp::Ne)), 2),
            b'!' => (Token::P(Tok::Not), 1),
            b'=' if two(b'=') => (Token::P(Tok::Cmp(CmpOp::Eq)), 2),
            b'<' if two(b'=') => (Token::P(Tok::Cmp(CmpOp::Le)), 2),
            b'<' => (Token::P(Tok::Cmp(CmpOp::Lt)), 1),
            b'>' if two(b'=') => (Token::P(Tok::Cmp(CmpOp::Ge)), 2),
            b'>' => (Token::P(Tok::Cmp(CmpOp::Gt)), 1),
            b'&' if two(b'&') => (Token::P(Tok::And), 2),
            b'|' if two(b'|') => (Token::P(Tok::Or), 2),
            b'\'' => {
                let mut v = String::new();
                let mut j = i + 1;
                loop {
                    let rest = s.get(j..)?;
                    let k = rest.find('\'')?;
                    v.push_str(&rest[..k]);
                    j += k + 1;
                    if b.get(j) == Some(&b'\'') {
                        v.push('\'');
                        j += 1;
                    } else {
                        break;
                    }
                }
                out.push(Token::Lit(Lit::Str(v)));
                i = j;
                continue;
            }
            c if c.is_ascii_digit() || c == b'-' || c == b'.' => {
                let mut j = i + 1;
                while j < b.len()
                    && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'.' | b'+' | b'-'))
                {
                    j += 1;
                }
                let text = &s[i..j];
                let v = if let Some(h) = text.strip_prefix("0x") {
                    i64::from_str_radix(h, 16).ok()? as f64
                } else {
                    text.parse::<f64>().ok()?
                };
                out.push(Token::Lit(Lit::Num(v)));
                i = j;
                continue;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'_' | b'-')) {
                    j += 1;
                }
                let w = &s[i..j];
                let t = match w {
                    "true" => Token::Lit(Lit::Bool(true)),
                    "false" => Token::Lit(Lit::Bool(false)),
                    "null" => Token::Lit(Lit::Null),
                    _ => Token::Ident(w.to_ascii_lowercase()),
                };
                out.push(t);
                i = j;
                continue;
            }
            _ => return None,
        };
        out.push(t);
        i += n;
    }
    Some(out)
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }
    fn eat(&mut self, t: Tok) -> bool {
        if self.peek() == Some(&Token::P(t)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }
    fn or(&mut self) -> Option<Expr> {
        self.enter()?;
        let mut l = self.and()?;
        while self.eat(Tok::Or) {
            l = Expr::Or(Box::new(l), Box::new(self.and()?));
        }
        self.depth -= 1;
        Some(l)
    }
    fn and(&mut self) -> Option<Expr> {
        let mut l = self.cmp()?;
        while self.eat(Tok::And) {
            l = Expr::And(Box::new(l), Box::new(self.cmp()?));
        }
        Some(l)
    }
    fn cmp(&mut self) -> Option<Expr> {
        let mut l = self.unary()?;
        while let Some(Token::P(Tok::Cmp(op))) = self.peek() {
            let op = *op;
            self.pos += 1;
            l = Expr::Cmp(op, Box::new(l), Box::new(self.unary()?));
        }
        Some(l)
    }
    fn unary(&mut self) -> Option<Expr> {
        if self.eat(Tok::Not) {
            self.enter()?;
            let e = self.unary()?;
            self.depth -= 1;
            return Some(Expr::Not(Box::new(e)));
        }
        self.primary()
    }
    fn primary(&mut self) -> Option<Expr> {
        let t = self.peek()?.clone();
        self.pos += 1;
        let base = match t {
            Token::Lit(l) => return Some(Expr::Lit(l)),
            Token::P(Tok::LParen) => {
                let e = self.or()?;
                self.eat(Tok::RParen).then_some(())?;
                return self.postfix(e);
            }
            Token::Ident(name) => {
                if self.eat(Tok::LParen) {
                    let mut args = Vec::new();
                    if !self.eat(Tok::RParen) {
                        loop {
                            args.push(self.or()?);
                            if self.eat(Tok::RParen) {
                                break;
                            }
                            self.eat(Tok::Comma).then_some(())?;
                        }
                    }
                    Expr::Call(name, args)
                } else {
                    Expr::Path(vec![name])
                }
            }
            _ => return None,
        };
        self.postfix(base)
    }
    /// `.name`, `.*` and `[index]` after a path (or after a call/parenthesis: then unknown).
    fn postfix(&mut self, base: Expr) -> Option<Expr> {
        let mut path = match &base {
            Expr::Path(p) => Some(p.clone()),
            _ => None,
        };
        let mut any = false;
        loop {
            let seg = if self.eat(Tok::Dot) {
                let seg = match self.peek() {
                    Some(Token::Ident(n)) => n.clone(),
                    Some(Token::P(Tok::Star)) => "*".to_string(),
                    // `true`/`null` as a property name.
                    Some(Token::Lit(Lit::Bool(b))) => b.to_string(),
                    Some(Token::Lit(Lit::Null)) => "null".to_string(),
                    _ => return None,
                };
                self.pos += 1;
                seg
            } else if self.eat(Tok::LBracket) {
                let seg = if self.eat(Tok::Star) {
                    "*".to_string()
                } else {
                    match self.or()? {
                        Expr::Lit(Lit::Str(s)) => s.to_ascii_lowercase(),
                        _ => "*".to_string(),
                    }
                };
                self.eat(Tok::RBracket).then_some(())?;
                seg
            } else {
                break;
            };
            if let Some(p) = path.as_mut() {
                p.push(seg);
            }
            any = true;
        }
        Some(match path {
            Some(p) => Expr::Path(p),
            // A property of a call's result: unknown.
            None if any => Expr::Call("?".into(), vec![]),
            None => base,
        })
    }
}

/// Parse an `if:` value: a bare expression or one wrapped in `${{ }}`. `None` when it is not
/// understood (too long, too deep, a syntax GitHub would reject, or text mixed with `${{ }}`).
pub fn parse(src: &str) -> Option<Expr> {
    if src.len() > MAX_LEN {
        return None;
    }
    let t = src.trim();
    let inner = match t.strip_prefix("${{").and_then(|r| r.strip_suffix("}}")) {
        Some(i) if !i.contains("${{") => i,
        Some(_) => return None,
        None if t.contains("${{") => return None,
        None => t,
    };
    let toks = lex(inner)?;
    if toks.is_empty() {
        return None;
    }
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.or()?;
    (p.pos == p.toks.len()).then_some(e)
}

/// Who the outsider is for an event: which context values they control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sym {
    /// `github.repository`.
    Repo,
    /// A value the outsider chose (their login, their fork's name): never equal to this
    /// repository's name or a literal the workflow pins.
    Foreign,
    /// The outsider's `author_association`.
    Assoc,
    /// `github.event.workflow_run.event` of a run an outsider started.
    OutsiderEvent,
}

#[derive(Clone, Debug, PartialEq)]
enum V {
    Lit(Lit),
    Array(Vec<Lit>),
    Sym(Sym),
    /// Unknown, but truthy (`unknown || true`) or falsy (`unknown && false`).
    Truthy,
    Falsy,
    Unknown,
}

/// Events an outsider's run of `workflow_run` can come from.
const OUTSIDER_EVENTS: &[&str] = &[
    "pull_request",
    "pull_request_target",
    "pull_request_review",
    "pull_request_review_comment",
    "issue_comment",
    "issues",
    "discussion",
    "discussion_comment",
    "fork",
    "watch",
    "gollum",
    "workflow_run",
];

const PRIVILEGED: &[&str] = &["owner", "member", "collaborator"];

/// Who starts the run the expression is evaluated for.
#[derive(Clone, Copy)]
struct Who<'a> {
    event: &'a str,
    /// An outsider (the values they control modelled), or anyone (only the event known).
    outsider: bool,
}

fn resolve(path: &[String], w: Who<'_>) -> V {
    let event = w.event;
    let p = path.join(".");
    let p = p.as_str();
    if p == "github.event_name" {
        return V::Lit(Lit::Str(event.to_string()));
    }
    if p == "github.repository" {
        return V::Sym(Sym::Repo);
    }
    // A property of the payload the event does not carry is null.
    if let Some(top) = p.strip_prefix("github.event.") {
        let top = top.split('.').next().unwrap_or("");
        let carried: &[&str] = match event {
            "pull_request_target" => &[
                "pull_request",
                "number",
                "label",
                "assignee",
                "requested_reviewer",
                "requested_team",
                "changes",
            ],
            "workflow_run" => &["workflow_run", "workflow"],
            "issue_comment" => &["issue", "comment", "changes"],
            "issues" => &["issue", "label", "assignee", "milestone", "changes"],
            "pull_request_review" => &["pull_request", "review", "changes"],
            "pull_request_review_comment" => &["pull_request", "comment", "changes"],
            "discussion" => &["discussion", "answer", "label", "changes"],
            "discussion_comment" => &["discussion", "comment", "changes"],
            "fork" => &["forkee"],
            "watch" => &[],
            "gollum" => &["pages"],
            _ => &["*"],
        };
        const COMMON: &[&str] = &[
            "action",
            "sender",
            "repository",
            "organization",
            "installation",
            "enterprise",
        ];
        if !carried.contains(&"*")
            && !carried.contains(&top)
            && !COMMON.contains(&top)
            && top != "*"
        {
            return V::Lit(Lit::Null);
        }
    }
    if !w.outsider {
        return V::Unknown;
    }
    // The object the outsider created for each event.
    let own = match event {
        "pull_request_target" => "pull_request",
        "issue_comment" | "discussion_comment" | "pull_request_review_comment" => "comment",
        "pull_request_review" => "review",
        "issues" => "issue",
        "discussion" => "discussion",
        _ => "",
    };
    let ev = |rest: &str| format!("github.event.{rest}");
    match event {
        "pull_request_target" => {
            if [
                "github.event.pull_request.head.repo.full_name",
                "github.event.pull_request.head.repo.owner.login",
                "github.event.pull_request.head.repo.name",
                "github.event.pull_request.head.label",
                "github.event.pull_request.user.login",
            ]
            .contains(&p)
            {
                return V::Sym(Sym::Foreign);
            }
            if p == "github.event.pull_request.head.repo.fork" {
                return V::Lit(Lit::Bool(true));
            }
        }
        "workflow_run" => {
            if [
                "github.event.workflow_run.head_repository.full_name",
                "github.event.workflow_run.head_repository.owner.login",
                "github.event.workflow_run.head_repository.name",
            ]
            .contains(&p)
            {
                return V::Sym(Sym::Foreign);
            }
            if p == "github.event.workflow_run.head_repository.fork" {
                return V::Lit(Lit::Bool(true));
            }
            if p == "github.event.workflow_run.event" {
                return V::Sym(Sym::OutsiderEvent);
            }
        }
        _ => {
            // The outsider is the event's sender.
            if [
                "github.actor",
                "github.triggering_actor",
                "github.event.sender.login",
            ]
            .contains(&p)
            {
                return V::Sym(Sym::Foreign);
            }
        }
    }
    if !own.is_empty() {
        if p == ev(&format!("{own}.user.login")) {
            return V::Sym(Sym::Foreign);
        }
        if p == ev(&format!("{own}.author_association")) {
            return V::Sym(Sym::Assoc);
        }
    }
    V::Unknown
}

fn truthy(v: &V) -> Tri {
    match v {
        V::Lit(Lit::Null) => Tri::False,
        V::Lit(Lit::Bool(b)) => Tri::from_bool(*b),
        V::Lit(Lit::Num(n)) => Tri::from_bool(*n != 0.0 && !n.is_nan()),
        V::Lit(Lit::Str(s)) => Tri::from_bool(!s.is_empty()),
        V::Array(_) => Tri::True,
        V::Sym(Sym::Repo | Sym::Foreign | Sym::Assoc | Sym::OutsiderEvent) => Tri::True,
        V::Truthy => Tri::True,
        V::Falsy => Tri::False,
        V::Unknown => Tri::Unknown,
    }
}

fn lit_eq(a: &Lit, b: &Lit) -> Tri {
    match (a, b) {
        (Lit::Str(x), Lit::Str(y)) => Tri::from_bool(x.eq_ignore_ascii_case(y)),
        (Lit::Num(x), Lit::Num(y)) => Tri::from_bool(x == y),
        (Lit::Bool(x), Lit::Bool(y)) => Tri::from_bool(x == y),
        (Lit::Null, Lit::Null) => Tri::True,
        // Mixed types are coerced to numbers by GitHub; not modelled.
        _ => Tri::Unknown,
    }
}

fn sym_eq_lit(s: Sym, l: &Lit) -> Tri {
    let Lit::Str(l) = l else {
        // Each symbolic value is a non-empty string.
        return if *l == Lit::Null {
            Tri::False
        } else {
            Tri::Unknown
        };
    };
    let l = l.to_ascii_lowercase();
    match s {
        Sym::Foreign => Tri::False,
        Sym::Assoc if PRIVILEGED.contains(&l.as_str()) => Tri::False,
        Sym::OutsiderEvent if !OUTSIDER_EVENTS.contains(&l.as_str()) => Tri::False,
        _ => Tri::Unknown,
    }
}

fn eq(a: &V, b: &V) -> Tri {
    match (a, b) {
        (V::Lit(x), V::Lit(y)) => lit_eq(x, y),
        (V::Sym(s), V::Lit(l)) | (V::Lit(l), V::Sym(s)) => sym_eq_lit(*s, l),
        (V::Sym(Sym::Foreign), V::Sym(Sym::Repo)) | (V::Sym(Sym::Repo), V::Sym(Sym::Foreign)) => {
            Tri::False
        }
        _ => Tri::Unknown,
    }
}

fn contains(hay: &V, needle: &V) -> Tri {
    match (hay, needle) {
        (V::Lit(Lit::Str(h)), V::Lit(Lit::Str(n))) => {
            Tri::from_bool(h.to_ascii_lowercase().contains(&n.to_ascii_lowercase()))
        }
        (V::Array(items), n) => items
            .iter()
            .map(|i| eq(&V::Lit(i.clone()), n))
            .fold(Tri::False, Tri::or),
        _ => Tri::Unknown,
    }
}

fn str_fn(a: &V, b: &V, f: fn(&str, &str) -> bool) -> Tri {
    match (a, b) {
        (V::Lit(Lit::Str(x)), V::Lit(Lit::Str(y))) => {
            Tri::from_bool(f(&x.to_ascii_lowercase(), &y.to_ascii_lowercase()))
        }
        _ => Tri::Unknown,
    }
}

fn from_json(v: &V) -> V {
    let V::Lit(Lit::Str(s)) = v else {
        return V::Unknown;
    };
    let conv = |j: &serde_json::Value| -> Option<Lit> {
        Some(match j {
            serde_json::Value::Null => Lit::Null,
            serde_json::Value::Bool(b) => Lit::Bool(*b),
            serde_json::Value::Number(n) => Lit::Num(n.as_f64()?),
            serde_json::Value::String(s) => Lit::Str(s.clone()),
            _ => return None,
        })
    };
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(serde_json::Value::Array(a)) => a
            .iter()
            .map(conv)
            .collect::<Option<Vec<_>>>()
            .map(V::Array)
            .unwrap_or(V::Unknown),
        Ok(j) => conv(&j).map(V::Lit).unwrap_or(V::Unknown),
        Err(_) => V::Unknown,
    }
}

fn tri_v(t: Tri) -> V {
    match t {
        Tri::True => V::Lit(Lit::Bool(true)),
        Tri::False => V::Lit(Lit::Bool(false)),
        Tri::Unknown => V::Unknown,
    }
}

fn eval(e: &Expr, w: Who<'_>) -> V {
    match e {
        Expr::Lit(l) => V::Lit(l.clone()),
        Expr::Path(p) => resolve(p, w),
        Expr::Not(x) => tri_v(truthy(&eval(x, w)).not()),
        // `a && b` and `a || b` yield one of their operands, as in GitHub.
        Expr::And(a, b) => {
            let a = eval(a, w);
            match truthy(&a) {
                Tri::False => a,
                Tri::True => eval(b, w),
                Tri::Unknown => match truthy(&eval(b, w)) {
                    Tri::False => V::Falsy,
                    _ => V::Unknown,
                },
            }
        }
        Expr::Or(a, b) => {
            let a = eval(a, w);
            match truthy(&a) {
                Tri::True => a,
                Tri::False => eval(b, w),
                Tri::Unknown => match truthy(&eval(b, w)) {
                    Tri::True => V::Truthy,
                    _ => V::Unknown,
                },
            }
        }
        Expr::Cmp(op, a, b) => {
            let (a, b) = (eval(a, w), eval(b, w));
            match op {
                CmpOp::Eq => tri_v(eq(&a, &b)),
                CmpOp::Ne => tri_v(eq(&a, &b).not()),
                _ => match (&a, &b) {
                    (V::Lit(Lit::Num(x)), V::Lit(Lit::Num(y))) => tri_v(Tri::from_bool(match op {
                        CmpOp::Lt => x < y,
                        CmpOp::Le => x <= y,
                        CmpOp::Gt => x > y,
                        _ => x >= y,
                    })),
                    _ => V::Unknown,
                },
            }
        }
        Expr::Call(name, args) => {
            let a: Vec<V> = args.iter().map(|x| eval(x, w)).collect();
            match (name.as_str(), a.as_slice()) {
                // The job runs when earlier jobs succeeded (the default) or always.
                ("success" | "always", []) => V::Lit(Lit::Bool(true)),
                ("contains", [h, n]) => tri_v(contains(h, n)),
                ("startswith", [x, y]) => tri_v(str_fn(x, y, |x, y| x.starts_with(y))),
                ("endswith", [x, y]) => tri_v(str_fn(x, y, |x, y| x.ends_with(y))),
                ("fromjson", [x]) => from_json(x),
                _ => V::Unknown,
            }
        }
    }
}

/// A parsed `if:` condition, or one that is not understood (then it may always run).
#[derive(Clone, Debug)]
pub struct Cond(Option<Expr>);

impl Cond {
    pub fn new(src: Option<&str>) -> Cond {
        match src {
            None => Cond(Some(Expr::Lit(Lit::Bool(true)))),
            Some(s) => Cond(parse(s)),
        }
    }
    /// The condition's truth when an outsider starts `event`.
    pub fn eval(&self, event: &str) -> Tri {
        match &self.0 {
            Some(e) => truthy(&eval(
                e,
                Who {
                    event,
                    outsider: true,
                },
            )),
            None => Tri::Unknown,
        }
    }
    /// Can the job or step run for `event` at all, whoever starts it (only
    /// `github.event_name` and what the event's payload lacks are known)?
    pub fn may_run_for_anyone(&self, event: &str) -> bool {
        match &self.0 {
            Some(e) => {
                truthy(&eval(
                    e,
                    Who {
                        event,
                        outsider: false,
                    },
                )) != Tri::False
            }
            None => true,
        }
    }
    /// Can the job or step run when an outsider starts `event`?
    pub fn may_run(&self, event: &str) -> bool {
        self.eval(event) != Tri::False
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ev(s: &str, event: &str) -> Tri {
        Cond::new(Some(s)).eval(event)
    }

    #[test]
    fn event_names() {
        let c = "github.event_name != 'workflow_run' || github.event.workflow_run.conclusion == 'success'";
        assert_eq!(ev(c, "workflow_run"), Tri::Unknown);
        assert_eq!(ev(c, "push"), Tri::True);
        assert_eq!(
            ev("${{ github.event_name == 'push' }}", "pull_request_target"),
            Tri::False
        );
        assert_eq!(ev("github.event_name == 'PUSH'", "push"), Tri::True);
        assert_eq!(
            ev(
                "github.event_name != 'pull_request_target' && github.event_name != 'workflow_run'",
                "workflow_run"
            ),
            Tri::False
        );
        assert_eq!(
            ev(
                "contains(fromJSON('[\"push\", \"schedule\"]'), github.event_name)",
                "issue_comment"
            ),
            Tri::False
        );
        assert_eq!(ev("!(github.event_name == 'issues')", "issues"), Tri::False);
        assert_eq!(
            ev(
                "startsWith(github.event_name, 'pull_request')",
                "pull_request_target"
            ),
            Tri::True
        );
    }

    #[test]
    fn outsider_values() {
        let same = "github.event.pull_request.head.repo.full_name == github.repository";
        assert_eq!(ev(same, "pull_request_target"), Tri::False);
        assert_eq!(ev(same, "pull_request_review"), Tri::Unknown);
        assert_eq!(
            ev(
                "!github.event.pull_request.head.repo.fork",
                "pull_request_target"
            ),
            Tri::False
        );
        assert_eq!(
            ev(
                "github.event.comment.author_association == 'MEMBER'",
                "issue_comment"
            ),
            Tri::False
        );
        assert_eq!(
            ev(
                "contains(fromJSON('[\"OWNER\",\"MEMBER\"]'), github.event.comment.author_association)",
                "issue_comment"
            ),
            Tri::False
        );
        assert_eq!(
            ev(
                "github.event.comment.author_association == 'NONE'",
                "issue_comment"
            ),
            Tri::Unknown
        );
        assert_eq!(ev("github.actor == 'octocat'", "issue_comment"), Tri::False);
        assert_eq!(
            ev("github.actor == 'dependabot[bot]'", "pull_request_target"),
            Tri::Unknown
        );
        assert_eq!(
            ev("github.event.workflow_run.event == 'push'", "workflow_run"),
            Tri::False
        );
        assert_eq!(
            ev(
                "github.event.workflow_run.event == 'pull_request'",
                "workflow_run"
            ),
            Tri::Unknown
        );
        assert_eq!(
            ev(
                "contains(github.event.comment.body, '/deploy')",
                "issue_comment"
            ),
            Tri::Unknown
        );
        assert_eq!(
            ev("github.event.issue.pull_request", "issue_comment"),
            Tri::Unknown
        );
        // `||` yields an operand: the comment's association when there is one.
        let either = "contains(fromJSON('[\"OWNER\",\"MEMBER\"]'), github.event.comment.author_association || github.event.issue.author_association)";
        assert_eq!(ev(either, "issue_comment"), Tri::False);
        assert_eq!(ev(either, "issues"), Tri::False);
        assert_eq!(
            ev(
                "contains(fromJSON('[\"OWNER\"]'), github.event.x || 'NONE')",
                "issues"
            ),
            Tri::False
        );
        assert_eq!(ev("github.event.x || true", "issues"), Tri::True);
        assert_eq!(
            ev("github.event.comment.body || true", "issue_comment"),
            Tri::True
        );
        assert_eq!(
            ev(
                "contains(fromJSON('[\"OWNER\"]'), github.event.comment.body || true)",
                "issue_comment"
            ),
            Tri::Unknown
        );
        assert_eq!(
            ev("github.event.comment.body && false", "issue_comment"),
            Tri::False
        );
        assert_eq!(
            ev(
                "github.event.pull_request.head.repo.full_name == github.repository",
                "issue_comment"
            ),
            Tri::False
        );
    }

    #[test]
    fn not_understood_is_unknown() {
        for s in [
            "github.event_name ==",
            "${{ a }} && ${{ b }}",
            "a ? b",
            "'open",
            "((a)",
            "",
            "a.b[",
            "f(a,)",
        ] {
            assert_eq!(ev(s, "issues"), Tri::Unknown, "{s}");
        }
        let deep = format!("{}true{}", "(".repeat(200), ")".repeat(200));
        assert_eq!(ev(&deep, "issues"), Tri::Unknown);
        let deep = format!("{}true", "!".repeat(200));
        assert_eq!(ev(&deep, "issues"), Tri::Unknown);
        assert_eq!(ev(&"a || ".repeat(2000), "issues"), Tri::Unknown);
        // Long flat chains build deep left-nested trees within MAX_LEN: evaluated, not rejected.
        let chain = format!("{}github.event_name == 'push'", "false || ".repeat(450));
        assert!(chain.len() <= MAX_LEN);
        assert_eq!(ev(&chain, "issues"), Tri::False);
        assert_eq!(ev(&chain, "push"), Tri::True);
        let cmp = format!("{}1", "1 == ".repeat(800));
        let _ = ev(&cmp, "issues");
        assert_eq!(ev("github['event_name'] == 'issues'", "issues"), Tri::True);
        assert_eq!(
            ev("success() && github.event_name == 'issues'", "fork"),
            Tri::False
        );
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = Cond::new(Some(&s)).eval("pull_request_target");
        }
        #[test]
        fn never_panics_on_expression_alphabet(s in "[a-z_.!=&|()'\\[\\], *0-9<>-]{0,200}") {
            let _ = Cond::new(Some(&s)).eval("workflow_run");
        }
        /// `!c` is the negation of `c` whenever `c` is known: the evaluation is consistent.
        #[test]
        fn negation_consistent(s in "(github\\.event_name|github\\.actor|'push'|true|null) (==|!=) ('push'|'issues'|github\\.event_name)( (&&|\\|\\|) github\\.event_name == 'issues')?") {
            for e in ["push", "issues"] {
                let a = ev(&s, e);
                let b = ev(&format!("!({s})"), e);
                prop_assert_eq!(a.not(), b);
            }
        }
    }
}
