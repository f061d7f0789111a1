//! YAML to the spanned tree through saphyr. saphyr's markers count characters; every span is
//! converted to bytes here once, so the rest of the tool only sees byte offsets.

use super::Span;
use super::tree::{Entry, Node, Style, Template, Value};
use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

pub use super::ParseFailure;

/// Maps saphyr's character indices to byte offsets.
struct CharMap<'a> {
    text: &'a str,
    /// `None` for ASCII text (identity map).
    offsets: Option<Vec<u32>>,
}

impl<'a> CharMap<'a> {
    fn new(text: &'a str) -> Self {
        let offsets = if text.is_ascii() {
            None
        } else {
            let mut v: Vec<u32> = text.char_indices().map(|(b, _)| b as u32).collect();
            v.push(text.len() as u32);
            Some(v)
        };
        CharMap { text, offsets }
    }
    fn byte(&self, char_index: usize) -> usize {
        match &self.offsets {
            None => char_index.min(self.text.len()),
            Some(v) => v.get(char_index).copied().unwrap_or(self.text.len() as u32) as usize,
        }
    }
}

/// Maximum nesting accepted before parsing (the YAML parser recurses on nesting).
pub const MAX_DEPTH: usize = 256;

/// Parse all documents of a YAML stream.
pub fn parse(text: &str) -> Result<Vec<Node>, ParseFailure> {
    if let Some(offset) = too_deep(text) {
        return Err(ParseFailure {
            offset,
            message: format!("nesting deeper than {MAX_DEPTH} levels"),
        });
    }
    let map = CharMap::new(text);
    match MarkedYaml::load_from_str(text) {
        Ok(docs) => Ok(docs.iter().map(|d| convert(d, &map)).collect()),
        Err(e) => Err(ParseFailure {
            offset: map.byte(e.marker().index()),
            message: e.info().to_string(),
        }),
    }
}

/// [`parse`] for a scanned file's text ([`crate::source::SourceFile`]), which holds a UTF-8
/// byte order mark (`bom`) as three spaces: the mark is put back (the same three bytes, so
/// every span still maps to the file) and read as YAML and GitHub read it, as no content.
pub fn parse_scanned(text: &str, bom: bool) -> Result<Vec<Node>, ParseFailure> {
    match text.strip_prefix("   ") {
        Some(rest) if bom => parse(&format!("\u{feff}{rest}")),
        _ => parse(text),
    }
}

/// Cheap pre-scan for flow nesting (`[[[[…`) and block nesting (`- - - …`, indentation) that
/// would make the recursive parser or tree conversion overflow the stack. One linear pass; the
/// two kinds add up, so mixing them cannot exceed the limit either.
fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut flow = 0usize;
    let mut line_start = 0usize;
    while line_start <= bytes.len() {
        // a lone `\r` ends a line too
        let line_end = bytes[line_start..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .map_or(bytes.len(), |p| line_start + p);
        let line = &bytes[line_start..line_end];
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        // block sequences on one line: "- - - - x"
        let dashes = line[indent..].chunks(2).take_while(|c| *c == b"- ").count();
        let block = dashes + indent / 2;
        if block + flow > MAX_DEPTH {
            return Some(line_start);
        }
        for (i, &b) in line.iter().enumerate() {
            match b {
                b'[' | b'{' => {
                    flow += 1;
                    if block + flow > MAX_DEPTH {
                        return Some(line_start + i);
                    }
                }
                b']' | b'}' => flow = flow.saturating_sub(1),
                _ => {}
            }
        }
        line_start = line_end + 1;
    }
    None
}

fn span(s: &saphyr::Marker, e: &saphyr::Marker, map: &CharMap) -> Span {
    Span::new(map.byte(s.index()), map.byte(e.index()))
}

fn style_at(map: &CharMap, sp: Span) -> Style {
    let b = map.text.as_bytes();
    let mut i = sp.start as usize;
    // skip anchors and tags before the node's own text
    while matches!(b.get(i), Some(b'&') | Some(b'!')) {
        while i < b.len() && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
    }
    match b.get(i) {
        Some(b'{') | Some(b'[') => Style::Flow,
        _ => Style::Block,
    }
}

