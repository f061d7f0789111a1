//! Per-rule presentation properties for code-scanning outputs: GitHub `security-severity`,
//! SARIF `precision` and tags. Every rule gets a default from its severity; the table below
//! overrides it for rules whose impact differs from what their severity suggests, so a new rule
//! needs no entry here.

use crate::diag::Severity;
use crate::rules::RuleMeta;

pub struct Props {
    /// GitHub's `security-severity`: 0.1–3.9 low, 4.0–6.9 medium, 7.0–8.9 high, 9.0+ critical.
    pub security_severity: f32,
    /// SARIF/CodeQL `precision`: `very-high`, `high`, `medium` or `low`.
    pub precision: &'static str,
    pub tags: Vec<&'static str>,
}

/// Overrides: (rule id, security-severity, precision, extra tag).
const OVERRIDES: &[(&str, f32, &str, &str)] = &[
    // Any GitHub repository in the world can assume the role.
    ("trust-missing-sub", 9.3, "very-high", "security"),
    ("trust-sub-any-repo", 9.3, "very-high", "security"),
    ("trust-sub-org-wide", 6.0, "high", "security"),
    ("trust-missing-aud", 4.0, "high", "security"),
    ("workflow-long-lived-keys", 7.5, "high", "security"),
    // Breaks the deployment rather than opening the account.
    ("workflow-missing-id-token", 2.0, "very-high", "correctness"),
    ("unused-suppression", 0.5, "very-high", "maintainability"),
];

fn default_for(sev: Severity) -> f32 {
    match sev {
        Severity::Error => 8.0,
        Severity::Warning => 5.0,
        Severity::Note => 2.0,
    }
}

/// The severity GitHub's `security-severity` band stands for: 7.0 and up is shown as high or
/// critical (an error), 4.0 and up medium (a warning), lower is low (a note).
fn band(score: f32) -> Severity {
    if score >= 7.0 {
        Severity::Error
    } else if score >= 4.0 {
        Severity::Warning
    } else {
        Severity::Note
    }
}

/// The properties of `meta` reported at `severity` (its own, or the configuration's). When the
/// configuration changes the severity, a score outside the new severity's band gives way to that
/// severity's default: a rule a team raises to an error is not shown as low, nor one lowered to
/// a note as critical. (At the rule's own severity the table's judgement stands.)
pub fn props(meta: &RuleMeta, severity: Severity) -> Props {
    let (mut score, precision, tag) = OVERRIDES
        .iter()
        .find(|o| o.0 == meta.id)
        .map(|o| (o.1, o.2, o.3))
        .unwrap_or((default_for(meta.severity), "high", "security"));
    if severity != meta.severity && band(score) != severity {
        score = default_for(severity);
    }
    let mut tags = vec![tag];
    if tag != "security" && score >= 4.0 {
        tags.push("security");
    }
    let family = meta.id.split('-').next().unwrap_or("");
    match family {
        "trust" => tags.push("iam"),
        "workflow" => tags.push("github-actions"),
        "provider" => tags.push("oidc"),
        _ => {}
    }
    Props {
        security_severity: score,
        precision,
        tags,
    }
}

/// The text of a `## Heading` section of a rule doc, trimmed.
pub fn doc_section<'a>(doc: &'a str, heading: &str) -> Option<&'a str> {
    let marker = format!("## {heading}\n");
    let start = doc.find(&marker)? + marker.len();
    let end = doc[start..]
        .find("\n## ")
        .map(|i| start + i)
        .unwrap_or(doc.len());
    Some(doc[start..end].trim())
}
