//! HCL (Terraform `*.tf`) to the spanned tree, through hcl-edit.
//!
//! Top-level and nested blocks become [`Block`]s; attribute values become [`Node`]s:
//! object constructors are maps (every entry kept, duplicates included, so `Node::get` sees
//! the last one as Terraform does), strings with interpolations are [`Template`]s whose
//! `${…}` parts are [`Part::Unknown`] holding the expression text, and any other expression
//! whose value is only known at apply time (`var.x`, `local.y`, `data.z.json`, function
//! calls, conditionals) is a string made of one unknown part. Two shapes are kept apart for
//! the Terraform model: `jsonencode(x)` becomes `Tagged("jsonencode", x)` and a heredoc
//! becomes `Tagged("heredoc", template)` (its JSON is decoded from the raw file bytes).

use super::Span;
use super::json::ParseFailure;
use super::tree::{Entry, Node, Part, Style, Template, Value};
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{Body, Structure};
use hcl_edit::template::{Element, Template as HclTemplate};

/// An HCL block (`resource "aws_iam_role" "x" { … }`, `statement { … }`).
#[derive(Clone, Debug)]
pub struct Block {
    pub ident: String,
    pub labels: Vec<String>,
    /// The whole block.
    pub span: Span,
    /// The block header (identifier and labels), for reporting what a block is.
    pub header: Span,
    /// Attributes in source order (duplicates are a parse error in HCL bodies).
    pub attrs: Vec<Entry>,
    pub blocks: Vec<Block>,
}

impl Block {
    pub fn attr(&self, key: &str) -> Option<&Node> {
        self.attrs
            .iter()
            .rev()
            .find(|e| e.key == key)
            .map(|e| &e.value)
    }
    pub fn attr_entry(&self, key: &str) -> Option<&Entry> {
        self.attrs.iter().rev().find(|e| e.key == key)
    }
    pub fn blocks<'a>(&'a self, ident: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.blocks.iter().filter(move |b| b.ident == ident)
    }
    pub fn label(&self, i: usize) -> Option<&str> {
        self.labels.get(i).map(String::as_str)
    }
}

/// Parse a whole `.tf` file into its top-level blocks.
///
/// hcl-edit rejects an object constructor that repeats a key, but Terraform accepts it (the
/// last one wins, silently dropping the others). Such keys are renamed in a scratch copy of
/// the text (same length, so every span stays that of the file), and their real text is
/// restored in the tree.
pub fn parse(text: &str) -> Result<Vec<Block>, ParseFailure> {
    parse_blocks(text, &|_, _| true)
}

/// [`parse`], converting only the top-level blocks `keep(ident, labels)` accepts: the whole
/// file is still parsed (and its syntax errors reported), but blocks nothing will read are
/// neither converted nor held in memory.
pub fn parse_blocks(
    text: &str,
    keep: &dyn Fn(&str, &[&str]) -> bool,
) -> Result<Vec<Block>, ParseFailure> {
    let (body, renamed) = parse_raw(text)?;
    let cx = Cx {
        text,
        renamed: &renamed,
    };
    // Only the top-level blocks asked for are converted (and kept).
    Ok(body
        .iter()
        .filter_map(|s| match s {
            Structure::Block(b) => {
                let labels: Vec<&str> = b.labels.iter().map(|l| l.as_str()).collect();
                keep(b.ident.value(), &labels).then(|| cx.block(b))
            }
            Structure::Attribute(_) => None,
        })
        .collect())
}

/// A whole file read as one block body (a Terragrunt configuration: top-level attributes
/// such as `inputs` beside its blocks): a block named `ident` spanning the file.
pub fn parse_as_block(text: &str, ident: &str) -> Result<Block, ParseFailure> {
    let (body, renamed) = parse_raw(text)?;
    let cx = Cx {
        text,
        renamed: &renamed,
    };
    let (attrs, blocks) = cx.body(&body);
    Ok(Block {
        ident: ident.to_string(),
        labels: vec![],
        span: Span::new(0, text.len()),
        header: Span::new(0, 0),
        attrs,
        blocks,
    })
}

