//! Reporters: they see only the findings, errors and the source files they point into.

pub mod github;
pub mod human;
pub mod json;
pub mod rule_props;
pub mod sarif;

use crate::diag::Finding;
use crate::model::Scan;

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
