//! The one sanitiser for text that came from the scanned repository (paths, messages, labels,
//! snippets, suppression reasons, diff bodies, config errors) on its way to a terminal, a CI log
//! or a rendered report. The scanned repository is an adversary: nothing it wrote may reach an
//! output raw.
//!
//! What it guarantees for its output:
//! - no C0/C1 control (ESC, BEL, CSI U+009B, …), DEL, format character (bidi overrides and
//!   isolates, zero-width characters, BOM, tag characters: Unicode category `Cf`) or line/paragraph
//!   separator: each is shown visibly as a Rust-style escape (`\x1b`, `\u{202e}`, `\r`, `\t`);
//!   [`inline`] shows a newline as `⏎`, [`block`] keeps newlines (and a CR right before one, and
//!   tabs) because they are the text's own layout;
//! - no line that starts, after whitespace, with `::` (a GitHub Actions workflow command; the
//!   runner trims leading whitespace before it parses one): the first colon is shown as `\x3a`;
//! - no `##[` or `##vso[` anywhere in a line (legacy runner commands and Azure Pipelines logging
//!   commands, both matched anywhere in a line): the second `#` is shown as `\x23`.
//!
//! Escaping a single character (not prefixing the line with a marker) keeps every other byte of the
//! line as written, keeps columns predictable and reads as what it is. A literal backslash is not
//! itself escaped: the mapping is for safety, not a reversible encoding (JSON carries exact values).
//!
//! Colour codes are ours and are added by the printers after sanitising. Data formats (JSON,
//! SARIF) keep exact values but write them with [`to_json_pretty`], which escapes the same
//! characters as JSON `\u` escapes, so the bytes are safe on a terminal and the value is unchanged.

use std::borrow::Cow;
use unicode_general_category::{GeneralCategory, get_general_category};

/// Whether `c` must never be written raw (before the newline/tab/CR exceptions of a mode).
pub fn is_unsafe(c: char) -> bool {
    match c as u32 {
        0x00..=0x1f | 0x7f..=0x9f => true,
        0x20..=0x7e => false,
        _ => matches!(
            get_general_category(c),
            GeneralCategory::Format
                | GeneralCategory::Control
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
        ),
    }
}

fn escape(c: char, out: &mut String) {
    use std::fmt::Write;
    match c {
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '\n' => out.push_str("\\n"),
        c if (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Inline,
    Block,
}

/// Offsets of the sanitised text for offsets of the original: `(original end of an escaped
/// character, cumulative growth after it)`, in order.
#[derive(Default, Debug)]
pub struct OffsetMap(Vec<(usize, usize)>);

impl OffsetMap {
    /// The offset in the sanitised text of a character boundary `o` of the original.
    pub fn map(&self, o: usize) -> usize {
        let i = self.0.partition_point(|&(end, _)| end <= o);
        if i == 0 { o } else { o + self.0[i - 1].1 }
    }
}

fn is_vso(rest: &[u8]) -> bool {
    rest.len() >= 4 && rest[..4].eq_ignore_ascii_case(b"vso[")
}

/// The walker behind every entry point. Allocates only when something changes.
fn run<'a>(s: &'a str, mode: Mode, mut map: Option<&mut OffsetMap>) -> Cow<'a, str> {
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut grown = 0usize;
    // Only whitespace written raw so far on the current output line.
    let mut line_start = true;
    // The previous character was written as a raw `#`.
    let mut prev_hash = false;
    let bytes = s.as_bytes();
    let mut buf = String::new();
    for (i, c) in s.char_indices() {
        let next = i + c.len_utf8();
        let rest = &bytes[next..];
        buf.clear();
        match c {
            '\n' if mode == Mode::Block => {
                line_start = true;
                prev_hash = false;
                continue;
            }
            '\n' => buf.push('⏎'),
            '\r' if mode == Mode::Block && rest.first() == Some(&b'\n') => continue,
            '\t' if mode == Mode::Block => {
                prev_hash = false;
                continue;
            }
            ':' if line_start && rest.first() == Some(&b':') => buf.push_str("\\x3a"),
            '#' if prev_hash && (rest.first() == Some(&b'[') || is_vso(rest)) => {
                buf.push_str("\\x23")
            }
            c if is_unsafe(c) => escape(c, &mut buf),
            c => {
                prev_hash = c == '#';
                if !c.is_whitespace() {
                    line_start = false;
                }
                continue;
            }
        }
        line_start = false;
        prev_hash = false;
        let o = out.get_or_insert_with(|| String::with_capacity(s.len() + 16));
        o.push_str(&s[copied..i]);
        o.push_str(&buf);
        copied = next;
        grown += buf.len() - c.len_utf8();
        if let Some(m) = map.as_deref_mut() {
            m.0.push((next, grown));
        }
    }
    match out {
        None => Cow::Borrowed(s),
        Some(mut o) => {
            o.push_str(&s[copied..]);
            Cow::Owned(o)
        }
    }
}

