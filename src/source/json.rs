//! Strict JSON (RFC 8259) to the spanned tree, through jsonc-parser with every leniency off.

use super::Span;
use super::embedded::Embedded;
use super::tree::{Entry, Node, Style, Template, Value};
use jsonc_parser::ast;

pub use super::ParseFailure;

fn strict() -> jsonc_parser::ParseOptions {
    // Every leniency off, field by field: the struct gains fields between versions.
    jsonc_parser::ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

/// Parse a whole JSON file.
///
/// JSON files that are templates (Terraform `templatefile()`, envsubst) hold bare placeholders
/// such as `"Resource": ${arns}`: when strict parsing fails and the text has bare `${…}`, each
/// placeholder is parsed as a string of the same length and becomes an unknown value. Inside
/// strings, `${name}` (no `:`, so not an IAM policy variable such as `${aws:username}`) is an
/// unknown part of a template too.
pub fn parse(text: &str) -> Result<Node, ParseFailure> {
    parse_template(text).map_err(|(e, _)| e)
}

/// Like [`parse`], also telling whether the text is a template (has bare `${…}` or `%{…}`):
/// callers may treat an unparsable template as "not a JSON document" rather than an error.
pub fn parse_template(text: &str) -> Result<Node, (ParseFailure, bool)> {
    let mut node = match parse_mapped(text, &|o| o) {
        Ok(n) => n,
        Err(first) => {
            let (patched, holes) = patch_placeholders(text);
            if holes.is_empty() {
                return Err((first, false));
            }
            let mut n = parse_mapped(&patched, &|o| o).map_err(|_| (first, true))?;
            fill_holes(&mut n, text, &holes);
            n
        }
    };
    templatize(&mut node);
    Ok(node)
}

/// Replace every `${…}` outside JSON strings by a same-length string literal, and blank out
/// template directives `%{…}` (their positions are recorded as empty holes).
fn patch_placeholders(text: &str) -> (String, Vec<(usize, usize)>) {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut holes = Vec::new();
    let (mut i, mut in_str) = (0usize, false);
    while i < b.len() {
        let c = b[i];
        if in_str {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'"' {
                in_str = false;
            }
            i += 1;
        } else if c == b'"' {
            in_str = true;
            i += 1;
        } else if (c == b'$' || c == b'%') && b.get(i + 1) == Some(&b'{') {
            let mut depth = 0usize;
            let mut j = i + 1;
            while j < b.len() {
                match b[j] {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    b'\n' => break,
                    _ => {}
                }
                j += 1;
            }
            if j >= b.len() || b[j] != b'}' {
                return (text.to_string(), vec![]);
            }
            if c == b'%' {
                // a template directive (`%{ if … }`): blank it out
                for o in out.iter_mut().take(j + 1).skip(i) {
                    *o = b' ';
                }
                holes.push((i, i));
                i = j + 1;
                continue;
            }
            out[i] = b'"';
            for o in out.iter_mut().take(j).skip(i + 1) {
                *o = b'_';
            }
            out[j] = b'"';
            holes.push((i, j + 1));
            i = j + 1;
        } else {
            i += 1;
        }
    }
    (String::from_utf8(out).unwrap_or_default(), holes)
}

fn fill_holes(node: &mut Node, original: &str, holes: &[(usize, usize)]) {
    let r = node.span.range();
    if let Value::Str(_) = node.value {
        if holes.binary_search(&(r.start, r.end)).is_ok() {
            let expr = &original[r.start + 2..r.end - 1];
            node.value = Value::Str(Template::unknown(expr.trim()));
        }
        return;
    }
    match &mut node.value {
        Value::Seq(items) => items
            .iter_mut()
            .for_each(|n| fill_holes(n, original, holes)),
        Value::Map(entries) => entries
            .iter_mut()
            .for_each(|e| fill_holes(&mut e.value, original, holes)),
        _ => {}
    }
}

/// `"repo:${org}/*"` → literal `repo:`, unknown `org`, literal `/*`.
fn templatize(node: &mut Node) {
    match &mut node.value {
        Value::Str(t) => {
            if let Some(s) = t.known()
                && s.contains("${")
            {
                *t = split_template(&s);
            }
        }
        Value::Seq(items) => items.iter_mut().for_each(templatize),
        Value::Map(entries) => entries.iter_mut().for_each(|e| templatize(&mut e.value)),
        _ => {}
    }
}

fn split_template(s: &str) -> Template {
    use super::tree::Part;
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        let Some(j) = rest[i..].find('}') else { break };
        let inner = &rest[i + 2..i + j];
        lit.push_str(&rest[..i]);
        if inner.contains(':') || inner.is_empty() || inner == "*" || inner == "?" || inner == "$" {
            // an IAM policy variable (`${aws:username}`) or escape: literal text
            lit.push_str(&rest[i..i + j + 1]);
        } else {
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(&mut lit)));
            }
            parts.push(Part::Unknown(inner.trim().to_string()));
        }
        rest = &rest[i + j + 1..];
    }
    lit.push_str(rest);
    if !lit.is_empty() || parts.is_empty() {
        parts.push(Part::Lit(lit));
    }
    Template { parts }
}

