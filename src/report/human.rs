//! Human output: cargo-style snippets through annotate-snippets, fixes shown as diffs.

use super::Report;
use crate::diag::{Finding, Severity};
use crate::model::Scan;
use crate::source::SourceFile;
use crate::suppress::Suppressed;
use annotate_snippets::{AnnotationKind, Group, Level, Patch, Renderer, Snippet};

/// A window of whole lines around some byte ranges, so a huge one-line file or a 5 MB plan is
/// never handed to the renderer whole.
struct Window<'a> {
    text: &'a str,
    offset: usize,
    line: usize,
}

const MAX_WINDOW: usize = 4000;

fn window<'a>(src: &'a SourceFile, ranges: &[std::ops::Range<usize>]) -> Window<'a> {
    let start = ranges.iter().map(|r| r.start).min().unwrap_or(0);
    let end = ranges.iter().map(|r| r.end).max().unwrap_or(0).max(start);
    let sline = src.pos(start as u32).line;
    let eline = src.pos(end as u32).line;
    let mut a = src.line_range(sline).start;
    let mut b = src.line_range(eline).end;
    // Very long lines (minified JSON): keep a bounded slice around the spans.
    if b - a > MAX_WINDOW + (end - start) {
        let mut na = start.saturating_sub(MAX_WINDOW / 2).max(a);
        while !src.text.is_char_boundary(na) {
            na -= 1;
        }
        let mut nb = (end + MAX_WINDOW / 2).min(b);
        while !src.text.is_char_boundary(nb) {
            nb += 1;
        }
        a = na;
        b = nb;
    }
    Window {
        text: &src.text[a..b],
        offset: a,
        line: sline as usize,
    }
}

fn level(s: Severity) -> Level<'static> {
    match s {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Note => Level::NOTE,
    }
}

fn clip(r: std::ops::Range<usize>, w: &Window) -> std::ops::Range<usize> {
    let len = w.text.len();
    let s = r.start.saturating_sub(w.offset).min(len);
    let e = r.end.saturating_sub(w.offset).min(len).max(s);
    s..e
}

