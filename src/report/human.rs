//! Human output: cargo-style snippets through annotate-snippets, fixes shown as diffs.

use super::Report;
use super::sanitize;
use crate::diag::{Finding, Severity};
use crate::source::SourceFile;
use annotate_snippets::{AnnotationKind, Group, Level, Patch, Renderer, Snippet};

/// A line longer than this many bytes is shown in pieces: [`CONTEXT`] bytes around each
/// annotated point, [`CUT`] in place of the rest. So a 10 MB one-line policy prints a few hundred
/// bytes per finding, not the line.
const LONG_LINE: usize = 240;
const CONTEXT: usize = 60;
/// Stands for the cut-out part of a long line (what annotate-snippets shows for its own cuts).
const CUT: &str = "...";
/// Messages, labels and help longer than this many characters end in `…` (custom rules can put
/// any value of the scanned repository into a message).
const MAX_TEXT: usize = 1000;
/// Findings shown per file; the rest are counted in one line (JSON and SARIF list them all).
pub const MAX_PER_FILE: usize = 50;

/// What a snippet shows of a file: whole lines around some byte ranges, long lines cut down to
/// the parts near the ranges ([`CUT`] for the rest), then sanitised. Offsets into the file map
/// to offsets in `text`.
struct Window {
    text: String,
    line: usize,
    /// Kept pieces of the file: (file start, file end, start in the text before sanitising).
    segs: Vec<(usize, usize, usize)>,
    map: sanitize::OffsetMap,
}

impl Window {
    /// Offset in `text` of a file offset.
    fn at(&self, o: usize) -> usize {
        self.map.map(pre_offset(&self.segs, o)).min(self.text.len())
    }

    fn clip(&self, r: std::ops::Range<usize>) -> std::ops::Range<usize> {
        let s = self.at(r.start);
        s..self.at(r.end).max(s)
    }
}

/// Offset in the text before sanitising of a file offset (a cut-out offset maps to the cut).
fn pre_offset(segs: &[(usize, usize, usize)], o: usize) -> usize {
    let i = segs.partition_point(|s| s.0 <= o);
    match i.checked_sub(1).map(|i| segs[i]) {
        None => 0,
        Some((a, b, n)) => n + o.min(b) - a,
    }
}

fn floor_boundary(t: &str, mut i: usize) -> usize {
    while !t.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(t: &str, mut i: usize) -> usize {
    while !t.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// The window for `ranges` of `src`; with `redact`, the text is masked around that range.
fn lone_cr_as_lf(text: &str) -> std::borrow::Cow<'_, str> {
    let b = text.as_bytes();
    if !b
        .iter()
        .enumerate()
        .any(|(i, &c)| c == b'\r' && b.get(i + 1) != Some(&b'\n'))
    {
        return std::borrow::Cow::Borrowed(text);
    }
    let out: Vec<u8> = b
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if c == b'\r' && b.get(i + 1) != Some(&b'\n') {
                b'\n'
            } else {
                c
            }
        })
        .collect();
    std::borrow::Cow::Owned(String::from_utf8(out).expect("ASCII for ASCII"))
}

fn window(
    src: &SourceFile,
    ranges: &[std::ops::Range<usize>],
    redact: Option<std::ops::Range<usize>>,
) -> Window {
    let t = src.text.as_str();
    let start = ranges
        .iter()
        .map(|r| r.start)
        .min()
        .unwrap_or(0)
        .min(t.len());
    let end = ranges
        .iter()
        .map(|r| r.end)
        .max()
        .unwrap_or(0)
        .clamp(start, t.len());
    let sline = src.pos(start as u32).line;
    let eline = src.pos(end as u32).line;
    let points: Vec<usize> = ranges.iter().flat_map(|r| [r.start, r.end]).collect();
    // Kept intervals of the file, in order.
    let mut keep: Vec<std::ops::Range<usize>> = Vec::new();
    for line in sline..=eline {
        let lr = src.line_range(line);
        let term_end = if line < eline {
            src.line_range(line + 1).start
        } else {
            lr.end
        };
        if lr.len() <= LONG_LINE {
            keep.push(lr.start..term_end);
            continue;
        }
        let mut iv: Vec<std::ops::Range<usize>> = points
            .iter()
            .filter(|&&p| lr.start <= p && p <= lr.end)
            .map(|&p| p.saturating_sub(CONTEXT).max(lr.start)..(p + CONTEXT).min(lr.end))
            .collect();
        if iv.is_empty() {
            iv.push(lr.start..lr.start + CONTEXT);
        }
        iv.sort_by_key(|r| r.start);
        for r in iv {
            let r = floor_boundary(t, r.start)..ceil_boundary(t, r.end);
            match keep.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => keep.push(r),
            }
        }
        keep.push(lr.end..term_end);
    }
    let line_start = src.line_range(sline).start;
    let mut pre = String::new();
    let mut segs = Vec::with_capacity(keep.len());
    let mut pos = line_start;
    for r in keep {
        if r.start > pos {
            pre.push_str(CUT);
        }
        if r.start < r.end {
            segs.push((r.start, r.end, pre.len()));
            pre.push_str(&t[r.start..r.end]);
        }
        pos = pos.max(r.end);
    }
    if pos < src.line_range(eline).end {
        pre.push_str(CUT);
    }
    if let Some(r) = redact {
        pre = mask(&pre, pre_offset(&segs, r.start)..pre_offset(&segs, r.end));
    }
    // A lone `\r` (a classic Mac OS line end) is shown as `\n`: same bytes, same offsets, and
    // the renderer's line numbers agree with the other formats'.
    let pre = lone_cr_as_lf(&pre).into_owned();
    let (text, map) = sanitize::block_mapped(&pre);
    Window {
        text: text.into_owned(),
        line: sline as usize,
        segs,
        map,
    }
}