/// One-line text (a path, a message, a label, a reason): every unsafe character escaped, a
/// newline shown as `⏎`, a leading `::` and any `##[` neutralised.
pub fn inline(s: &str) -> Cow<'_, str> {
    run(s, Mode::Inline, None)
}

/// Multi-line text (a snippet, a diff, a generated file): like [`inline`] but newlines, tabs and
/// a CR before a newline are kept, and each line is checked for `::` and `##[` on its own.
pub fn block(s: &str) -> Cow<'_, str> {
    run(s, Mode::Block, None)
}

/// [`block`], with the map from original offsets to offsets in the result (for spans that point
/// into the text, as snippet annotations do).
pub fn block_mapped(s: &str) -> (Cow<'_, str>, OffsetMap) {
    let mut m = OffsetMap::default();
    let t = run(s, Mode::Block, Some(&mut m));
    (t, m)
}

/// At most `max` characters of `s`, with `…` in place of the rest.
pub fn truncate(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some((i, _)) => Cow::Owned(format!("{}…", &s[..i])),
    }
}

/// The last line of defence for a whole human-readable output that may carry our own colour
/// codes: neutralises any line that starts (after whitespace) with `::` and any `##[`, touching
/// nothing else. Printers sanitise every repository string already; this catches composition
/// (two values that together would form a command).
pub fn guard_lines(s: &str) -> Cow<'_, str> {
    let needs = s.contains("##")
        || s.split(['\n', '\r'])
            .any(|l| l.trim_start().starts_with("::"));
    if !needs {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    // Lines as the Actions runner reads them: a CR alone ends one too.
    for piece in s.split_inclusive(['\n', '\r']) {
        let line = piece.trim_end_matches(['\n', '\r']);
        let sep = &piece[line.len()..];
        let ws = line.len() - line.trim_start().len();
        out.push_str(&line[..ws]);
        let body = &line[ws..];
        let body = match body.strip_prefix("::") {
            Some(r) => {
                out.push_str("\\x3a:");
                r
            }
            None => body,
        };
        let b = body.as_bytes();
        let mut copied = 0;
        for i in 1..b.len() {
            if b[i] == b'#'
                && b[i - 1] == b'#'
                && (b.get(i + 1) == Some(&b'[') || is_vso(&b[i + 1..]))
            {
                out.push_str(&body[copied..i]);
                out.push_str("\\x23");
                copied = i + 1;
            }
        }
        out.push_str(&body[copied..]);
        out.push_str(sep);
    }
    Cow::Owned(out)
}

/// A `serde_json` formatter (pretty, two spaces) that writes every character [`is_unsafe`] holds
/// unsafe, and the second `#` of `##[`/`##vso[`, as a `\u` escape: the value is exactly the same
/// JSON string, the bytes are safe to print.
struct SafeFormatter<'a>(serde_json::ser::PrettyFormatter<'a>);