/// Mask a credential in the shown text: the primary span but its first and last four
/// characters, and every run of 40 or more base64 characters (a secret access key's shape).
fn mask(text: &str, primary: std::ops::Range<usize>) -> String {
    let mut out: Vec<u8> = text.as_bytes().to_vec();
    let (s, e) = (primary.start.min(out.len()), primary.end.min(out.len()));
    if e > s + 8 {
        for b in &mut out[s + 4..e - 4] {
            *b = b'*';
        }
    }
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || b == b'/' || b == b'+';
    let mut i = 0;
    while i < out.len() {
        if is_b64(out[i]) {
            let start = i;
            while i < out.len() && is_b64(out[i]) {
                i += 1;
            }
            if i - start >= 40 {
                for b in &mut out[start..i] {
                    *b = b'*';
                }
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

fn render_one(r: &Report, f: &Finding, renderer: &Renderer) -> String {
    let scan = r.scan;
    let src = scan.file(f.file);
    let mut same_file: Vec<std::ops::Range<usize>> = vec![f.span.range()];
    same_file.extend(
        f.related
            .iter()
            .filter(|l| l.file == f.file)
            .map(|l| l.span.range()),
    );
    let mut w = window(src, &same_file);
    let masked;
    if f.redact {
        masked = mask(w.text, clip(f.span.range(), &w));
        w.text = &masked;
    }
    let mut snippet = Snippet::source(w.text)
        .path(src.rel.as_str())
        .line_start(w.line)
        .annotation(
            AnnotationKind::Primary
                .span(clip(f.span.range(), &w))
                .label(f.label.as_str()),
        );
    for l in f.related.iter().filter(|l| l.file == f.file) {
        snippet = snippet.annotation(
            AnnotationKind::Context
                .span(clip(l.span.range(), &w))
                .label(l.message.as_str()),
        );
    }
    let mut group = level(f.severity)
        .primary_title(f.message.as_str())
        .id(f.rule)
        .element(snippet);
    // Related locations in other files get their own snippet.
    let others: Vec<(Window, &crate::diag::Label, &SourceFile)> = f
        .related
        .iter()
        .filter(|l| l.file != f.file)
        .map(|l| {
            let s = scan.file(l.file);
            (window(s, &[l.span.range()]), l, s)
        })
        .collect();
    for (ow, l, s) in &others {
        group = group.element(
            Snippet::source(ow.text)
                .path(s.rel.as_str())
                .line_start(ow.line)
                .annotation(
                    AnnotationKind::Context
                        .span(clip(l.span.range(), ow))
                        .label(l.message.as_str()),
                ),
        );
    }
    if !f.help.is_empty() {
        group = group.element(Level::HELP.message(f.help.as_str()));
    }
    let mut groups: Vec<Group> = vec![group];
    let fix_windows: Vec<(Window, &SourceFile, Vec<&crate::diag::Edit>)>;
    if let Some(fix) = &f.fix {
        let mut files: Vec<usize> = fix.edits.iter().map(|e| e.file).collect();
        files.dedup();
        fix_windows = files
            .into_iter()
            .map(|fid| {
                let s = scan.file(fid);
                let edits: Vec<&crate::diag::Edit> =
                    fix.edits.iter().filter(|e| e.file == fid).collect();
                let ranges: Vec<_> = edits.iter().map(|e| e.span.range()).collect();
                (window(s, &ranges), s, edits)
            })
            .collect();
        let title = if fix.safe {
            format!("fix: {}", fix.description)
        } else {
            format!(
                "fix (unsafe, applied with --unsafe-fixes): {}",
                fix.description
            )
        };
        let mut g = Group::with_title(Level::HELP.secondary_title(title));
        for (fw, s, edits) in &fix_windows {
            let mut sn = Snippet::source(fw.text)
                .path(s.rel.as_str())
                .line_start(fw.line);
            for e in edits {
                sn = sn.patch(Patch::new(clip(e.span.range(), fw), e.replacement.as_str()));
            }
            g = g.element(sn);
        }
        groups.push(g);
    }
    renderer.render(&groups).to_string()
}

pub fn render(r: &Report, color: bool, quiet: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    // Each finding renders on its own (in parallel: snippets are the costliest part of a
    // report with many findings), then they are joined in report order.
    use rayon::prelude::*;
    let rendered: Vec<String> = r
        .findings
        .par_iter()
        .map(|f| render_one(r, f, &renderer))
        .collect();
    let mut out = String::with_capacity(rendered.iter().map(|s| s.len() + 2).sum::<usize>() + 128);
    for one in &rendered {
        out.push_str(one);
        out.push_str("\n\n");
    }
    if !quiet {
        let n = r.findings.len();
        let files = r.scan.files_scanned();
        if n == 0 {
            out.push_str(&format!(
                "No findings in {files} file{}.\n",
                if files == 1 { "" } else { "s" }
            ));
        } else {
            let fixable = r
                .findings
                .iter()
                .filter(|f| f.fix.as_ref().is_some_and(|x| x.safe))
                .count();
            out.push_str(&format!(
                "Found {n} finding{} ({} error{}, {} warning{}, {} note{}) in {files} file{} scanned.\n",
                if n == 1 { "" } else { "s" },
                r.count(Severity::Error),
                if r.count(Severity::Error) == 1 { "" } else { "s" },
                r.count(Severity::Warning),
                if r.count(Severity::Warning) == 1 { "" } else { "s" },
                r.count(Severity::Note),
                if r.count(Severity::Note) == 1 { "" } else { "s" },
                if files == 1 { "" } else { "s" },
            ));
            if fixable > 0 {
                out.push_str(&format!("{fixable} fixable with `oidc-lint --fix`.\n"));
            }
        }
    }
    out
}

/// Tool errors (files that could not be analysed), for stderr.
pub fn render_errors(r: &Report) -> String {
    let mut out = String::new();
    for e in &r.scan.errors {
        if e.line > 0 {
            out.push_str(&format!(
                "error: {}:{}:{}: {}\n",
                e.path, e.line, e.column, e.message
            ));
        } else {
            out.push_str(&format!("error: {}: {}\n", e.path, e.message));
        }
    }
    out
}

/// Findings silenced by suppressions (`--show-suppressed`), one line each, after the report.
pub fn render_suppressed(scan: &Scan, suppressed: &[Suppressed]) -> String {
    let mut out = String::new();
    for s in suppressed {
        let f = &s.finding;
        let src = scan.file(f.file);
        let p = src.pos(f.span.start);
        let by = match s.origin {
            crate::suppress::Origin::InSource => "in source".to_string(),
            crate::suppress::Origin::Config(line) => format!("by configuration line {line}"),
        };
        out.push_str(&format!(
            "suppressed ({by}): {}:{}:{}: {}[{}]: {}",
            src.rel,
            p.line,
            p.column,
            f.severity.as_str(),
            f.rule,
            f.message
        ));
        if !s.reason.is_empty() {
            out.push_str(&format!(" (reason: {})", s.reason));
        }
        out.push('\n');
    }
    out
}