/// Parse JSON embedded in another file, mapping every span through `emb`.
pub fn parse_embedded(emb: &Embedded) -> Result<Node, ParseFailure> {
    parse_mapped(&emb.text, &|o| emb.map(o)).map_err(|e| ParseFailure {
        offset: emb.map(e.offset),
        message: e.message,
    })
}

fn parse_mapped(text: &str, map: &dyn Fn(usize) -> usize) -> Result<Node, ParseFailure> {
    let collect = jsonc_parser::CollectOptions::default();
    let result =
        jsonc_parser::parse_to_ast(text, &collect, &strict()).map_err(|e| ParseFailure {
            offset: e.range().start,
            message: e.kind().to_string(),
        })?;
    match result.value {
        Some(v) => Ok(convert(&v, map)),
        None => Err(ParseFailure {
            offset: 0,
            message: "empty JSON document".into(),
        }),
    }
}

fn span(r: jsonc_parser::common::Range, map: &dyn Fn(usize) -> usize) -> Span {
    Span::new(map(r.start), map(r.end))
}

fn convert(v: &ast::Value, map: &dyn Fn(usize) -> usize) -> Node {
    match v {
        ast::Value::StringLit(s) => Node::new(
            span(s.range, map),
            Value::Str(Template::lit(s.value.to_string())),
        ),
        ast::Value::NumberLit(n) => Node::new(span(n.range, map), Value::Num(n.value.to_string())),
        ast::Value::BooleanLit(b) => Node::new(span(b.range, map), Value::Bool(b.value)),
        ast::Value::NullKeyword(n) => Node::new(span(n.range, map), Value::Null),
        ast::Value::Array(a) => Node {
            span: span(a.range, map),
            value: Value::Seq(a.elements.iter().map(|e| convert(e, map)).collect()),
            style: Style::Flow,
        },
        ast::Value::Object(o) => Node {
            span: span(o.range, map),
            value: Value::Map(
                o.properties
                    .iter()
                    .map(|p| {
                        let (key, key_range) = match &p.name {
                            ast::ObjectPropName::String(s) => (s.value.to_string(), s.range),
                            ast::ObjectPropName::Word(w) => (w.value.to_string(), w.range),
                        };
                        Entry {
                            key,
                            key_span: span(key_range, map),
                            value: convert(&p.value, map),
                        }
                    })
                    .collect(),
            ),
            style: Style::Flow,
        },
    }
}

/// The raw text between the quotes of a string node, with its outer offset: the input for
/// `Embedded::from_json_string` (policies as JSON strings inside JSON).
pub fn string_body(file_text: &str, node: &Node) -> Option<(usize, usize)> {
    let r = node.span.range();
    let raw = file_text.get(r.clone())?;
    if raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"') {
        Some((r.start + 1, r.end - 1))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_rejects_comments_and_trailing_commas() {
        assert!(parse("{\"a\": 1, // c\n}").is_err());
        assert!(parse("{\"a\": 1,}").is_err());
        assert!(parse("{\"a\": [1, 2]}").is_ok());
    }

    #[test]
    fn templates_with_bare_placeholders() {
        let text = "{\"Statement\": [{\"Resource\": ${arns}, \"Sid\": \"repo:${org}/*\", \"R\": \"${aws:username}\"}]}";
        let n = parse(text).unwrap();
        let st = n.get("Statement").unwrap().items()[0];
        let r = st.get("Resource").unwrap();
        assert_eq!(&text[r.span.range()], "${arns}");
        assert!(!r.as_template().unwrap().is_known());
        let sid = st.get("Sid").unwrap().as_template().unwrap();
        assert_eq!(sid.display(), "repo:${org}/*");
        assert!(!sid.is_known());
        assert!(st.get("R").unwrap().as_template().unwrap().is_known());
        assert!(parse("{\"a\": ${x").is_err());
    }

    #[test]
    fn spans_are_bytes() {
        let text = "{\"é\": \"x\", \"k\": \"v\"}";
        let n = parse(text).unwrap();
        let e = n.get_entry("k").unwrap();
        assert_eq!(&text[e.key_span.range()], "\"k\"");
        assert_eq!(&text[e.value.span.range()], "\"v\"");
    }

    #[test]
    fn embedded_json_spans_map_to_outer_file() {
        let outer =
            r#"{"policy": "{\"Statement\": [{\"Sid\": \"caf\u00e9\", \"Effect\": \"Allow\"}]}"}"#;
        let n = parse(outer).unwrap();
        let s = n.get("policy").unwrap();
        let (a, b) = string_body(outer, s).unwrap();
        let emb = Embedded::from_json_string(&outer[a..b], a).unwrap();
        let inner = parse_embedded(&emb).unwrap();
        let st = &inner.get("Statement").unwrap().items()[0];
        let eff = st.get("Effect").unwrap();
        assert_eq!(&outer[eff.span.range()], "\\\"Allow\\\"");
    }
}
