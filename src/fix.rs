//! Building fixes as text edits on spans, and applying them.

use crate::diag::Edit;
use crate::model::{MapHandle, Syntax};
use crate::source::{SourceFile, Span};

/// A value to write into a mapping.
#[derive(Clone, Debug)]
pub enum NewValue {
    Str(String),
    Map(Vec<(String, NewValue)>),
}

fn yaml_scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'))
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn hcl_key(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
    {
        s.to_string()
    } else {
        json_str(s)
    }
}

/// Render `key: value` in the handle's syntax. `indent` is the indentation of the new line,
/// `unit` one level of indentation, `nl` the file's line terminator.
fn render(
    syntax: Syntax,
    key: &str,
    value: &NewValue,
    indent: &str,
    unit: &str,
    nl: &str,
) -> String {
    match (syntax, value) {
        (Syntax::Json, NewValue::Str(v)) => format!("{}: {}", json_str(key), json_str(v)),
        (Syntax::Json, NewValue::Map(entries)) => {
            let inner = format!("{indent}{unit}");
            let body: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{inner}{}", render(syntax, k, v, &inner, unit, nl)))
                .collect();
            format!(
                "{}: {{{nl}{}{nl}{indent}}}",
                json_str(key),
                body.join(&format!(",{nl}"))
            )
        }
        (Syntax::YamlBlock, NewValue::Str(v)) => {
            format!("{}: {}", yaml_scalar(key), yaml_scalar(v))
        }
        (Syntax::YamlBlock, NewValue::Map(entries)) => {
            let inner = format!("{indent}{unit}");
            let body: String = entries
                .iter()
                .map(|(k, v)| format!("{nl}{inner}{}", render(syntax, k, v, &inner, unit, nl)))
                .collect();
            format!("{}:{body}", yaml_scalar(key))
        }
        (Syntax::YamlFlow, NewValue::Str(v)) => format!("{}: {}", yaml_scalar(key), yaml_scalar(v)),
        (Syntax::YamlFlow, NewValue::Map(entries)) => {
            let body: Vec<String> = entries
                .iter()
                .map(|(k, v)| render(syntax, k, v, indent, unit, nl))
                .collect();
            format!("{}: {{{}}}", yaml_scalar(key), body.join(", "))
        }
        (Syntax::HclObject, NewValue::Str(v)) => format!("{} = {}", hcl_key(key), json_str(v)),
        (Syntax::HclObject, NewValue::Map(entries)) => {
            let inner = format!("{indent}{unit}");
            let body: String = entries
                .iter()
                .map(|(k, v)| format!("{inner}{}{nl}", render(syntax, k, v, &inner, unit, nl)))
                .collect();
            format!("{} = {{{nl}{body}{indent}}}", hcl_key(key))
        }
        (Syntax::ReadOnly, _) => String::new(),
    }
}

/// `key: value` on one line in `syntax`, as a fix would write it there (YAML in flow style,
/// HCL as an object constructor's `key = value`): for help texts that show what to add.
/// `None` for read-only text.
pub fn inline_entry(syntax: Syntax, key: &str, value: &NewValue) -> Option<String> {
    match (syntax, value) {
        (Syntax::ReadOnly, _) => None,
        (Syntax::YamlBlock | Syntax::YamlFlow, v) => {
            Some(render(Syntax::YamlFlow, key, v, "", "", ""))
        }
        (Syntax::Json, NewValue::Map(entries)) => {
            let body: Vec<String> = entries
                .iter()
                .filter_map(|(k, v)| inline_entry(syntax, k, v))
                .collect();
            Some(format!("{}: {{{}}}", json_str(key), body.join(", ")))
        }
        (Syntax::HclObject, NewValue::Map(entries)) => {
            let body: Vec<String> = entries
                .iter()
                .filter_map(|(k, v)| inline_entry(syntax, k, v))
                .collect();
            Some(format!("{} = {{ {} }}", hcl_key(key), body.join(", ")))
        }
        (s, v) => Some(render(s, key, v, "", "", "")),
    }
}