fn parse_raw(text: &str) -> Result<(Body, Vec<Span>), ParseFailure> {
    // hcl-edit takes exponential time on unclosed nesting: unbalanced text never reaches it.
    super::hcl_brackets::check(text)?;
    let mut work = text.to_string();
    let mut renamed: Vec<Span> = Vec::new();
    let body = loop {
        match hcl_edit::parser::parse_body(&work) {
            Ok(b) => break b,
            Err(e) => {
                let offset = e.location().offset();
                if e.message().contains("redefined object key")
                    && renamed.len() < 256
                    && let Some(span) = key_at(&work, offset)
                    && let Some(name) = unique_ident(&work, span.range().len(), renamed.len())
                {
                    work.replace_range(span.range(), &name);
                    renamed.push(span);
                    continue;
                }
                let offset = if offset >= text.len() {
                    offset_of(text, e.location().line(), e.location().column()).unwrap_or(offset)
                } else {
                    offset
                };
                return Err(ParseFailure {
                    offset: offset.min(text.len()),
                    message: e.message().to_string(),
                });
            }
        }
    };
    Ok((body, renamed))
}

/// The object key starting at (or after whitespace/comments from) `offset`.
fn key_at(text: &str, offset: usize) -> Option<Span> {
    let b = text.as_bytes();
    let mut i = offset;
    loop {
        while i < b.len() && (b[i] as char).is_ascii_whitespace() {
            i += 1;
        }
        if b.get(i) == Some(&b'#') || b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            i += text[i..].find("*/")? + 2;
        } else {
            break;
        }
    }
    let start = i;
    match *b.get(i)? {
        b'"' => {
            // a quoted key, possibly with `${…}` interpolations holding strings
            let mut depth = 0usize;
            i += 1;
            let mut in_inner_str = false;
            while i < b.len() {
                match b[i] {
                    b'\\' => i += 1,
                    b'"' if depth == 0 => return Some(Span::new(start, i + 1)),
                    b'"' => in_inner_str = !in_inner_str,
                    b'$' if b.get(i + 1) == Some(&b'{') && !in_inner_str => {
                        depth += 1;
                        i += 1;
                    }
                    b'{' if depth > 0 && !in_inner_str => depth += 1,
                    b'}' if depth > 0 && !in_inner_str => depth -= 1,
                    b'\n' => return None,
                    _ => {}
                }
                i += 1;
            }
            None
        }
        b'(' => {
            let mut depth = 0usize;
            while i < b.len() {
                match b[i] {
                    b'(' => depth += 1,
                    b')' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(Span::new(start, i + 1));
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        c if c.is_ascii_alphabetic() || c == b'_' => {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-') {
                i += 1;
            }
            Some(Span::new(start, i))
        }
        _ => None,
    }
}

/// An identifier of exactly `len` bytes that does not occur in `text`.
fn unique_ident(text: &str, len: usize, seed: usize) -> Option<String> {
    for n in seed..seed + 4096 {
        let mut s = format!("_{n:x}");
        if s.len() > len {
            return None;
        }
        while s.len() < len {
            s.push('_');
        }
        if !text.contains(&s) {
            return Some(s);
        }
    }
    None
}

/// Byte offset of a 1-based line and (character) column.
fn offset_of(text: &str, line: usize, column: usize) -> Option<usize> {
    let start = if line <= 1 {
        0
    } else {
        text.match_indices('\n').nth(line - 2).map(|(i, _)| i + 1)?
    };
    let rest = &text[start..];
    let col = rest
        .char_indices()
        .nth(column.saturating_sub(1))
        .map(|(i, _)| i)
        .unwrap_or(rest.len());
    Some(start + col)
}

struct Cx<'a> {
    text: &'a str,
    /// Object keys renamed in the scratch copy (see `parse`).
    renamed: &'a [Span],
}

fn sp(r: Option<std::ops::Range<usize>>) -> Span {
    r.map(|r| Span::new(r.start, r.end)).unwrap_or_default()
}

