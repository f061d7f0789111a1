//! A linear pre-scan of HCL text for balanced brackets, run before hcl-edit sees the text.
//!
//! hcl-edit's parser backtracks: on *unclosed* nesting (`a = {G = r * 6 % {G = r * 6 % …`) it
//! retries every level's alternatives and takes time exponential in the depth (20 levels took
//! 15 s, a 798-byte fuzz input 52 s). A pull request must not be able to hang the gate that way,
//! so [`check`] lexes just enough HCL to match brackets in one pass — double-quoted templates with
//! escapes, `${`/`%{` template openers (and their `$${`/`%%{` escapes), heredocs (`<<EOF` /
//! `<<-EOF` up to the closing identifier line, with hcl-edit's own rule for that line), and
//! comments (`#`, `//`, `/* */`) — and rejects text whose brackets cannot be balanced, or nest
//! deeper than [`MAX_DEPTH`], without calling hcl-edit at all.
//!
//! Its contract: it only rejects text hcl-edit rejects too (an opener no later text closes, a
//! closer that closes nothing or the wrong opener, a string, heredoc or comment still open at the
//! end), so valid Terraform always reaches hcl-edit; the property test below checks that against
//! hcl-edit itself.

use super::json::ParseFailure;
use hcl_primitives::ident::{is_id_continue, is_id_start};

/// Deepest nesting of brackets, strings, heredocs and template openers accepted. Real
/// configurations stay far below (the deepest file in the shared corpus nests about 12 levels).
pub const MAX_DEPTH: usize = 128;

#[derive(Clone, Copy, Debug)]
enum Frame {
    /// `{`, `[` or `(` in a body or an expression, at this offset.
    Bracket(u8, usize),
    /// `${` or `%{` in a template: an expression up to the matching `}`.
    Control(u8, usize),
    /// A double-quoted template opened at this offset.
    Quoted(usize),
    /// A heredoc template opened at `start`, closed by a line holding `text[delim.0..delim.1]`.
    Heredoc { start: usize, delim: (usize, usize) },
}

impl Frame {
    fn offset(self) -> usize {
        match self {
            Frame::Bracket(_, o) | Frame::Control(_, o) | Frame::Quoted(o) => o,
            Frame::Heredoc { start, .. } => start,
        }
    }
}

/// Check that `text`'s brackets, strings, heredocs and comments are all closed and properly
/// nested (at most [`MAX_DEPTH`] deep). The error points at the unclosed or mismatched bracket.
pub fn check(text: &str) -> Result<(), ParseFailure> {
    let b = text.as_bytes();
    let fail = |offset: usize, message: String| Err(ParseFailure { offset, message });
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let top = stack.last().copied();
        match top {
            Some(Frame::Quoted(_)) => match b[i] {
                b'"' => {
                    stack.pop();
                    i += 1;
                }
                // an escape: the next character is never a delimiter
                b'\\' => i += 2,
                _ => i += template_marker(b, i, &mut stack)?,
            },
            Some(Frame::Heredoc { delim, .. }) => {
                if (i == 0 || b[i - 1] == b'\n')
                    && let Some(end) = heredoc_end(text, i, &text[delim.0..delim.1])
                {
                    stack.pop();
                    i = end;
                } else {
                    i += template_marker(b, i, &mut stack)?;
                }
            }
            // body or expression
            None | Some(Frame::Bracket(..)) | Some(Frame::Control(..)) => match b[i] {
                b'#' => i = line_end(b, i),
                b'/' if b.get(i + 1) == Some(&b'/') => i = line_end(b, i),
                b'/' if b.get(i + 1) == Some(&b'*') => match text[i + 2..].find("*/") {
                    Some(n) => i += 2 + n + 2,
                    None => return fail(i, "unclosed `/*` comment (opened here)".into()),
                },
                b'"' => {
                    push(&mut stack, Frame::Quoted(i))?;
                    i += 1;
                }
                b'{' | b'[' | b'(' => {
                    push(&mut stack, Frame::Bracket(b[i], i))?;
                    i += 1;
                }
                c @ (b'}' | b']' | b')') => {
                    match top {
                        Some(Frame::Bracket(open, _)) if closer(open) == c => {}
                        Some(Frame::Control(..)) if c == b'}' => {}
                        None => {
                            return fail(
                                i,
                                format!("unexpected `{}`: nothing to close", c as char),
                            );
                        }
                        Some(f) => {
                            let (open, close) = match f {
                                Frame::Bracket(o, _) => ((o as char).to_string(), closer(o)),
                                Frame::Control(o, _) => (format!("{}{{", o as char), b'}'),
                                _ => unreachable!("only brackets and controls reach here"),
                            };
                            return fail(
                                i,
                                format!(
                                    "mismatched `{}`: expected `{}` to close the `{open}` on line {}",
                                    c as char,
                                    close as char,
                                    line_of(b, f.offset())
                                ),
                            );
                        }
                    }
                    stack.pop();
                    i += 1;
                }
                b'<' if b.get(i + 1) == Some(&b'<') => match heredoc_start(text, i) {
                    Some((delim, body)) => {
                        push(&mut stack, Frame::Heredoc { start: i, delim })?;
                        i = body;
                    }
                    None => i += 2,
                },
                _ => i += 1,
            },
        }
    }
    match stack.last() {
        None => Ok(()),
        Some(&f) => {
            let what = match f {
                Frame::Bracket(o, _) => format!("unclosed `{}` (opened here)", o as char),
                Frame::Control(o, _) => format!("unclosed `{}{{` (opened here)", o as char),
                Frame::Quoted(_) => "unclosed string (opened here)".to_string(),
                Frame::Heredoc { delim, .. } => format!(
                    "unclosed heredoc: no line ends `{}` (opened here)",
                    &text[delim.0..delim.1]
                ),
            };
            fail(f.offset(), what)
        }
    }
}

