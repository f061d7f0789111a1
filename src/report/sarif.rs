//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning. Hand-written serde types for the
//! parts used; columns are UTF-16 code units (`run.columnKind`). Message texts (shown by
//! viewers) are [`sanitize::inline`]d; data (URIs, inserted content) is exact; the whole log is
//! written with [`sanitize::to_json_pretty`].

use super::Report;
use super::rule_props::{doc_section, props};
use super::sanitize;
use crate::baseline::{FINGERPRINT_KEY, fingerprints};
use crate::diag::{Finding, Severity};
use crate::model::Scan;
use crate::rules::RuleMeta;
use crate::source::{FileId, Span};
use crate::suppress::{Origin, Suppressed};
use serde::Serialize;
use std::collections::BTreeMap;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";

#[derive(Serialize)]
struct Log<'a> {
    version: &'static str,
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: Vec<Invocation>,
    results: Vec<SResult>,
    column_kind: &'static str,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<Descriptor<'a>>,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct OwnedText {
    text: String,
}

#[derive(Serialize)]
struct Help<'a> {
    text: &'a str,
    markdown: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor<'a> {
    id: &'a str,
    name: String,
    short_description: Text<'a>,
    full_description: Text<'a>,
    help: Help<'a>,
    /// The page of the version that ran ([`crate::rules::doc_url`]); custom rules have none.
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    default_configuration: DefaultConfiguration,
    properties: DescriptorProps,
}

#[derive(Serialize)]
struct DefaultConfiguration {
    level: &'static str,
}

#[derive(Serialize)]
struct DescriptorProps {
    tags: Vec<&'static str>,
    precision: &'static str,
    #[serde(rename = "security-severity")]
    security_severity: String,
    #[serde(rename = "problem.severity")]
    problem_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: OwnedText,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: OwnedText,
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<SFix>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<SSuppression>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<OwnedText>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SFix {
    description: OwnedText,
    artifact_changes: Vec<ArtifactChange>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement {
    deleted_region: Region,
    inserted_content: OwnedText,
}

#[derive(Serialize)]
struct SSuppression {
    kind: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    justification: String,
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// Percent-encode a relative path for a URI reference (keeps `/` and unreserved characters).
///
/// `path` is a relative path as reports show it: bytes that are not UTF-8 are written `\xFF`
/// there and become `%FF` here (a backslash, `\\` there, becomes `%5C`).
pub fn uri_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in crate::source::discover::rel_bytes(path) {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn artifact(scan: &Scan, file: FileId) -> ArtifactLocation {
    ArtifactLocation {
        uri: uri_encode(&scan.repo_path(&scan.file(file).rel)),
        uri_base_id: SRCROOT,
    }
}

fn region(scan: &Scan, file: FileId, span: Span) -> Region {
    let src = scan.file(file);
    let a = src.pos_utf16(span.start);
    let b = src.pos_utf16(span.end.max(span.start));
    Region {
        start_line: a.line,
        start_column: a.column,
        end_line: b.line,
        end_column: b.column,
    }
}

fn location(
    scan: &Scan,
    file: FileId,
    span: Span,
    msg: Option<String>,
    id: Option<usize>,
) -> Location {
    Location {
        id,
        physical_location: PhysicalLocation {
            artifact_location: artifact(scan, file),
            region: Some(region(scan, file, span)),
        },
        message: msg.map(|text| OwnedText { text }),
    }
}

fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// A rule's descriptor at `severity`: its default, or the configuration's override (its
/// `defaultConfiguration.level`, `problem.severity` and `security-severity` follow).
fn descriptor(m: &'static RuleMeta, severity: Severity) -> Descriptor<'static> {
    let p = props(m, severity);
    Descriptor {
        id: m.id,
        name: pascal(m.id),
        short_description: Text { text: m.summary },
        full_description: Text {
            text: doc_section(m.doc, "What it finds").unwrap_or(m.summary),
        },
        help: Help {
            text: m.doc,
            markdown: m.doc,
        },
        help_uri: crate::rules::doc_url(m),
        default_configuration: DefaultConfiguration {
            level: level(severity),
        },
        properties: DescriptorProps {
            tags: p.tags,
            precision: p.precision,
            security_severity: format!("{:.1}", p.security_severity),
            problem_severity: if severity == Severity::Note {
                "recommendation"
            } else {
                level(severity)
            },
        },
    }
}

fn result(
    scan: &Scan,
    f: &Finding,
    rule_index: usize,
    fp: String,
    suppression: Option<&Suppressed>,
) -> SResult {
    let mut text = sanitize::inline(&f.message).into_owned();
    if !f.help.is_empty() {
        text.push_str(&format!(" Help: {}", sanitize::inline(&f.help)));
    }
    let related = f
        .related
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let msg = sanitize::inline(&l.message).into_owned();
            location(scan, l.file, l.span, Some(msg), Some(i + 1))
        })
        .collect();
    let fixes = f
        .fix
        .iter()
        .map(|fix| {
            let mut files: Vec<FileId> = fix.edits.iter().map(|e| e.file).collect();
            files.sort_unstable();
            files.dedup();
            SFix {
                description: OwnedText {
                    text: if fix.safe {
                        sanitize::inline(&fix.description).into_owned()
                    } else {
                        format!(
                            "{} (unsafe: review before applying)",
                            sanitize::inline(&fix.description)
                        )
                    },
                },
                artifact_changes: files
                    .into_iter()
                    .map(|file| ArtifactChange {
                        artifact_location: artifact(scan, file),
                        replacements: fix
                            .edits
                            .iter()
                            .filter(|e| e.file == file)
                            .map(|e| Replacement {
                                deleted_region: region(scan, file, e.span),
                                inserted_content: OwnedText {
                                    text: e.replacement.clone(),
                                },
                            })
                            .collect(),
                    })
                    .collect(),
            }
        })
        .collect();
    SResult {
        rule_id: f.rule,
        rule_index,
        level: level(f.severity),
        message: OwnedText { text },
        locations: vec![location(scan, f.file, f.span, None, None)],
        related_locations: related,
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, fp)]),
        fixes,
        suppressions: suppression
            .map(|s| SSuppression {
                kind: match s.origin {
                    Origin::InSource => "inSource",
                    Origin::Config(_) => "external",
                },
                justification: sanitize::inline(&s.reason).into_owned(),
            })
            .into_iter()
            .collect(),
    }
}