fn convert(y: &MarkedYaml, map: &CharMap) -> Node {
    let sp = span(&y.span.start, &y.span.end, map);
    let value = match &y.data {
        YamlData::Value(s) => scalar(s),
        YamlData::Representation(s, _, _) => Value::Str(Template::lit(s.to_string())),
        YamlData::Sequence(items) => Value::Seq(items.iter().map(|i| convert(i, map)).collect()),
        YamlData::Mapping(m) => Value::Map(
            m.iter()
                .map(|(k, v)| {
                    let key_node = convert(k, map);
                    let key = key_node.scalar_text().unwrap_or_default();
                    Entry {
                        key,
                        key_span: key_node.span,
                        value: convert(v, map),
                    }
                })
                .collect(),
        ),
        YamlData::Tagged(tag, inner) => {
            let mut inner = convert(inner, map);
            // saphyr leaves the inner span empty: it is the outer span minus the tag text.
            if inner.span.is_empty() || inner.span.start < sp.start {
                let text = map.text;
                let mut i = sp.start as usize;
                let end = (sp.end as usize).min(text.len());
                while i < end && !text.as_bytes()[i].is_ascii_whitespace() {
                    i += 1;
                }
                while i < end && text.as_bytes()[i].is_ascii_whitespace() {
                    i += 1;
                }
                inner.span = Span::new(i, end.max(i));
                inner.style = style_at(map, inner.span);
            }
            Value::Tagged(format!("{}{}", tag.handle, tag.suffix), Box::new(inner))
        }
        YamlData::Alias(_) | YamlData::BadValue => Value::Null,
    };
    let style = style_at(map, sp);
    Node {
        span: sp,
        value,
        style,
    }
}

fn scalar(s: &Scalar) -> Value {
    match s {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Num(i.to_string()),
        Scalar::FloatingPoint(f) => Value::Num(f.to_string()),
        Scalar::String(s) => Value::Str(Template::lit(s.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_bytes_after_non_ascii() {
        let text = "# café ünïcode\nperms:\n  \"id-token\": write\n";
        let docs = parse(text).unwrap();
        let e = docs[0].get("perms").unwrap().get_entry("id-token").unwrap();
        assert_eq!(&text[e.key_span.range()], "\"id-token\"");
        assert_eq!(&text[e.value.span.range()], "write");
    }

    #[test]
    fn tags_keep_inner_span() {
        let text = "Sub: !Sub \"repo:${Org}/*\"\n";
        let docs = parse(text).unwrap();
        let n = docs[0].get("Sub").unwrap();
        match &n.value {
            Value::Tagged(t, inner) => {
                assert_eq!(t, "!Sub");
                assert_eq!(&text[inner.span.range()], "\"repo:${Org}/*\"");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn anchors_crlf_and_flow() {
        let text = "a: &x {b: 1}\r\nc: *x\r\n";
        let docs = parse(text).unwrap();
        assert_eq!(
            docs[0]
                .get("c")
                .unwrap()
                .get("b")
                .unwrap()
                .scalar_text()
                .unwrap(),
            "1"
        );
        assert_eq!(docs[0].get("a").unwrap().style, Style::Flow);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000);
        assert!(parse(&text).is_err());
        let text = "- ".repeat(100_000) + "x";
        assert!(parse(&text).is_err());
        let text = "a:\n".to_string() + &" ".repeat(200_000) + "b: 1\n";
        assert!(parse(&text).is_err());
    }

    #[test]
    fn block_and_flow_nesting_add_up() {
        // 200 block levels then 200 flow levels: each alone is allowed, together they are not.
        let text = "k:\n".to_string() + &" ".repeat(400) + &"[".repeat(200) + &"]".repeat(200);
        let e = parse(&text).unwrap_err();
        assert!(e.message.contains("nesting deeper"), "{}", e.message);
        assert!(parse(&("a: ".to_string() + &"[".repeat(200) + &"]".repeat(200))).is_ok());
    }
}