impl Cx<'_> {
    fn src(&self, span: Span) -> String {
        self.text
            .get(span.range())
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }

    fn body(&self, body: &Body) -> (Vec<Entry>, Vec<Block>) {
        let mut attrs = Vec::new();
        let mut blocks = Vec::new();
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => attrs.push(Entry {
                    key: a.key.value().to_string(),
                    key_span: sp(a.key.span()),
                    value: self.expr(&a.value),
                }),
                Structure::Block(b) => blocks.push(self.block(b)),
            }
        }
        (attrs, blocks)
    }

    fn block(&self, b: &hcl_edit::structure::Block) -> Block {
        let (a, bl) = self.body(&b.body);
        let span = sp(b.span());
        let header_end = b
            .labels
            .last()
            .and_then(|l| l.span())
            .or_else(|| b.ident.span())
            .map(|r| r.end)
            .unwrap_or(span.start as usize);
        Block {
            ident: b.ident.value().to_string(),
            labels: b.labels.iter().map(|l| l.as_str().to_string()).collect(),
            span,
            header: Span::new(span.start as usize, header_end),
            attrs: a,
            blocks: bl,
        }
    }

    fn unknown(&self, span: Span) -> Node {
        Node::new(span, Value::Str(Template::unknown(self.src(span))))
    }

    fn template(&self, t: &HclTemplate) -> Template {
        let mut parts: Vec<Part> = Vec::new();
        for el in t.iter() {
            match el {
                Element::Literal(l) => push_lit(&mut parts, l.value()),
                Element::Interpolation(i) => {
                    // A literal string interpolated is literal text.
                    if let Expression::String(s) = &i.expr {
                        push_lit(&mut parts, s.value());
                    } else {
                        parts.push(Part::Unknown(self.src(sp(i.expr.span()))));
                    }
                }
                Element::Directive(d) => parts.push(Part::Unknown(self.src(sp(d.span())))),
            }
        }
        if parts.is_empty() {
            parts.push(Part::Lit(String::new()));
        }
        Template { parts }
    }

    fn key(&self, k: &ObjectKey) -> (String, Span) {
        let span = sp(k.span());
        if self.renamed.contains(&span) {
            return (self.original_key(span), span);
        }
        match k {
            ObjectKey::Ident(i) => (i.value().to_string(), span),
            ObjectKey::Expression(Expression::Parenthesis(p)) => {
                let n = self.expr(p.inner());
                match &n.value {
                    Value::Str(t) => (t.display(), span),
                    _ => (format!("${{{}}}", self.src(span)), span),
                }
            }
            ObjectKey::Expression(e) => {
                let n = self.expr(e);
                let text = match &n.value {
                    Value::Str(t) => t.display(),
                    Value::Num(s) => s.clone(),
                    Value::Bool(b) => b.to_string(),
                    _ => format!("${{{}}}", self.src(span)),
                };
                (text, n.span)
            }
        }
    }

    /// The text of a key that was renamed to get past hcl-edit's duplicate check.
    fn original_key(&self, span: Span) -> String {
        let raw = self.slice(span);
        // A bare identifier key (`StringEquals = {…}`) is its own text, not a variable.
        if raw
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return raw.to_string();
        }
        match hcl_edit::parser::parse_expr(raw) {
            Ok(e) => {
                let cx = Cx {
                    text: raw,
                    renamed: &[],
                };
                match &cx.expr(&e).value {
                    Value::Str(t) => t.display(),
                    Value::Num(n) => n.clone(),
                    _ => format!("${{{}}}", raw.trim()),
                }
            }
            Err(_) => raw.to_string(),
        }
    }

    fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }

    fn expr(&self, e: &Expression) -> Node {
        let span = sp(e.span());
        match e {
            Expression::Null(_) => Node::new(span, Value::Null),
            Expression::Bool(b) => Node::new(span, Value::Bool(*b.value())),
            Expression::Number(n) => Node::new(span, Value::Num(n.value().to_string())),
            Expression::String(s) => Node::new(span, Value::Str(Template::lit(s.value().clone()))),
            Expression::Array(a) => Node {
                span,
                value: Value::Seq(a.iter().map(|x| self.expr(x)).collect()),
                style: Style::Flow,
            },
            Expression::Object(o) => Node {
                span,
                value: Value::Map(
                    o.iter()
                        .map(|(k, v)| {
                            let (key, key_span) = self.key(k);
                            Entry {
                                key,
                                key_span,
                                value: self.expr(v.expr()),
                            }
                        })
                        .collect(),
                ),
                style: Style::Flow,
            },
            Expression::StringTemplate(t) => {
                let tpl = self.template(t);
                Node::new(span, Value::Str(tpl))
            }
            Expression::HeredocTemplate(h) => {
                let tpl = self.template(&h.template);
                Node::new(
                    span,
                    Value::Tagged("heredoc".into(), Box::new(Node::new(span, Value::Str(tpl)))),
                )
            }
            Expression::Parenthesis(p) => {
                let mut n = self.expr(p.inner());
                n.span = span;
                n
            }
            Expression::FuncCall(f) if f.name.namespace.is_empty() && f.args.len() == 1 => {
                let name = f.name.name.value().as_str();
                match (name, f.args.iter().next()) {
                    ("jsonencode", Some(arg)) => Node::new(
                        span,
                        Value::Tagged("jsonencode".into(), Box::new(self.expr(arg))),
                    ),
                    _ => self.unknown(span),
                }
            }
            _ => self.unknown(span),
        }
    }
}