impl serde_json::ser::Formatter for SafeFormatter<'_> {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let b = fragment.as_bytes();
        // Fast path: printable ASCII without `##` needs nothing.
        if b.iter().all(|&c| (0x20..0x7f).contains(&c)) && !fragment.contains("##") {
            return w.write_all(b);
        }
        let mut copied = 0;
        let mut prev_hash = false;
        for (i, c) in fragment.char_indices() {
            let rest = &b[i + c.len_utf8()..];
            let hash = c == '#' && prev_hash && (rest.first() == Some(&b'[') || is_vso(rest));
            prev_hash = c == '#' && !hash;
            if !hash && !is_unsafe(c) {
                continue;
            }
            w.write_all(&b[copied..i])?;
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                write!(w, "\\u{:04x}", u)?;
            }
            copied = i + c.len_utf8();
        }
        w.write_all(&b[copied..])
    }
}

/// `serde_json::to_string_pretty` with [`SafeFormatter`], plus no trailing newline.
pub fn to_json_pretty<T: serde::Serialize + ?Sized>(v: &T) -> String {
    let mut buf = Vec::with_capacity(256);
    let fmt = SafeFormatter(serde_json::ser::PrettyFormatter::new());
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    if v.serialize(&mut ser).is_err() {
        return String::new();
    }
    String::from_utf8(buf).unwrap_or_default()
}

