//! oidc-lint: static analysis of GitHub Actions → AWS OIDC setups.
//!
//! Pipeline: `source` (discovery, spanned parsing) → `model` (normalized documents) →
//! `rules` (see only the model) → `report` (see only findings).

pub mod analysis;
pub mod audit;
pub mod baseline;
pub mod cli;
pub mod config;
pub mod custom;
pub mod diag;
pub mod fix;
#[doc(hidden)]
pub mod floor;
pub mod frontend;
pub mod model;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod suppress;

use diag::Finding;
use rayon::prelude::*;
use scan::Scan;

/// Rule selection.
#[derive(Default, Clone)]
pub struct Selection {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

impl Selection {
    pub fn enabled(&self, id: &str) -> bool {
        (self.select.is_empty() || self.select.iter().any(|s| s == id))
            && !self.ignore.iter().any(|s| s == id)
    }
}

/// Run every selected rule over a scan; findings come back sorted.
pub fn check(scan: &Scan, sel: &Selection) -> Vec<Finding> {
    let rules: Vec<_> = rules::registry()
        .into_iter()
        .filter(|r| sel.enabled(r.meta().id))
        .collect();
    let cx = rules::Ctx::new(scan);
    // The shared cross-file views first, side by side: a rule waiting on a view another
    // thread is still computing would leave its core idle. They must all be ready before the
    // rules run: `judged` works in parallel, and a worker waiting inside it could pick up a
    // rule that asks for `judged` again (a re-entrant initialisation, a deadlock).
    rayon::join(
        || {
            cx.judged();
        },
        || {
            cx.github_roles();
            cx.providers();
        },
    );
    let mut findings: Vec<Finding> = rules
        .par_iter()
        .with_max_len(1)
        .flat_map_iter(|r| {
            let mut out = Vec::new();
            r.check(&cx, &mut out);
            out
        })
        .collect();
    report::sort_findings(scan, &mut findings);
    findings.dedup();
    findings
}
