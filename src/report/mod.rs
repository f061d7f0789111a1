//! Reporters: they see only the findings, errors and the source files they point into.

pub mod github;
pub mod human;
pub mod json;
pub mod rule_props;
pub use crate::source::sanitize;
pub mod sarif;

use crate::diag::Finding;
use crate::model::Scan;
use crate::rules::RuleMeta;
use crate::suppress::Suppressed;

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

/// The output formats (`--format`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Human,
    Json,
    Sarif,
    Github,
}

/// What a reporter may show besides the findings and errors.
#[derive(Default)]
pub struct RenderOptions<'a> {
    /// ANSI colours (human output only).
    pub color: bool,
    /// Findings only, no summary (human output only).
    pub quiet: bool,
    /// Findings silenced by suppressions, listed when non-empty (`--show-suppressed`).
    pub suppressed: &'a [Suppressed],
    /// Every rule the run could report (SARIF describes them all).
    pub rules: &'a [&'static RuleMeta],
}

/// Render `report` in `format`: the one entry point for every output format.
pub fn render(format: Format, report: &Report, opts: &RenderOptions) -> String {
    match format {
        Format::Human => {
            let mut s = human::render(report, opts.color, opts.quiet);
            s.push_str(&human::render_suppressed(report.scan, opts.suppressed));
            s
        }
        Format::Json => json::render_with_suppressed(report, opts.suppressed),
        Format::Sarif => sarif::render(report, opts.rules, opts.suppressed),
        Format::Github => github::render(report),
    }
}