/// Render the SARIF log. `rules` are every rule the tool knows (the driver lists them all);
/// `suppressed` findings are included with a `suppressions` entry when given.
/// The SARIF log; `severity_for` gives the configuration's severity of a rule, if it changes it.
pub fn render(
    r: &Report,
    rules: &[&'static RuleMeta],
    suppressed: &[Suppressed],
    severity_for: &dyn Fn(&str) -> Option<Severity>,
) -> String {
    let scan = r.scan;
    let index: BTreeMap<&str, usize> = rules.iter().enumerate().map(|(i, m)| (m.id, i)).collect();
    let fps = fingerprints(scan, r.findings);
    let sup_findings: Vec<Finding> = suppressed.iter().map(|s| s.finding.clone()).collect();
    let sup_fps = fingerprints(scan, &sup_findings);
    let mut results: Vec<SResult> = r
        .findings
        .iter()
        .zip(fps)
        .map(|(f, fp)| result(scan, f, index.get(f.rule).copied().unwrap_or(0), fp, None))
        .collect();
    results.extend(suppressed.iter().zip(sup_fps).map(|(s, fp)| {
        result(
            scan,
            &s.finding,
            index.get(s.finding.rule).copied().unwrap_or(0),
            fp,
            Some(s),
        )
    }));
    let notifications = scan
        .errors
        .iter()
        .map(|e| Notification {
            level: "error",
            message: OwnedText {
                text: format!(
                    "{}: {}",
                    sanitize::inline(&scan.repo_path(&e.path)),
                    sanitize::inline(&e.message)
                ),
            },
            locations: vec![Location {
                id: None,
                physical_location: PhysicalLocation {
                    artifact_location: ArtifactLocation {
                        uri: uri_encode(&scan.repo_path(&e.path)),
                        uri_base_id: SRCROOT,
                    },
                    region: (e.line > 0).then_some(Region {
                        start_line: e.line,
                        start_column: e.column_utf16.max(1),
                        end_line: e.line,
                        end_column: e.column_utf16.max(1),
                    }),
                },
                message: None,
            }],
        })
        .collect();
    let log = Log {
        version: "2.1.0",
        schema: SCHEMA,
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "oidc-lint",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: env!("CARGO_PKG_REPOSITORY"),
                    rules: rules
                        .iter()
                        .map(|m| descriptor(m, severity_for(m.id).unwrap_or(m.severity)))
                        .collect(),
                },
            },
            invocations: vec![Invocation {
                execution_successful: scan.errors.is_empty(),
                tool_execution_notifications: notifications,
            }],
            results,
            column_kind: "utf16CodeUnits",
        }],
    };
    let mut s = sanitize::to_json_pretty(&log);
    s.push('\n');
    s
}
