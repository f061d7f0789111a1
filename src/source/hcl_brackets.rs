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
//! The same pass bounds hcl-edit's second exponential path, on balanced text. In a chain of
//! binary operators (`a < b < c`), when the term after the second or a later operator fails to
//! parse, hcl-edit rewinds to that operator, ends the chain, sees an operator next and parses
//! the failing term once more before giving up. A term that itself nests such a chain (a
//! parenthesis, a string template's `${…}`, an index, an object) doubles the work again: `n`
//! nested levels cost `2^n` parses of the innermost text (a 1.4 KB fuzz input of about twenty
//! levels took a minute). The scan counts the binary operators since the last `,` `:` `?` `=`
//! `=>` in each expression (an over-count is safe: it only ever counts more), tracks how many
//! open brackets, strings and heredocs opened after a second operator (`d`), charges each byte
//! `2^d - 1` re-parses, and refuses text whose re-parses would exceed [`reparse_budget`] (the
//! text's own length, at least 1 MiB): hcl-edit's work stays within a few times the text's
//! length. To see the structure hcl-edit sees it reads a heredoc opener at any `<<` (`a <<<EOF`
//! is the operator `<` and a heredoc, as hcl-edit reads it).
//!
//! Its contract: it only rejects text hcl-edit rejects too (an opener no later text closes, a
//! closer that closes nothing or the wrong opener, a string, heredoc or comment still open at the
//! end), so valid Terraform always reaches hcl-edit; the property test below checks that against
//! hcl-edit itself — and text whose re-parses exceed the budget, which no file in the shared
//! corpus of real configurations comes near (946 `.tf` files: 922 nest no such operand, 23 one
//! level, 1 two levels; none is refused).

use super::json::ParseFailure;
use hcl_primitives::ident::{is_id_continue, is_id_start};

/// Deepest nesting of brackets, strings, heredocs and template openers accepted. Real
/// configurations stay far below (the deepest file in the shared corpus nests about 12 levels).
pub const MAX_DEPTH: usize = 128;

/// How many bytes hcl-edit may re-parse in all on `len` bytes of text, as [`check`] counts them
/// (a byte inside `d` nested operands of chains counts `2^d - 1`): as many as the text holds,
/// and at least 1 MiB so that small files are never refused for a few nested operands.
pub fn reparse_budget(len: usize) -> u64 {
    (len as u64).max(1 << 20)
}

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
/// nested (at most [`MAX_DEPTH`] deep), and that hcl-edit's re-parses of operands of operator
/// chains stay within [`reparse_budget`]. The error points at the unclosed, mismatched or
/// costly opener.
pub fn check(text: &str) -> Result<(), ParseFailure> {
    scan(text, reparse_budget(text.len())).map(|_| ())
}