fn push_lit(parts: &mut Vec<Part>, s: &str) {
    if let Some(Part::Lit(prev)) = parts.last_mut() {
        prev.push_str(s);
    } else {
        parts.push(Part::Lit(s.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TF: &str = r#"
locals {
  url = "token.actions.githubusercontent.com"
}

resource "aws_iam_role" "r" {
  name = "x-${var.env}"
  assume_role_policy = jsonencode({
    Statement = [{
      Principal = { Federated = local.arn }
      Condition = {
        StringLike = {
          "${local.url}:sub" : "repo:${var.org}/*"
          "${local.url}:sub" : "repo:o/r:*"
        }
      }
    }]
  })
  inline = <<-EOF
    {"a": "b"}
    EOF
}
"#;

    #[test]
    fn blocks_attrs_and_spans() {
        let blocks = parse(TF).unwrap();
        assert_eq!(blocks.len(), 2);
        let r = &blocks[1];
        assert_eq!(r.ident, "resource");
        assert_eq!(r.labels, ["aws_iam_role", "r"]);
        assert_eq!(&TF[r.header.range()], r#"resource "aws_iam_role" "r""#);
        let name = r.attr("name").unwrap();
        assert_eq!(&TF[name.span.range()], r#""x-${var.env}""#);
        assert_eq!(name.as_template().unwrap().display(), "x-${var.env}");
        let Value::Tagged(tag, doc) = &r.attr("assume_role_policy").unwrap().value else {
            panic!()
        };
        assert_eq!(tag, "jsonencode");
        let st = &doc.get("Statement").unwrap().items()[0];
        let fed = st.get("Principal").unwrap().get("Federated").unwrap();
        assert_eq!(&TF[fed.span.range()], "local.arn");
        assert_eq!(fed.as_template().unwrap().display(), "${local.arn}");
        let like = st.get("Condition").unwrap().get("StringLike").unwrap();
        // duplicates kept, the last one wins on lookup
        assert_eq!(like.entries().len(), 2);
        assert_eq!(like.entries()[0].key, "${local.url}:sub");
        assert_eq!(
            &TF[like.entries()[0].key_span.range()],
            r#""${local.url}:sub""#
        );
        let v = &like.entries()[0].value;
        assert_eq!(&TF[v.span.range()], r#""repo:${var.org}/*""#);
        assert_eq!(
            v.as_template().unwrap().parts,
            vec![
                Part::Lit("repo:".into()),
                Part::Unknown("var.org".into()),
                Part::Lit("/*".into())
            ]
        );
        assert_eq!(
            like.get("${local.url}:sub").unwrap().as_str().unwrap(),
            "repo:o/r:*"
        );
        let h = r.attr("inline").unwrap();
        assert!(TF[h.span.range()].starts_with("<<-EOF"));
    }

    #[test]
    fn parse_error_has_position() {
        let text = "resource \"a\" \"b\" {\n  x = \n}\n";
        let e = parse(text).unwrap_err();
        assert!(e.offset > 0 && e.offset <= text.len(), "{}", e.offset);
    }
}
