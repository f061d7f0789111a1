//! The format-neutral spanned tree. JSON, YAML, HCL and embedded documents all become `Node`s,
//! so the model extractors never look at a parser's own types.

use super::Span;

/// A string value that may be only partly known before apply time
/// (`"repo:${var.org}/*"`, `!Sub "repo:${Org}/*"`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    Lit(String),
    /// An expression whose value is unknown to a static scan; the text is kept for messages.
    Unknown(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Template {
    pub parts: Vec<Part>,
}

/// What [`Template::flat`] writes for an unknown part: a character no literal of a policy holds.
pub const HOLE: char = '\u{0}';

impl Template {
    pub fn lit(s: impl Into<String>) -> Self {
        Template {
            parts: vec![Part::Lit(s.into())],
        }
    }
    pub fn unknown(expr: impl Into<String>) -> Self {
        Template {
            parts: vec![Part::Unknown(expr.into())],
        }
    }
    /// The template of `parts` in order: adjacent literals joined, empty ones dropped (an
    /// empty template is one empty literal).
    pub fn concat(parts: impl IntoIterator<Item = Part>) -> Self {
        let mut out: Vec<Part> = Vec::new();
        for p in parts {
            match (out.last_mut(), p) {
                (_, Part::Lit(s)) if s.is_empty() => {}
                (Some(Part::Lit(prev)), Part::Lit(s)) => prev.push_str(&s),
                (_, p) => out.push(p),
            }
        }
        if out.is_empty() {
            out.push(Part::Lit(String::new()));
        }
        Template { parts: out }
    }
    /// The value when it has no unknown part.
    pub fn known(&self) -> Option<String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Unknown(_) => return None,
            }
        }
        Some(out)
    }
    pub fn is_known(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Lit(_)))
    }
    /// Display form: unknown parts as `${expr}`.
    pub fn display(&self) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Unknown(e) => {
                    out.push_str("${");
                    out.push_str(e);
                    out.push('}');
                }
            }
        }
        out
    }
    /// The text with each unknown part one [`HOLE`] character, for matchers that work on a
    /// character stream (a verdict must hold whatever the hole is).
    pub fn flat(&self) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Unknown(_) => out.push(HOLE),
            }
        }
        out
    }
    /// The literal text before the first unknown part.
    pub fn known_prefix(&self) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Unknown(_) => break,
            }
        }
        out
    }
}

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    /// Numbers keep their source text.
    Num(String),
    Str(Template),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
    /// A YAML tag such as CloudFormation's `!Sub`; the inner node carries the value.
    Tagged(String, Box<Node>),
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

/// How a collection was written, for fixes that insert text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Style {
    #[default]
    Block,
    Flow,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub span: Span,
    pub value: Value,
    pub style: Style,
}

impl Node {
    pub fn new(span: Span, value: Value) -> Self {
        Node {
            span,
            value,
            style: Style::Block,
        }
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(e) => e,
            Value::Tagged(_, inner) => inner.entries(),
            _ => &[],
        }
    }

    /// The last entry with this exact key (later duplicates win, as in JSON parsers and HCL).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()
            .iter()
            .rev()
            .find(|e| e.key == key)
            .map(|e| &e.value)
    }

    pub fn get_entry(&self, key: &str) -> Option<&Entry> {
        self.entries().iter().rev().find(|e| e.key == key)
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    pub fn as_template(&self) -> Option<&Template> {
        match &self.value {
            Value::Str(t) => Some(t),
            _ => None,
        }
    }

    /// Scalar rendered as text: strings, numbers and booleans (YAML `on: true` etc.).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(t) => Some(t.display()),
            Value::Num(n) => Some(n.clone()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<String> {
        self.as_template().and_then(|t| t.known())
    }

    /// A scalar or a sequence of scalars, as a list of nodes (IAM allows both everywhere).
    pub fn items(&self) -> Vec<&Node> {
        match &self.value {
            Value::Seq(items) => items.iter().collect(),
            Value::Null => vec![],
            _ => vec![self],
        }
    }

    /// Depth-first visit of every node.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Node)) {
        f(self);
        match &self.value {
            Value::Seq(items) => items.iter().for_each(|n| n.walk(f)),
            Value::Map(entries) => entries.iter().for_each(|e| e.value.walk(f)),
            Value::Tagged(_, inner) => inner.walk(f),
            _ => {}
        }
    }
}