/// [`check`] with a re-parse budget of `budget` bytes; returns the deepest nesting of operands
/// of chains.
fn scan(text: &str, budget: u64) -> Result<usize, ParseFailure> {
    let b = text.as_bytes();
    let fail = |offset: usize, message: String| Err(ParseFailure { offset, message });
    let mut scan = Scan {
        stack: Vec::new(),
        ops: vec![0],
        reparse_depth: 0,
        deepest: 0,
        reparsed: 0,
        budget,
        overrun: None,
    };
    let mut i = 0;
    let mut charged = 0;
    while i < b.len() {
        scan.charge(i - charged);
        charged = i;
        let top = scan.stack.last().map(|&(f, _)| f);
        match top {
            Some(Frame::Quoted(_)) => match b[i] {
                b'"' => {
                    scan.pop();
                    i += 1;
                }
                // an escape: the next character is never a delimiter
                b'\\' => i += 2,
                _ => i += scan.template_marker(b, i)?,
            },
            Some(Frame::Heredoc { delim, .. }) => {
                if (i == 0 || b[i - 1] == b'\n')
                    && let Some(end) = heredoc_end(text, i, &text[delim.0..delim.1])
                {
                    scan.pop();
                    i = end;
                } else {
                    i += scan.template_marker(b, i)?;
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
                    scan.open(Frame::Quoted(i))?;
                    i += 1;
                }
                b'{' | b'[' | b'(' => {
                    scan.open(Frame::Bracket(b[i], i))?;
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
                    scan.pop();
                    i += 1;
                }
                // hcl-edit reads a heredoc at any `<<` where an expression may start, so after
                // an operator too (`a <<<EOF` is `<` and a heredoc): try each `<` in turn
                b'<' => match heredoc_start(text, i) {
                    Some((delim, body)) => {
                        scan.open(Frame::Heredoc { start: i, delim })?;
                        i = body;
                    }
                    None => i += scan.operator(b, i),
                },
                b'>' | b'+' | b'-' | b'/' | b'%' | b'&' | b'|' => i += scan.operator(b, i),
                // a splat (`a.*`, `a[*]`) is no operator; over-counting one is safe
                b'*' => {
                    let before = b[..i].iter().rposition(|c| !c.is_ascii_whitespace());
                    if before.is_some_and(|p| matches!(b[p], b'.' | b'[')) {
                        i += 1;
                    } else {
                        i += scan.operator(b, i);
                    }
                }
                // `==` and `!=` are operators; `!` alone is unary (it adds no operator)
                b'=' | b'!' if b.get(i + 1) == Some(&b'=') => i += scan.operator(b, i),
                // a namespaced function name (`provider::p::f`) keeps its chain
                b':' if b.get(i + 1) == Some(&b':') => i += 2,
                // these end a chain: an attribute or object item's `=` (and `=>` in a `for`),
                // `:` of an object, a conditional or a `for`, `?`, and `,` between items
                b'=' if b.get(i + 1) == Some(&b'>') => {
                    scan.end_chain();
                    i += 2;
                }
                b'=' | b':' | b'?' | b',' => {
                    scan.end_chain();
                    i += 1;
                }
                _ => i += 1,
            },
        }
    }
    match scan.stack.last() {
        None => match scan.overrun {
            Some(e) => Err(e),
            None => Ok(scan.deepest),
        },
        Some(&(f, _)) => {
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

/// The open frames, and for the body and each open bracket or template expression the binary
/// operators seen since its current chain began.
struct Scan {
    /// Each open frame, and whether it opened after a chain's second operator.
    stack: Vec<(Frame, bool)>,
    /// Operators in the current chain of the body (`ops[0]`) and of each open frame.
    ops: Vec<usize>,
    /// How many open frames opened after a chain's second operator.
    reparse_depth: usize,
    /// The most `reparse_depth` has been.
    deepest: usize,
    /// Bytes hcl-edit would re-parse so far, and how many it may.
    reparsed: u64,
    budget: u64,
    /// Where the re-parses first passed the budget: reported when the brackets balance (an
    /// unbalanced bracket later in the text is the better message, and refused all the same).
    overrun: Option<ParseFailure>,
}

impl Scan {
    /// Push `f`, opened where the current chain has seen the operators it has.
    fn open(&mut self, f: Frame) -> Result<(), ParseFailure> {
        let reparsed = self.ops.last().is_some_and(|&n| n >= 2);
        self.push(f, reparsed)
    }

    fn push(&mut self, f: Frame, reparsed: bool) -> Result<(), ParseFailure> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(ParseFailure {
                offset: f.offset(),
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
        }
        if reparsed {
            self.reparse_depth += 1;
            self.deepest = self.deepest.max(self.reparse_depth);
        }
        self.stack.push((f, reparsed));
        self.ops.push(0);
        Ok(())
    }

    /// Charge `n` bytes scanned at the current depth: hcl-edit may parse each `2^d` times; the
    /// first time the total passes the budget is kept in `overrun`.
    fn charge(&mut self, n: usize) {
        if self.reparse_depth == 0 || self.overrun.is_some() {
            return;
        }
        let times = 1u64
            .checked_shl(self.reparse_depth as u32)
            .unwrap_or(u64::MAX);
        self.reparsed = self
            .reparsed
            .saturating_add((n as u64).saturating_mul(times - 1));
        if self.reparsed <= self.budget {
            return;
        }
        let (f, _) = self
            .stack
            .iter()
            .rev()
            .find(|(_, r)| *r)
            .copied()
            .expect("d > 0");
        self.overrun = Some(ParseFailure {
            offset: f.offset(),
            message: format!(
                "operands after chained operators (`a < b < (…`) nested {} deep: the HCL \
                 parser would parse this text up to {times} times, too slow to allow",
                self.reparse_depth
            ),
        });
    }

    fn pop(&mut self) {
        if let Some((_, reparsed)) = self.stack.pop() {
            self.reparse_depth -= usize::from(reparsed);
            self.ops.pop();
        }
    }

    /// A binary operator (or what may be one) at `i`: count it; returns its length.
    fn operator(&mut self, b: &[u8], i: usize) -> usize {
        if let Some(n) = self.ops.last_mut() {
            *n += 1;
        }
        match (b[i], b.get(i + 1)) {
            (b'<' | b'>' | b'=' | b'!', Some(b'=')) | (b'&', Some(b'&')) | (b'|', Some(b'|')) => 2,
            _ => 1,
        }
    }

    fn end_chain(&mut self) {
        if let Some(n) = self.ops.last_mut() {
            *n = 0;
        }
    }

    /// In a template at `i`: `$${`/`%%{` are literal, `${`/`%{` open an expression (a chain of
    /// its own, whatever surrounds the template). Returns how many bytes to advance.
    fn template_marker(&mut self, b: &[u8], i: usize) -> Result<usize, ParseFailure> {
        let rest = &b[i..];
        if rest.starts_with(b"$${") || rest.starts_with(b"%%{") {
            Ok(3)
        } else if rest.starts_with(b"${") || rest.starts_with(b"%{") {
            self.push(Frame::Control(b[i], i), false)?;
            Ok(2)
        } else {
            Ok(1)
        }
    }
}

fn closer(open: u8) -> u8 {
    match open {
        b'{' => b'}',
        b'[' => b']',
        _ => b')',
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
    if !text[i..].starts_with("<<") {
        return None;
    }
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

    #[test]
    fn operands_of_operator_chains_nest_boundedly() {
        let depth = |t: &str| scan(t, u64::MAX).unwrap();
        // the second and later operators' operands count; the first's do not
        assert_eq!(depth("a = x < (y < (z))\n"), 0);
        assert_eq!(depth("a = x < y < (z)\n"), 1);
        assert_eq!(depth("a = x < y < \"${p + q + [1]}\"\n"), 2);
        assert_eq!(depth("a = x && y && !(p || q || -r[0])\n"), 2);
        // `,` `:` `?` `=` `=>` end a chain; `::` and a newline do not
        assert_eq!(depth("a = [x + y, (z)]\nb = { k = x + y\n l = (1) }\n"), 0);
        assert_eq!(depth("a = {for k, v in m : k => v + w + (1)}\n"), 1);
        assert_eq!(depth("a = [for k, v in m : v + w + (1)]\n"), 1);
        assert_eq!(depth("a = x ? y + z : (w)\nb = p + q + (x)\n"), 1);
        assert_eq!(depth("a = x + y + p::q::f(z + w + (1))[(0)]\n"), 2);
        assert_eq!(depth("a = (x + y\n + (z))\n"), 1);
        // operators in templates, comments and heredoc text do not count; splats do not either
        assert_eq!(depth("a = \"x + y + ${(z)}\"\n"), 0);
        assert_eq!(depth("a = x # + y + (z)\nb = <<EOF\n+ + ${(z)}\nEOF\n"), 0);
        assert_eq!(depth("a = x.*.y + z[*] + (w)\n"), 1);
        // `<<<EOF` is the operator `<` and a heredoc, as hcl-edit reads it
        assert_eq!(depth("a = x < y <<<EOF\n${p < q < (1)}\nEOF\n"), 2);
        // `n` levels: hcl-edit parses the innermost text `2^n` times
        let nest = |n: usize, inner: usize| {
            format!(
                "a = x < y < {}\"{}%{{zz}}\"{}\n",
                "\"${x < y < ".repeat(n),
                "a".repeat(inner),
                "}\"".repeat(n)
            )
        };
        assert_eq!(depth(&nest(20, 0)), 21);
        assert!(check(&nest(6, 1000)).is_ok());
        // refused at the operand where the re-parses exceed the budget (1 MiB: 16 levels of
        // 11 bytes)
        let e = check(&nest(20, 0)).unwrap_err();
        assert_eq!(e.offset, 12 + 11 * 15);
        assert_eq!(
            e.message,
            "operands after chained operators (`a < b < (…`) nested 16 deep: the HCL parser \
             would parse this text up to 65536 times, too slow to allow"
        );
        // the budget grows with the text: a long operand inside a few levels is refused, the
        // same nesting with the text's bulk outside it is not
        let big = nest(6, 1 << 20);
        let e = check(&big).unwrap_err();
        assert_eq!(e.offset, 12 + 11 * 6);
        let spread = format!("{}{}", nest(6, 1000), "# padding\n".repeat(1 << 17));
        assert!(check(&spread).is_ok());
        assert_eq!(scan(&big, reparse_budget(1 << 28)).unwrap(), 7);
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
