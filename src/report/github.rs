//! `--format github`: GitHub Actions workflow commands (`::error file=…::message`), one per
//! finding, escaped exactly as `@actions/core` does (`toCommandValue` / `escapeData` /
//! `escapeProperty`). Repository text is first [`sanitize::inline`]d: no control or format
//! character reaches the job log or the annotation, and neither can a `##[` (a legacy runner
//! command, matched anywhere in a line). The command line itself cannot be broken out of: `%`,
//! CR and LF are escaped in the data and `:` and `,` too in property values, so the first `::`
//! after the properties is ours.

use super::Report;
use super::sanitize;
use crate::diag::{Finding, Severity};

/// Escape a command's data (the message).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a command property value (file, title).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    }
}

fn annotation(r: &Report, f: &Finding) -> String {
    let src = r.scan.file(f.file);
    let a = src.pos(f.span.start);
    let b = src.pos(f.span.end.max(f.span.start));
    let mut msg = sanitize::inline(&f.message).into_owned();
    if !f.help.is_empty() {
        msg.push_str("\n\nhelp: ");
        msg.push_str(&sanitize::inline(&f.help));
    }
    format!(
        "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
        command(f.severity),
        escape_property(&sanitize::inline(&r.scan.repo_path(&src.rel))),
        a.line,
        a.column,
        b.line,
        b.column,
        escape_property(&format!("oidc-lint {}", f.rule)),
        escape_data(&msg)
    )
}

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    for f in r.findings {
        out.push_str(&annotation(r, f));
    }
    for e in &r.scan.errors {
        let loc = if e.line > 0 {
            format!(",line={},col={}", e.line, e.column)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "::error file={}{loc},title={}::{}\n",
            escape_property(&sanitize::inline(&r.scan.repo_path(&e.path))),
            escape_property("oidc-lint: cannot analyse file"),
            escape_data(&sanitize::inline(&e.message))
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_actions_toolkit() {
        assert_eq!(escape_data("a%b\r\nc:d,e"), "a%25b%0D%0Ac:d,e");
        assert_eq!(escape_property("a%b\r\nc:d,e"), "a%25b%0D%0Ac%3Ad%2Ce");
        // `%` first, so escapes are not double-escaped or mistaken for input.
        assert_eq!(escape_data("%0A"), "%250A");
    }
}
