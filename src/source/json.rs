//! Strict JSON (RFC 8259) to the spanned tree, through jsonc-parser with every leniency off.

use super::Span;
use super::embedded::Embedded;
use super::tree::{Entry, Node, Style, Template, Value};
use jsonc_parser::ast;

/// A parse failure at a byte offset.
#[derive(Debug, Clone)]
pub struct ParseFailure {
    pub offset: usize,
    pub message: String,
}

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
pub fn parse(text: &str) -> Result<Node, ParseFailure> {
    parse_mapped(text, &|o| o)
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