/// Markdown text (a heading, a table cell): [`inline`], then every ASCII punctuation character
/// backslash-escaped (CommonMark allows that for all of them), so nothing is emphasis, a link,
/// an autolink, HTML, an entity or a table pipe.
pub fn markdown_text(s: &str) -> String {
    let s = inline(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A Markdown code span holding `s` verbatim (after [`inline`]): fenced with one backtick more
/// than the longest run inside, pipes escaped for tables.
pub fn markdown_code(s: &str) -> String {
    let s = inline(s);
    if s.trim().is_empty() {
        return markdown_text(&s);
    }
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    // CommonMark strips one space each side when both are there: pad only when needed.
    let pad = if s.starts_with('`') || s.ends_with('`') || (s.starts_with(' ') && s.ends_with(' '))
    {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", s.replace('|', "\\|"))
}

/// Text inside raw HTML (where Markdown is not parsed): [`inline`], then HTML-escaped.
pub fn html(s: &str) -> String {
    let s = inline(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '|' => out.push_str("&#124;"),
            c => out.push(c),
        }
    }
    out
}

/// A fenced code block around `body` (a diff, a policy) that `body` cannot close: one backtick
/// more than the longest run in it, at least three.
pub fn markdown_fence(info: &str, body: &str) -> String {
    let body = block(body);
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat((longest + 1).max(3));
    let nl = if body.ends_with('\n') { "" } else { "\n" };
    format!("{fence}{info}\n{body}{nl}{fence}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The property every output must have: no unsafe character, no command line.
    fn assert_safe(out: &str, keeps_newlines: bool) {
        for c in out.chars() {
            if keeps_newlines && (c == '\n' || c == '\t' || c == '\r') {
                continue;
            }
            assert!(!is_unsafe(c), "raw {c:?} in {out:?}");
        }
        for line in out.split('\n') {
            assert!(!line.trim_start().starts_with("::"), "command in {out:?}");
            assert!(!line.contains("##["), "legacy command in {out:?}");
            assert!(
                !line.to_ascii_lowercase().contains("##vso["),
                "vso in {out:?}"
            );
        }
        if keeps_newlines {
            assert!(
                !out.replace("\r\n", "").contains('\r'),
                "lone CR in {out:?}"
            );
        }
    }

    #[test]
    fn escapes_visibly() {
        assert_eq!(inline("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(inline("\u{202e}x\u{9b}"), "\\u{202e}x\\u{9b}");
        assert_eq!(inline("a\nb\rc\td"), "a⏎b\\rc\\td");
        assert_eq!(inline("  ::add-mask::x"), "  \\x3a:add-mask::x");
        assert_eq!(inline("x ::y"), "x ::y");
        assert_eq!(inline("arn:aws:iam::1:role/r"), "arn:aws:iam::1:role/r");
        assert_eq!(inline("a ##[group]b ###[c"), "a #\\x23[group]b ##\\x23[c");
        assert_eq!(inline("##VSO[task]"), "#\\x23VSO[task]");
        assert!(matches!(inline("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn block_keeps_layout_but_not_commands() {
        assert_eq!(
            block("a\r\n  ::error::x\n\t::warning::y\rz\n"),
            "a\r\n  \\x3a:error::x\n\t\\x3a:warning::y\\rz\n"
        );
        assert_eq!(block("x\n\u{2028}::y"), "x\n\\u{2028}::y");
    }

    #[test]
    fn offsets_map_through_escapes() {
        let s = "a\x1bb\u{202e}c";
        let (t, m) = block_mapped(s);
        assert_eq!(t, "a\\x1bb\\u{202e}c");
        assert_eq!(&t[m.map(0)..m.map(1)], "a");
        assert_eq!(&t[m.map(2)..m.map(3)], "b");
        assert_eq!(&t[m.map(6)..m.map(7)], "c");
    }

    #[test]
    fn guard_touches_only_commands() {
        assert_eq!(guard_lines("\x1b[1mok\x1b[0m\n"), "\x1b[1mok\x1b[0m\n");
        assert_eq!(guard_lines(" ::x\n##[y"), " \\x3a:x\n#\\x23[y");
    }

    #[test]
    fn json_is_exact_and_safe() {
        let v = serde_json::json!({"k": "a\u{1b}\u{9b}\u{202e}\u{e0041}##[x]\u{7f}"});
        let s = to_json_pretty(&v);
        assert_safe(&s, true);
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn markdown_contains_values() {
        assert_eq!(markdown_text("a|*b*<i>"), "a\\|\\*b\\*\\<i\\>");
        assert_eq!(markdown_code("a`b|c"), "``a`b\\|c``");
        assert_eq!(markdown_code("`x"), "`` `x ``");
        assert_eq!(html("</code><img src=x>"), "&lt;/code&gt;&lt;img src=x&gt;");
        assert_eq!(
            markdown_fence("diff", "```\nx\n"),
            "````diff\n```\nx\n````\n"
        );
    }

    fn hostile() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            any::<char>().prop_map(String::from),
            Just("::".to_string()),
            Just("##[".to_string()),
            Just("#".to_string()),
            Just("##vSo[".to_string()),
            Just("\n".to_string()),
            Just("\r".to_string()),
            Just(" \t".to_string()),
            Just("\u{a0}".to_string()),
            Just("\x1b]8;;http://x\x07".to_string()),
            Just("\u{9b}2J".to_string()),
            Just("\u{202e}\u{2066}\u{200b}".to_string()),
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn inline_output_is_safe(s in hostile()) {
            let out = inline(&s);
            assert_safe(&out, false);
            prop_assert!(!out.contains('\n'));
        }

        #[test]
        fn block_output_is_safe(s in hostile()) {
            let (out, m) = block_mapped(&s);
            assert_safe(&out, true);
            prop_assert_eq!(out.matches('\n').count(), s.matches('\n').count());
            // Every character boundary maps to one in the output, in order.
            let mut last = 0;
            for (i, _) in s.char_indices().chain([(s.len(), ' ')]) {
                let o = m.map(i);
                prop_assert!(o >= last && out.is_char_boundary(o));
                last = o;
            }
            prop_assert_eq!(m.map(s.len()), out.len());
        }

        #[test]
        fn guard_output_has_no_commands(s in hostile()) {
            let out = guard_lines(&s);
            for line in out.split(['\n', '\r']) {
                prop_assert!(!line.trim_start().starts_with("::"));
                prop_assert!(!line.contains("##["));
            }
        }

        #[test]
        fn json_roundtrips_and_is_safe(s in hostile()) {
            let out = to_json_pretty(&serde_json::json!([s.clone()]));
            assert_safe(&out, true);
            let back: Vec<String> = serde_json::from_str(&out).unwrap();
            prop_assert_eq!(&back[0], &s);
        }
    }
}
