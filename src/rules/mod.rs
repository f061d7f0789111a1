//! The rule registry. Each rule lives in its own file and sees only the model (`Scan`).

pub mod github;

mod hardcoded_aws_key;
mod iac_access_key;
mod role_audience_mismatch;
mod role_trust_admits_untrusted_events;
mod role_trust_rejects_job;
mod role_trust_wider_than_use;
mod trust_missing_aud;
mod trust_missing_sub;
mod trust_sub_any_repo;
mod trust_sub_org_wide;
mod workflow_long_lived_keys;
mod workflow_missing_id_token;

use crate::diag::{Finding, Severity};
use crate::scan::Scan;

/// Static description of a rule.
pub struct RuleMeta {
    pub id: &'static str,
    pub severity: Severity,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// Input kinds the rule looks at.
    pub applies_to: &'static [&'static str],
    /// Whether the rule can offer an automatic fix.
    pub fixable: bool,
    /// `rules/<id>.md`, embedded.
    pub doc: &'static str,
}

pub trait Rule: Send + Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, scan: &Scan, out: &mut Vec<Finding>);
}

/// Every built-in rule, in id order.
pub fn registry() -> Vec<&'static dyn Rule> {
    let mut rules: Vec<&'static dyn Rule> = vec![
        &hardcoded_aws_key::RULE,
        &iac_access_key::RULE,
        &role_audience_mismatch::RULE,
        &role_trust_admits_untrusted_events::RULE,
        &role_trust_rejects_job::RULE,
        &role_trust_wider_than_use::RULE,
        &trust_missing_aud::RULE,
        &trust_missing_sub::RULE,
        &trust_sub_any_repo::RULE,
        &trust_sub_org_wide::RULE,
        &workflow_long_lived_keys::RULE,
        &workflow_missing_id_token::RULE,
    ];
    // custom rules, once `custom::install` loaded them
    rules.extend(crate::custom::registered());
    rules.sort_by_key(|r| r.meta().id);
    rules
}

pub fn find(id: &str) -> Option<&'static dyn Rule> {
    registry().into_iter().find(|r| r.meta().id == id)
}

/// Declare a rule's metadata with its doc embedded from `rules/<id>.md`.
#[macro_export]
macro_rules! rule_meta {
    ($id:literal, $sev:ident, $summary:literal, [$($fmt:literal),*], $fixable:literal) => {
        $crate::rules::RuleMeta {
            id: $id,
            severity: $crate::diag::Severity::$sev,
            summary: $summary,
            applies_to: &[$($fmt),*],
            fixable: $fixable,
            doc: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/", $id, ".md")),
        }
    };
}

/// The README's rule table, generated from the registry (a test keeps the README in sync).
pub fn markdown_table() -> String {
    let mut out = String::from("| id | severity | fix | what it finds |\n|---|---|---|---|\n");
    for r in registry() {
        let m = r.meta();
        out.push_str(&format!(
            "| [`{}`](rules/{}.md) | {} | {} | {} |\n",
            m.id,
            m.id,
            m.severity.as_str(),
            if m.fixable { "yes" } else { "" },
            m.summary.replace('|', "\\|")
        ));
    }
    out
}