fn push(stack: &mut Vec<Frame>, f: Frame) -> Result<(), ParseFailure> {
    if stack.len() >= MAX_DEPTH {
        return Err(ParseFailure {
            offset: f.offset(),
            message: format!("nesting deeper than {MAX_DEPTH} levels"),
        });
    }
    stack.push(f);
    Ok(())
}

fn closer(open: u8) -> u8 {
    match open {
        b'{' => b'}',
        b'[' => b']',
        _ => b')',
    }
}

/// In a template at `i`: `$${`/`%%{` are literal, `${`/`%{` open an expression. Returns how
/// many bytes to advance.
fn template_marker(b: &[u8], i: usize, stack: &mut Vec<Frame>) -> Result<usize, ParseFailure> {
    let rest = &b[i..];
    if rest.starts_with(b"$${") || rest.starts_with(b"%%{") {
        Ok(3)
    } else if rest.starts_with(b"${") || rest.starts_with(b"%{") {
        push(stack, Frame::Control(b[i], i))?;
        Ok(2)
    } else {
        Ok(1)
    }
}

/// The offset of the line ending after `i` (or the end of the text).
fn line_end(b: &[u8], i: usize) -> usize {
    b[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |n| i + n)
}

fn line_of(b: &[u8], offset: usize) -> usize {
    1 + b[..offset].iter().filter(|&&c| c == b'\n').count()
}

/// `<<EOF` or `<<-EOF` and a line ending at `i`, as hcl-edit reads a heredoc opener: the
/// delimiter's range and where the template starts.
fn heredoc_start(text: &str, i: usize) -> Option<((usize, usize), usize)> {
    let mut j = i + 2;
    if text.as_bytes().get(j) == Some(&b'-') {
        j += 1;
    }
    let start = j;
    let mut chars = text[j..].chars();
    let first = chars.next()?;
    if !is_id_start(first) {
        return None;
    }
    j += first.len_utf8();
    for c in chars {
        if !is_id_continue(c) {
            break;
        }
        j += c.len_utf8();
    }
    let delim = (start, j);
    let rest = &text.as_bytes()[j..];
    if rest.starts_with(b"\n") {
        Some((delim, j + 1))
    } else if rest.starts_with(b"\r\n") {
        Some((delim, j + 2))
    } else {
        None
    }
}

