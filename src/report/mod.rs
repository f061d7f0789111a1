//! Reporters: they see only the findings, errors and the source files they point into.

pub mod github;
pub mod human;
pub mod json;
pub mod rule_props;
pub mod sanitize;
pub mod sarif;

use crate::diag::Finding;
use crate::scan::Scan;

/// Everything a reporter needs.
pub struct Report<'a> {
    pub scan: &'a Scan,
    /// Sorted by path, line, column, rule.
    pub findings: &'a [Finding],
}

impl Report<'_> {
    pub fn count(&self, sev: crate::diag::Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == sev).count()
    }
}

/// Sort findings the way every output shows them: path, line, column, rule, then message.
pub fn sort_findings(scan: &Scan, findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        let fa = scan.file(a.file);
        let fb = scan.file(b.file);
        (
            fa.rel.as_str(),
            a.span.start,
            a.rule,
            a.span.end,
            &a.message,
        )
            .cmp(&(
                fb.rel.as_str(),
                b.span.start,
                b.rule,
                b.span.end,
                &b.message,
            ))
    });
}