fn level(s: Severity) -> Level<'static> {
    match s {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Note => Level::NOTE,
    }
}

/// Repository text for one line of the report: sanitised and bounded.
fn text(s: &str) -> String {
    sanitize::inline(&sanitize::truncate(s, MAX_TEXT)).into_owned()
}

/// Mask a credential in the shown text: the primary span but its first and last four
/// characters, and every run of 40 or more base64 characters (a secret access key's shape).
fn mask(text: &str, primary: std::ops::Range<usize>) -> String {
    let mut out: Vec<u8> = text.as_bytes().to_vec();
    let (s, e) = (primary.start.min(out.len()), primary.end.min(out.len()));
    if e > s + 8 {
        // Whole characters only, so the text stays UTF-8 and keeps its length.
        let (lo, hi) = (ceil_boundary(text, s + 4), floor_boundary(text, e - 4));
        for b in out.get_mut(lo..hi).unwrap_or_default() {
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

fn render_one(r: &Report, f: &Finding, renderer: &Renderer, link: Option<&str>) -> String {
    let scan = r.scan;
    let src = scan.file(f.file);
    let mut same_file: Vec<std::ops::Range<usize>> = vec![f.span.range()];
    same_file.extend(
        f.related
            .iter()
            .filter(|l| l.file == f.file)
            .map(|l| l.span.range()),
    );
    let w = window(src, &same_file, f.redact.then(|| f.span.range()));
    let path = text(&scan.here_path(&src.rel));
    let message = text(&f.message);
    let label = text(&f.label);
    let help = text(&f.help);
    let related: Vec<String> = f.related.iter().map(|l| text(&l.message)).collect();
    // annotate-snippets counts the column of its location line in the text it is given, which
    // may be cut or hold escapes: the true column replaces it after rendering.
    let mut headers = vec![header(&w, src, f.span.start as usize)];
    let mut snippet = Snippet::source(w.text.as_str())
        .path(path.as_str())
        .line_start(w.line)
        .annotation(
            AnnotationKind::Primary
                .span(w.clip(f.span.range()))
                .label(label.as_str()),
        );
    for (l, m) in f.related.iter().zip(&related) {
        if l.file == f.file {
            snippet = snippet.annotation(
                AnnotationKind::Context
                    .span(w.clip(l.span.range()))
                    .label(m.as_str()),
            );
        }
    }
    let mut group = level(f.severity)
        .primary_title(message.as_str())
        .id(f.rule)
        .element(snippet);
    // Related locations in other files get their own snippet.
    let others: Vec<(Window, &crate::diag::Label, &String, String)> = f
        .related
        .iter()
        .zip(&related)
        .filter(|(l, _)| l.file != f.file)
        .map(|(l, m)| {
            let s = scan.file(l.file);
            (
                window(s, &[l.span.range()], None),
                l,
                m,
                text(&scan.here_path(&s.rel)),
            )
        })
        .collect();
    for (ow, l, m, p) in &others {
        headers.push(header(ow, scan.file(l.file), l.span.start as usize));
        group = group.element(
            Snippet::source(ow.text.as_str())
                .path(p.as_str())
                .line_start(ow.line)
                .annotation(
                    AnnotationKind::Context
                        .span(ow.clip(l.span.range()))
                        .label(m.as_str()),
                ),
        );
    }
    if !f.help.is_empty() {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    let more_info = link.map(|u| format!("for further information visit {u}"));
    if let Some(m) = &more_info {
        group = group.element(Level::HELP.message(m.as_str()));
    }
    let mut groups: Vec<Group> = vec![group];
    type FixWindow<'a> = (Window, String, Vec<(&'a crate::diag::Edit, String)>);
    let fix_windows: Vec<FixWindow>;
    if let Some(fix) = &f.fix {
        let mut files: Vec<usize> = fix.edits.iter().map(|e| e.file).collect();
        files.dedup();
        fix_windows = files
            .into_iter()
            .map(|fid| {
                let s = scan.file(fid);
                let edits: Vec<(&crate::diag::Edit, String)> = fix
                    .edits
                    .iter()
                    .filter(|e| e.file == fid)
                    .map(|e| {
                        let shown = sanitize::truncate(&e.replacement, MAX_TEXT);
                        (e, sanitize::block(&shown).into_owned())
                    })
                    .collect();
                let ranges: Vec<_> = edits.iter().map(|e| e.0.span.range()).collect();
                (
                    window(s, &ranges, None),
                    text(&scan.here_path(&s.rel)),
                    edits,
                )
            })
            .collect();
        let title = if fix.safe {
            format!("fix: {}", text(&fix.description))
        } else {
            format!(
                "fix (unsafe, applied with --unsafe-fixes): {}",
                text(&fix.description)
            )
        };
        let mut g = Group::with_title(Level::HELP.secondary_title(title));
        for (fw, p, edits) in &fix_windows {
            let mut sn = Snippet::source(fw.text.as_str())
                .path(p.as_str())
                .line_start(fw.line);
            for (e, rep) in edits {
                sn = sn.patch(Patch::new(fw.clip(e.span.range()), rep.as_str()));
            }
            g = g.element(sn);
        }
        groups.push(g);
    }
    fix_headers(&renderer.render(&groups).to_string(), &headers)
}

/// (line, column annotate-snippets prints, true column) of a snippet's location line.
fn header(w: &Window, src: &SourceFile, start: usize) -> (u32, usize, u32) {
    let d = w.at(start);
    let ls = w.text[..d].rfind('\n').map_or(0, |i| i + 1);
    let p = src.pos(start as u32);
    (p.line, w.text[ls..d].chars().count() + 1, p.column)
}

/// Location lines (` --> path:L:C`, and ` ::: path:L:C` for another file) with their true
/// columns, and `:::` shown as `-->`: no line of ours may start with `::` (a GitHub Actions
/// workflow command's prefix).
fn fix_headers(out: &str, headers: &[(u32, usize, u32)]) -> String {
    let mut next = headers.iter();
    let mut res = String::with_capacity(out.len());
    for line in out.split_inclusive('\n') {
        let ws = line.len() - line.trim_start_matches(' ').len();
        let mut rest = &line[ws..];
        let mut sgr = 0;
        while rest[sgr..].starts_with("\x1b[") {
            match rest[sgr..].find('m') {
                Some(e) => sgr += e + 1,
                None => break,
            }
        }
        let marker = &rest[sgr..];
        if !(marker.starts_with("--> ") || marker.starts_with("::: ")) {
            res.push_str(line);
            continue;
        }
        res.push_str(&line[..ws]);
        res.push_str(&rest[..sgr]);
        res.push_str("--> ");
        rest = &marker[4..];
        match next.next() {
            Some(&(l, shown, col)) if shown != col as usize => {
                let from = format!(":{l}:{shown}");
                match rest.rfind(&from) {
                    Some(i) => {
                        res.push_str(&rest[..i]);
                        res.push_str(&format!(":{l}:{col}"));
                        res.push_str(&rest[i + from.len()..]);
                    }
                    None => res.push_str(rest),
                }
            }
            _ => res.push_str(rest),
        }
    }
    res
}

pub fn render(r: &Report, color: bool, quiet: bool) -> String {
    render_with(
        r,
        &super::RenderOptions {
            color,
            quiet,
            ..Default::default()
        },
    )
}

/// `--statistics`: one line per rule with findings, most frequent first: count, rule id,
/// severity, `[*]` when `--fix` fixes some of them, summary.
fn statistics_table(r: &Report, rules: &[&'static crate::rules::RuleMeta]) -> String {
    let stats = super::statistics(r.findings, rules);
    let wn = stats
        .iter()
        .map(|s| s.count.to_string().len())
        .max()
        .unwrap_or(1);
    let wid = stats.iter().map(|s| s.rule.len()).max().unwrap_or(0);
    let mut out = String::new();
    for s in &stats {
        out.push_str(&format!(
            "{:>wn$}  {:<wid$}  {:<7}  {:<4}{}\n",
            s.count,
            text(s.rule),
            s.severity.as_str(),
            if s.fixable > 0 { "[*]" } else { "" },
            text(s.summary)
        ));
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// The human report: each finding with its snippet, fix and (for a built-in rule) the link to
/// its page, or with `--statistics` the counts per rule; then the summary unless `quiet`.
pub fn render_with(r: &Report, opts: &super::RenderOptions) -> String {
    let out = if opts.statistics {
        statistics_table(r, opts.rules)
    } else {
        findings(r, opts)
    };
    let mut out = match sanitize::guard_lines(&out) {
        std::borrow::Cow::Borrowed(_) => out,
        std::borrow::Cow::Owned(o) => o,
    };
    if !opts.quiet {
        out.push_str(&summary(r));
    }
    out
}

/// Every finding (at most [`MAX_PER_FILE`] per file), each followed by a blank line.
fn findings(r: &Report, opts: &super::RenderOptions) -> String {
    let links: std::collections::HashMap<&str, String> = opts
        .rules
        .iter()
        .filter_map(|m| Some((m.id, crate::rules::doc_url(m)?)))
        .collect();
    let renderer = if opts.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    // Each finding renders on its own (in parallel: snippets are the costliest part of a
    // report with many findings), then they are joined in report order. At most
    // MAX_PER_FILE findings of a file are shown; findings are sorted by path, so a file's
    // findings are consecutive.
    use rayon::prelude::*;
    let mut shown: Vec<&Finding> = Vec::with_capacity(r.findings.len().min(4096));
    // (index in `shown` after which the line goes, how many more, file)
    let mut more: Vec<(usize, usize, crate::source::FileId)> = Vec::new();
    for group in r.findings.chunk_by(|a, b| a.file == b.file) {
        shown.extend(group.iter().take(MAX_PER_FILE));
        if group.len() > MAX_PER_FILE {
            more.push((shown.len(), group.len() - MAX_PER_FILE, group[0].file));
        }
    }
    let rendered: Vec<String> = shown
        .par_iter()
        .map(|f| render_one(r, f, &renderer, links.get(f.rule).map(String::as_str)))
        .collect();
    let mut out = String::with_capacity(rendered.iter().map(|s| s.len() + 2).sum::<usize>() + 128);
    let mut more = more.into_iter().peekable();
    for (i, one) in rendered.iter().enumerate() {
        out.push_str(one);
        out.push_str("\n\n");
        if let Some((_, n, file)) = more.next_if(|m| m.0 == i + 1) {
            out.push_str(&more_line(n, &r.scan.here_path(&r.scan.file(file).rel)));
        }
    }
    out
}

/// The lines after the findings: counts, fixes available, files that failed or were skipped.
fn summary(r: &Report) -> String {
    let mut out = String::new();
    {
        let n = r.findings.len();
        let files = r.scan.files_scanned();
        let failed = r.scan.files_failed();
        if n == 0 && files == 0 && failed == 0 {
            out.push_str(
                "No input files found: nothing scanned is a GitHub workflow or action, an IAM \
                 policy, Terraform, a Terraform plan or a CloudFormation template.\n",
            );
        } else if n == 0 {
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
            let hidden = r
                .findings
                .iter()
                .filter(|f| f.fix.as_ref().is_some_and(|x| !x.safe))
                .count();
            if hidden > 0 {
                out.push_str(&format!(
                    "{hidden} {}fixable with `oidc-lint --fix --unsafe-fixes` (unsafe: review \
                     the changes first with `--diff --unsafe-fixes`).\n",
                    if fixable > 0 { "more " } else { "" }
                ));
            }
        }
        if failed > 0 {
            out.push_str(&format!(
                "{failed} file{} could not be analysed (see the errors).\n",
                if failed == 1 { "" } else { "s" }
            ));
        }
        let sk = r.scan.skipped;
        let mut parts = Vec::new();
        if sk.ignored > 0 {
            parts.push(format!(
                "{} path{} matched by ignore rules (--no-ignore scans them)",
                sk.ignored,
                if sk.ignored == 1 { "" } else { "s" }
            ));
        }
        if sk.excluded > 0 {
            parts.push(format!(
                "{} file{} excluded by the configuration",
                sk.excluded,
                if sk.excluded == 1 { "" } else { "s" }
            ));
        }
        if !parts.is_empty() {
            out.push_str(&format!("Skipped: {}.\n", parts.join("; ")));
        }
    }
    out
}

/// The line that stands for the findings of a file beyond [`MAX_PER_FILE`].
fn more_line(n: usize, rel: &str) -> String {
    format!(
        "… and {n} more finding{} in {} (--format json or sarif lists all)\n\n",
        if n == 1 { "" } else { "s" },
        text(rel)
    )
}

/// `--show-suppressed` in human output: one line per suppressed finding, at most
/// [`MAX_PER_FILE`] per file.
pub fn render_suppressed(
    scan: &crate::scan::Scan,
    suppressed: &[crate::suppress::Suppressed],
) -> String {
    let mut out = String::new();
    for group in suppressed.chunk_by(|a, b| a.finding.file == b.finding.file) {
        for s in group.iter().take(MAX_PER_FILE) {
            let f = &s.finding;
            let src = scan.file(f.file);
            let p = src.pos(f.span.start);
            let by = match s.origin {
                crate::suppress::Origin::InSource => "in source".to_string(),
                crate::suppress::Origin::Config(line) => format!("by configuration line {line}"),
            };
            out.push_str(&format!(
                "suppressed ({by}): {}:{}:{}: {}[{}]: {}",
                text(&scan.here_path(&src.rel)),
                p.line,
                p.column,
                f.severity.as_str(),
                f.rule,
                text(&f.message)
            ));
            if !s.reason.is_empty() {
                out.push_str(&format!(" (reason: {})", text(&s.reason)));
            }
            out.push('\n');
        }
        if group.len() > MAX_PER_FILE {
            let n = group.len() - MAX_PER_FILE;
            out.push_str(&format!(
                "… and {n} more suppressed in {}\n",
                text(&scan.here_path(&scan.file(group[0].finding.file).rel))
            ));
        }
    }
    sanitize::guard_lines(&out).into_owned()
}

/// `--diff`: the fixes as a unified diff, paths and text sanitised (empty: nothing to fix).
pub fn diff(d: &crate::engine::Diff) -> String {
    // relative to the repository root, as `git apply` reads a patch
    let patch = d.patch(|rel| sanitize::inline(&d.before.scan.repo_path(rel)).into_owned());
    sanitize::block(&patch).into_owned()
}

/// The scan's warnings and the check's notes (an analysis that hit its work cap), for stderr.
pub fn warnings(scan: &crate::model::Scan, notes: &[String]) -> String {
    let mut out = String::new();
    for w in &scan.warnings {
        out.push_str(&format!("warning: {}\n", sanitize::inline(w)));
    }
    for note in notes {
        out.push_str(&format!("{}\n", sanitize::inline(note)));
    }
    out
}

/// `--write-baseline`: `Wrote N findings to FILE.`, then the scan's input errors.
pub fn baseline_written(n: usize, path: &std::path::Path, scan: &crate::model::Scan) -> String {
    format!(
        "Wrote {n} finding{} to {}.\n{}",
        if n == 1 { "" } else { "s" },
        sanitize::inline(&path.display().to_string()),
        scan_errors(scan)
    )
}

/// The input errors of a scan, as [`render_errors`] prints them.
pub fn scan_errors(scan: &crate::model::Scan) -> String {
    render_errors(&Report {
        scan,
        findings: &[],
    })
}

/// What `--fix` (`verb` "Fixed") or `--diff` ("Would fix") tells on stderr: files not written,
/// with `warn_unconverged` fixes still applicable after the last pass, and
/// `Fixed 2 findings in 1 file.` when fixes were applied.
pub fn fix_notes(verb: &str, rep: &crate::fix::FixReport, warn_unconverged: bool) -> String {
    let mut out = String::new();
    for e in &rep.errors {
        out.push_str(&format!("error: {}\n", sanitize::inline(e)));
    }
    if warn_unconverged && !rep.converged {
        out.push_str(&format!(
            "warning: fixes still applicable after {} passes; run --fix again\n",
            crate::fix::MAX_PASSES
        ));
    }
    if rep.applied > 0 {
        let (n, files) = (rep.applied, rep.files.len());
        let s = |n: usize| if n == 1 { "" } else { "s" };
        out.push_str(&format!(
            "{verb} {n} finding{} in {files} file{}.\n",
            s(n),
            s(files)
        ));
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
                text(&r.scan.here_path(&e.path)),
                e.line,
                e.column,
                text(&e.message)
            ));
        } else {
            out.push_str(&format!(
                "error: {}: {}\n",
                text(&r.scan.here_path(&e.path)),
                text(&e.message)
            ));
        }
    }
    sanitize::guard_lines(&out).into_owned()
}
