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

/// When to colour human output (`--color`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// `always`/`never` as said; `auto`: no colour when `NO_COLOR` is set, colour when
    /// `FORCE_COLOR` or `CLICOLOR_FORCE` is (and not `0`), else colour on a terminal.
    pub fn wanted(self) -> bool {
        let set = |v: &str| std::env::var_os(v).is_some_and(|v| !v.is_empty() && v != "0");
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto if set("NO_COLOR") => false,
            ColorChoice::Auto if set("FORCE_COLOR") || set("CLICOLOR_FORCE") => true,
            ColorChoice::Auto => std::io::IsTerminal::is_terminal(&std::io::stdout()),
        }
    }
}

/// A rule's severity as the configuration sets it, if it does.
pub type SeverityFor<'a> = &'a dyn Fn(&str) -> Option<crate::diag::Severity>;

/// What a reporter may show besides the findings and errors.
#[derive(Default)]
pub struct RenderOptions<'a> {
    /// ANSI colours (human output only).
    pub color: bool,
    /// Findings only, no summary (human output only).
    pub quiet: bool,
    /// Findings silenced by suppressions, listed when non-empty (`--show-suppressed`).
    pub suppressed: &'a [Suppressed],
    /// Every rule the run could report (SARIF describes them all; human output links the page
    /// of each finding's rule).
    pub rules: &'a [&'static RuleMeta],
    /// The configuration's severity of a rule, when it changes it (SARIF rule descriptors).
    pub severity_for: Option<SeverityFor<'a>>,
    /// `--statistics`: counts per rule instead of the findings (human), or a `statistics` list
    /// besides them (JSON).
    pub statistics: bool,
}

/// One line of `--statistics`: how many findings a rule has.
#[derive(Debug, PartialEq, serde::Serialize)]
pub struct Statistic {
    pub rule: &'static str,
    pub count: usize,
    /// The highest severity among them.
    pub severity: crate::diag::Severity,
    /// How many carry a safe fix (`--fix` applies them) and an unsafe one (`--unsafe-fixes`).
    pub fixable: usize,
    pub unsafe_fixable: usize,
    pub summary: &'static str,
}

/// Counts per rule of `findings`, most frequent first (then by rule id).
pub fn statistics(findings: &[Finding], rules: &[&'static RuleMeta]) -> Vec<Statistic> {
    let mut by_rule: std::collections::BTreeMap<&'static str, Statistic> = Default::default();
    for f in findings {
        let s = by_rule.entry(f.rule).or_insert_with(|| Statistic {
            rule: f.rule,
            count: 0,
            severity: f.severity,
            fixable: 0,
            unsafe_fixable: 0,
            summary: rules
                .iter()
                .find(|m| m.id == f.rule)
                .map_or("", |m| m.summary),
        });
        s.count += 1;
        s.severity = s.severity.max(f.severity);
        match &f.fix {
            Some(x) if x.safe => s.fixable += 1,
            Some(_) => s.unsafe_fixable += 1,
            None => {}
        }
    }
    let mut v: Vec<Statistic> = by_rule.into_values().collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.rule.cmp(b.rule)));
    v
}

/// Render `report` in `format`: the one entry point for every output format.
pub fn render(format: Format, report: &Report, opts: &RenderOptions) -> String {
    match format {
        Format::Human => {
            let mut s = human::render_with(report, opts);
            s.push_str(&human::render_suppressed(report.scan, opts.suppressed));
            s
        }
        Format::Json => json::render_with(
            report,
            opts.suppressed,
            opts.statistics
                .then(|| statistics(report.findings, opts.rules))
                .as_deref(),
        ),
        Format::Sarif => sarif::render(
            report,
            opts.rules,
            opts.suppressed,
            opts.severity_for.unwrap_or(&|_| None),
        ),
        Format::Github => github::render(report),
    }
}