/// At the start of a heredoc line: spaces or tabs, the delimiter, and no identifier character
/// after it (hcl-edit's closing rule). Returns the offset after the delimiter.
fn heredoc_end(text: &str, i: usize, delim: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut j = i;
    while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
        j += 1;
    }
    let after = j + delim.len();
    if !text[j..].starts_with(delim) {
        return None;
    }
    match text[after..].chars().next() {
        Some(c) if is_id_continue(c) => None,
        _ => Some(after),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(text: &str) -> bool {
        check(text).is_ok()
    }

    #[test]
    fn balanced_terraform_passes() {
        for t in [
            "a = {b = [1, (2)]}\n",
            "a = \"x${f({b = \"}\"})}y%{ if c }z%{ endif }\"\n",
            "a = \"\\\"{\\\\\"\n",
            "a = \"$${ %%{ {\"\n",
            "# {\n// [\n/* ( */ a = 1\n",
            "a = <<EOF\n{ [ ( \"\n  EOF\n",
            "a = <<-EOT\n  ${ jsonencode({x = <<EOF\n}\nEOF\n}) }\n  EOT\nb = {}\n",
            "a = <<EOF\r\n{\r\nEOF\r\n",
            "a = <<EOF\nEOF-ish\nEOF\n",
            "a = <<EOF\nEOF",
            "r \"x\" \"y\" {\n  b {\n  }\n}\n",
        ] {
            assert!(ok(t), "{t:?}: {:?}", check(t));
            assert!(
                hcl_edit::parser::parse_body(t).is_ok(),
                "{t:?} is valid HCL"
            );
        }
    }

    #[test]
    fn unbalanced_is_reported_at_the_bracket() {
        let e = check("a = {G = r * 6 % {G = r * 6 % 1").unwrap_err();
        assert_eq!(
            (e.offset, e.message.as_str()),
            (17, "unclosed `{` (opened here)")
        );
        let e = check("a = [1, 2}\n").unwrap_err();
        assert_eq!(e.offset, 9);
        assert_eq!(
            e.message,
            "mismatched `}`: expected `]` to close the `[` on line 1"
        );
        let e = check("}\n").unwrap_err();
        assert_eq!(e.message, "unexpected `}`: nothing to close");
        assert_eq!(check("a = \"${x").unwrap_err().offset, 5);
        assert_eq!(check("a = \"${x\"").unwrap_err().offset, 8);
        assert_eq!(check("a = \"x").unwrap_err().offset, 4);
        assert_eq!(check("a = <<EOF\nx\n EOFX\n").unwrap_err().offset, 4);
        assert_eq!(check("a = 1 /* x").unwrap_err().offset, 6);
        let deep = format!("a = {}{}", "[".repeat(200), "]".repeat(200));
        let e = check(&deep).unwrap_err();
        assert_eq!(
            (e.offset, e.message.as_str()),
            (4 + 128, "nesting deeper than 128 levels")
        );
    }

    /// Pieces of HCL that make bracket, string, heredoc and comment soup.
    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "{", "}", "[", "]", "(", ")", "\"", "\\", "${", "%{", "$${", "$", "%", "#", "//", "/*",
            "*/", "<<EOF\n", "<<-EOF\n", "\nEOF\n", "  EOF", "\n", "\r\n", "a", "a = ", "x", "1",
            ",", " ", "=", ":", "?", "é", "<", "-", "EOF", "b {\n", "}\n",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]
        /// The scan never panics, and it only rejects what hcl-edit rejects too (the inputs are
        /// small enough for hcl-edit's backtracking to stay fast).
        #[test]
        fn never_rejects_what_hcl_edit_accepts(pieces in prop::collection::vec(piece(), 0..14)) {
            let text: String = pieces.concat();
            let scan = check(&text);
            if hcl_edit::parser::parse_body(&text).is_ok() {
                prop_assert!(scan.is_ok(), "{text:?} parses but the scan says {scan:?}");
            }
            if let Err(e) = scan {
                prop_assert!(e.offset <= text.len() && text.is_char_boundary(e.offset));
            }
        }

        /// Balanced nesting of every kind passes; the same with its last closer cut is rejected.
        #[test]
        fn balanced_nesting_passes(shape in prop::collection::vec(0..6usize, 1..40)) {
            let mut open = String::from("a = ");
            let mut close = String::new();
            for s in shape {
                let (o, c) = [("{b = ", "}"), ("[", "]"), ("(", ")"), ("\"${", "}\""),
                    ("<<EOF\n${", "}\nEOF"), ("\"%{ if ", " }x%{ endif }\"")][s];
                open.push_str(o);
                close.insert_str(0, c);
            }
            let text = format!("{open}1{close}\n");
            prop_assert!(check(&text).is_ok(), "{text:?}");
            let cut = &text[..text.len() - 2];
            prop_assert!(check(cut).is_err(), "{cut:?}");
        }
    }
}
