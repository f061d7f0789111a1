//! `--format json`: the stable, versioned machine output documented in the README. Values are
//! exact (tools match on them); control, format and separator characters and the `#` of `##[`
//! are written as JSON `\u` escapes, so printing the document is safe too.

use super::Report;
use serde_json::{Value, json};

pub fn render(r: &Report) -> String {
    render_with_suppressed(r, &[])
}

/// The JSON output; with `--show-suppressed`, a `suppressed` list (same shape as `findings`
/// plus `suppressed_by` and `reason`) follows `findings`.
pub fn render_with_suppressed(r: &Report, suppressed: &[crate::suppress::Suppressed]) -> String {
    render_with(r, suppressed, None)
}

/// The JSON output; with `--statistics`, a `statistics` list (one object per rule with
/// findings: `rule`, `count`, `severity`, `fixable`, `unsafe_fixable`, `summary`, most frequent
/// first) follows `summary`.
pub fn render_with(
    r: &Report,
    suppressed: &[crate::suppress::Suppressed],
    statistics: Option<&[super::Statistic]>,
) -> String {
    let scan = r.scan;
    let finding = |f: &crate::diag::Finding| {
        let src = scan.file(f.file);
        let s = src.pos(f.span.start);
        let e = src.pos(f.span.end);
        let fix = match &f.fix {
            None => Value::Null,
            Some(fix) => json!({
                "description": fix.description,
                "edits": fix.edits.iter().map(|ed| {
                    let esrc = scan.file(ed.file);
                    let a = esrc.pos(ed.span.start);
                    let b = esrc.pos(ed.span.end);
                    json!({
                        "path": scan.repo_path(&esrc.rel),
                        "start_line": a.line, "start_column": a.column,
                        "end_line": b.line, "end_column": b.column,
                        "replacement": ed.replacement,
                    })
                }).collect::<Vec<_>>(),
            }),
        };
        json!({
            "rule": f.rule,
            "severity": f.severity.as_str(),
            "message": f.message,
            "path": scan.repo_path(&src.rel),
            "line": s.line,
            "column": s.column,
            "end_line": e.line,
            "end_column": e.column,
            "help": f.help,
            "fix": fix,
        })
    };
    let findings: Vec<Value> = r.findings.iter().map(finding).collect();
    let errors: Vec<Value> = scan
        .errors
        .iter()
        .map(|e| json!({"path": scan.repo_path(&e.path), "line": e.line, "column": e.column, "message": e.message}))
        .collect();
    let mut doc = json!({
        "version": 1,
        "tool": {"name": "oidc-lint", "version": env!("CARGO_PKG_VERSION")},
        "findings": findings,
        "errors": errors,
        "summary": {
            "files_scanned": scan.files_scanned(),
            "findings": r.findings.len(),
            "errors": scan.errors.len(),
            "skipped": {
                "ignored": scan.skipped.ignored,
                "excluded": scan.skipped.excluded,
            },
        }
    });
    if !suppressed.is_empty()
        && let Some(obj) = doc.as_object_mut()
    {
        let list: Vec<Value> = suppressed
            .iter()
            .map(|s| {
                let mut v = finding(&s.finding);
                v["suppressed_by"] = json!(match s.origin {
                    crate::suppress::Origin::InSource => "source".to_string(),
                    crate::suppress::Origin::Config(line) => format!("config:{line}"),
                });
                v["reason"] = json!(s.reason);
                v
            })
            .collect();
        obj.insert("suppressed".into(), Value::Array(list));
    }
    if let Some(stats) = statistics
        && let Some(obj) = doc.as_object_mut()
    {
        obj.insert("statistics".into(), json!(stats));
    }
    // Exact values; characters unsafe on a terminal are written as `\u` escapes.
    let mut s = super::sanitize::to_json_pretty(&doc);
    s.push('\n');
    s
}