/// Spaces and tabs right before `at` on its line: the indentation when nothing else precedes
/// `at` there. Scans back over blanks only (never a whole long line).
fn blanks_before(text: &str, at: usize) -> &str {
    let head = &text[..at];
    let blanks = head.len() - head.trim_end_matches([' ', '\t']).len();
    &head[at - blanks..]
}

/// Whether only spaces and tabs precede `at` on its line.
fn first_on_line(src: &SourceFile, at: usize) -> bool {
    at - blanks_before(&src.text, at).len() == src.line_start(at)
}

/// The indentation of the line holding `at` (bounded by the indentation's length).
fn indent_of_line(src: &SourceFile, at: usize) -> String {
    src.text[src.line_start(at)..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect()
}

/// Characters between the start of `at`'s line and `at` (O(log n)).
fn column_of(src: &SourceFile, at: usize) -> usize {
    src.pos(at.min(u32::MAX as usize) as u32).column as usize - 1
}

/// Insert `key: value` as the last entry of the mapping behind `h`. Returns `None` when the
/// mapping cannot be edited safely (read-only text, or a shape the writer does not know).
pub fn insert_entry(src: &SourceFile, h: &MapHandle, key: &str, value: &NewValue) -> Option<Edit> {
    let text = &src.text;
    let nl = if src.crlf() { "\r\n" } else { "\n" };
    let map = h.span.range();
    text.get(map.clone())?;
    match h.syntax {
        Syntax::ReadOnly => None,
        Syntax::YamlFlow => {
            let last = h.last_entry?;
            let t = render(h.syntax, key, value, "", "  ", nl);
            Some(edit(h.file, last.end as usize, format!(", {t}")))
        }
        Syntax::Json | Syntax::HclObject => {
            let Some(last) = h.last_entry else {
                // empty object: `{}` → `{ "k": "v" }`
                let open = map.start + text[map.clone()].find('{')? + 1;
                let t = render(h.syntax, key, value, "", "  ", nl);
                return Some(edit(h.file, open, format!(" {t} ")));
            };
            let entry_start = last.start as usize;
            let on_own_line = first_on_line(src, entry_start);
            let sep = if h.syntax == Syntax::Json { "," } else { "" };
            if on_own_line {
                let indent = indent_of_line(src, entry_start);
                let parent_indent = indent_of_line(src, map.start);
                let unit = indent
                    .strip_prefix(parent_indent.as_str())
                    .filter(|u| !u.is_empty())
                    .unwrap_or("  ")
                    .to_string();
                let t = render(h.syntax, key, value, &indent, &unit, nl);
                // A trailing HCL comment stays on the line it annotates: insert after it.
                let end = (last.end as usize).min(text.len());
                let line_end = src.line_end(end).max(end);
                let rest = text[end..line_end].trim_start();
                let at = if h.syntax == Syntax::HclObject
                    && (rest.starts_with('#') || rest.starts_with("//"))
                {
                    line_end
                } else {
                    end
                };
                Some(edit(h.file, at, format!("{sep}{nl}{indent}{t}")))
            } else {
                let t = render(h.syntax, key, value, "", "", " ");
                Some(edit(h.file, last.end as usize, format!(", {t}")))
            }
        }
        Syntax::YamlBlock => {
            let last = h.last_entry?;
            let entry_start = last.start as usize;
            let ls = src.line_start(entry_start);
            let col = column_of(src, entry_start);
            let indent = " ".repeat(col);
            let parent_col = column_of(src, map.start);
            let unit = if col > parent_col && map.start != entry_start {
                " ".repeat(col - parent_col)
            } else {
                "  ".to_string()
            };
            let t = render(h.syntax, key, value, &indent, &unit, nl);
            // insert at the start of the line after the last entry
            let end = (last.end as usize).min(text.len());
            let end_ls = src.line_start(end);
            let at = if end > 0 && first_on_line(src, end) && end_ls != ls {
                end_ls
            } else {
                // Past the end of the entry's line (its terminator is only `\r`s then `\n`).
                let le = src.line_end(end).max(end);
                match text[le..].find('\n') {
                    Some(i) => le + i + 1,
                    None => {
                        return Some(edit(h.file, text.len(), format!("{nl}{indent}{t}")));
                    }
                }
            };
            Some(edit(h.file, at, format!("{indent}{t}{nl}")))
        }
    }
}

fn edit(file: usize, at: usize, replacement: String) -> Edit {
    Edit {
        file,
        span: Span::new(at, at),
        replacement,
    }
}

/// Apply non-overlapping edits to a text. Edits are applied in span order; an edit that
/// overlaps one already taken is skipped (its fix is left for the next pass).
pub fn apply_edits(text: &str, edits: &[&Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.to_vec();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len() + 64);
    let mut pos = 0usize;
    for e in sorted {
        let r = e.span.range();
        if r.start < pos || r.end > text.len() {
            continue;
        }
        out.push_str(&text[pos..r.start]);
        out.push_str(&e.replacement);
        pos = r.end;
    }
    out.push_str(&text[pos..]);
    out
}

pub use crate::write::write_atomic;

/// Do two edits touch the same text? Insertions at one point conflict too: their order would
/// be arbitrary.
fn overlaps(a: &Edit, b: &Edit) -> bool {
    a.file == b.file
        && ((a.span.start < b.span.end && b.span.start < a.span.end)
            || a.span.start == b.span.start)
}

/// Edits already chosen, by file and start, for overlap queries in O(log n): chosen edits never
/// overlap, so their ends grow with their starts and the nearest one before a point is the
/// only one that can reach over it.
#[derive(Default)]
struct Taken {
    by_start: std::collections::BTreeMap<(crate::source::FileId, u32), u32>,
}

impl Taken {
    fn conflicts(&self, e: &Edit) -> bool {
        let (s, end) = (e.span.start, e.span.end);
        // One starting inside [s, e) (or at s, for an insertion).
        let hi = end.max(s.saturating_add(1));
        if self
            .by_start
            .range((e.file, s)..(e.file, hi))
            .next()
            .is_some()
        {
            return true;
        }
        // The nearest one starting before s, reaching past it.
        self.by_start
            .range(..(e.file, s))
            .next_back()
            .is_some_and(|((f, _), pe)| *f == e.file && *pe > s)
    }
    fn insert(&mut self, e: &Edit) {
        self.by_start.insert((e.file, e.span.start), e.span.end);
    }
}

/// Choose the fixes of one pass: in finding order, every applicable fix whose edits overlap no
/// edit already chosen. Returns the chosen fixes.
pub fn choose(findings: &[crate::diag::Finding], unsafe_fixes: bool) -> Vec<&crate::diag::Fix> {
    let mut chosen: Vec<&crate::diag::Fix> = Vec::new();
    let mut taken = Taken::default();
    for f in findings {
        let Some(fix) = &f.fix else { continue };
        if !(fix.safe || unsafe_fixes) || fix.edits.is_empty() {
            continue;
        }
        // A fix has a handful of edits: pairwise is fine here.
        let self_overlap = fix
            .edits
            .iter()
            .enumerate()
            .any(|(i, a)| fix.edits[i + 1..].iter().any(|b| overlaps(a, b)));
        if self_overlap || fix.edits.iter().any(|e| taken.conflicts(e)) {
            continue;
        }
        for e in &fix.edits {
            taken.insert(e);
        }
        chosen.push(fix);
    }
    chosen
}

/// Read a file the way the scan does (a UTF-8 BOM becomes three spaces). Returns the text and
/// whether there was a BOM.
fn read_as_scanned(path: &std::path::Path) -> std::io::Result<(String, bool)> {
    let bytes = std::fs::read(path)?;
    let bom = bytes.starts_with(&[0xEF, 0xBB, 0xBF]);
    let mut text = String::from_utf8(bytes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    if bom {
        text.replace_range(..3, "   ");
    }
    Ok((text, bom))
}

/// What a fix run did.
#[derive(Debug, Default)]
pub struct FixReport {
    /// Passes that applied at least one fix.
    pub passes: usize,
    /// Fixes applied over all passes.
    pub applied: usize,
    /// Relative paths of files written.
    pub files: std::collections::BTreeSet<String>,
    /// Files not written, and why (changed on disk since read, write failure).
    pub errors: Vec<String>,
    /// Whether fixes were still applicable after the last pass.
    pub converged: bool,
}

pub const MAX_PASSES: usize = 10;

/// Apply fixes until none is left (at most [`MAX_PASSES`] passes). `analyse` scans and checks
/// the files as they are on disk now (findings already filtered by suppressions). Each pass
/// applies non-overlapping fixes, refuses files changed since they were read, and writes files
/// with [`crate::write::write_fixed`] inside `bases` (see [`crate::write::bases`]).
pub fn fix_to_fixed_point(
    mut analyse: impl FnMut() -> (crate::model::Scan, Vec<crate::diag::Finding>),
    unsafe_fixes: bool,
    bases: &[std::path::PathBuf],
) -> FixReport {
    let mut report = FixReport::default();
    let mut refused: std::collections::BTreeSet<String> = Default::default();
    for _ in 0..MAX_PASSES {
        let (scan, findings) = analyse();
        let findings: Vec<crate::diag::Finding> = findings
            .into_iter()
            .filter(|f| {
                f.fix.as_ref().is_some_and(|x| {
                    x.edits
                        .iter()
                        .all(|e| !refused.contains(&scan.file(e.file).rel))
                })
            })
            .collect();
        let fixes = choose(&findings, unsafe_fixes);
        let chosen: Vec<&Edit> = fixes.iter().flat_map(|f| f.edits.iter()).collect();
        if chosen.is_empty() {
            report.converged = true;
            return report;
        }
        let mut by_file: std::collections::BTreeMap<crate::source::FileId, Vec<&Edit>> =
            Default::default();
        for e in chosen {
            by_file.entry(e.file).or_default().push(e);
        }
        let mut wrote = false;
        let mut written: std::collections::BTreeSet<String> = Default::default();
        for (fid, edits) in by_file {
            let src = scan.file(fid);
            let (now, bom) = match read_as_scanned(&src.path) {
                Ok(t) => t,
                Err(e) => {
                    report
                        .errors
                        .push(format!("{}: cannot re-read: {e}", src.rel));
                    refused.insert(src.rel.clone());
                    continue;
                }
            };
            if now != src.text {
                report
                    .errors
                    .push(format!("{}: changed since it was read; not fixed", src.rel));
                refused.insert(src.rel.clone());
                continue;
            }
            let mut fixed = apply_edits(&src.text, &edits);
            if bom && fixed.starts_with("   ") {
                fixed.replace_range(..3, "\u{feff}");
            }
            match crate::write::write_fixed(&src.path, bases, fixed.as_bytes()) {
                Ok(()) => {
                    wrote = true;
                    written.insert(src.rel.clone());
                    report.files.insert(src.rel.clone());
                }
                Err(e) => {
                    report.errors.push(e.0);
                    refused.insert(src.rel.clone());
                }
            }
        }
        if wrote {
            report.passes += 1;
            report.applied += fixes
                .iter()
                .filter(|f| {
                    f.edits
                        .iter()
                        .all(|e| written.contains(&scan.file(e.file).rel))
                })
                .count();
        }
    }
    report.converged = false;
    report
}
