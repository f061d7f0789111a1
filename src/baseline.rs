//! Fingerprints that identify a finding across edits, and the baseline file built on them.
//!
//! A fingerprint hashes the rule, the file's path and a logical anchor: the key path of the
//! offending span in the file's tree (sequence positions left out, so reordering statements
//! does not matter), the span's text with whitespace normalised, and the finding's occurrence
//! index among findings with the same anchor. Line numbers are not part of it, so edits above a
//! finding, or moving it, keep its fingerprint.

use crate::diag::Finding;
use crate::model::Scan;
use crate::source::tree::{Node, Value};
use crate::source::{FileId, Format, SourceFile, Span, json, yaml};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// FNV-1a, 64 bits, from a given offset basis: tiny, deterministic across platforms and builds.
fn fnv(bytes: &[u8], basis: u64) -> u64 {
    let mut h = basis;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn hash128(s: &str) -> String {
    format!(
        "{:016x}{:016x}",
        fnv(s.as_bytes(), 0xcbf2_9ce4_8422_2325),
        fnv(s.as_bytes(), 0x6c62_272e_07bb_0142)
    )
}

/// The parsed trees of a file, for key paths: JSON or YAML as its format is written (a
/// CloudFormation template either, as its front end reads it), none for Terraform.
pub fn trees(src: &SourceFile) -> Vec<Node> {
    let json = || {
        json::parse(&src.text)
            .or_else(|_| json::parse_template(&src.text).map_err(|_| ()))
            .map(|n| vec![n])
            .unwrap_or_default()
    };
    let yaml = || yaml::parse_scanned(&src.text, src.bom()).unwrap_or_default();
    match src.format {
        Format::IamJson | Format::TerraformPlan | Format::AwsExport => json(),
        Format::Workflow | Format::Action | Format::GitlabCi => yaml(),
        Format::CloudFormation if src.text.trim_start().starts_with('{') => json(),
        Format::CloudFormation => yaml(),
        Format::Terraform => vec![],
    }
}

fn contains(outer: Span, inner: Span) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// Map keys from the root to the innermost node holding `span`; sequence items are `[]`.
pub fn key_path(roots: &[Node], span: Span) -> String {
    let mut path = String::new();
    let Some(mut node) = roots.iter().find(|r| contains(r.span, span)) else {
        return path;
    };
    loop {
        let next = match &node.value {
            Value::Map(entries) => entries
                .iter()
                .find(|e| {
                    contains(e.value.span, span)
                        || contains(
                            Span::new(e.key_span.start as usize, e.value.span.end as usize),
                            span,
                        )
                })
                .map(|e| {
                    path.push('.');
                    path.push_str(&e.key);
                    &e.value
                }),
            Value::Seq(items) => items.iter().find(|n| contains(n.span, span)).inspect(|_| {
                path.push_str("[]");
            }),
            Value::Tagged(_, inner) if contains(inner.span, span) => Some(inner.as_ref()),
            _ => None,
        };
        match next {
            Some(n) if !std::ptr::eq(n, node) => node = n,
            _ => return path,
        }
    }
}

fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Fingerprints of `findings` (same order). Trees are parsed once per file.
pub fn fingerprints(scan: &Scan, findings: &[Finding]) -> Vec<String> {
    let mut trees_by_file: HashMap<FileId, Vec<Node>> = HashMap::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    findings
        .iter()
        .map(|f| {
            let src = scan.file(f.file);
            let roots = trees_by_file.entry(f.file).or_insert_with(|| trees(src));
            let anchor = format!(
                "{}\u{0}{}\u{0}{}\u{0}{}",
                f.rule,
                scan.repo_path(&src.rel),
                key_path(roots, f.span),
                normalise(src.slice(f.span))
            );
            let n = seen.entry(anchor.clone()).or_insert(0);
            let fp = hash128(&format!("{anchor}\u{0}{n}"));
            *n += 1;
            fp
        })
        .collect()
}

/// The key SARIF `partialFingerprints` uses for ours.
pub const FINGERPRINT_KEY: &str = "oidcLint/v1";

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    pub rule: String,
    pub path: String,
    pub fingerprint: String,
    /// For people reading the file; not used for matching.
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<BaselineEntry>,
}

impl Baseline {
    pub fn build(scan: &Scan, findings: &[Finding]) -> Baseline {
        let fps = fingerprints(scan, findings);
        Baseline {
            version: 1,
            findings: findings
                .iter()
                .zip(fps)
                .map(|(f, fp)| BaselineEntry {
                    rule: f.rule.to_string(),
                    path: scan.repo_path(&scan.file(f.file).rel),
                    fingerprint: fp,
                    message: f.message.clone(),
                })
                .collect(),
        }
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Read and parse the baseline file at `path`.
    pub fn read(path: &std::path::Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        Baseline::parse(&text)
    }
    pub fn parse(text: &str) -> Result<Baseline, String> {
        let b: Baseline = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if b.version != 1 {
            return Err(format!("unsupported baseline version {}", b.version));
        }
        Ok(b)
    }

    /// Keep only the findings whose fingerprint is not in the baseline. Returns how many were
    /// dropped.
    pub fn filter(&self, scan: &Scan, findings: &mut Vec<Finding>) -> usize {
        let known: BTreeSet<&str> = self
            .findings
            .iter()
            .map(|e| e.fingerprint.as_str())
            .collect();
        let fps = fingerprints(scan, findings);
        let before = findings.len();
        let mut keep = fps.iter().map(|fp| !known.contains(fp.as_str()));
        findings.retain(|_| keep.next().unwrap_or(true));
        before - findings.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Key paths come from the file's format, whatever its name: a CloudFormation template
    /// named `*.template` is YAML or JSON as its front end reads it; Terraform has none.
    #[test]
    fn trees_follow_the_format_not_the_name() {
        let file = |text: &str, format| {
            SourceFile::new(
                "stack.template".into(),
                "stack.template".into(),
                text.into(),
                format,
            )
        };
        let yaml = "Resources:\n  Role:\n    Type: AWS::IAM::Role\n";
        let json = "{\"Resources\": {\"Role\": {\"Type\": \"AWS::IAM::Role\"}}}";
        for text in [yaml, json] {
            let src = file(text, Format::CloudFormation);
            let roots = trees(&src);
            let at = text.find("AWS::IAM::Role").unwrap();
            assert_eq!(
                key_path(&roots, Span::new(at, at + 14)),
                ".Resources.Role.Type",
                "{text}"
            );
        }
        assert!(trees(&file("a = 1\n", Format::Terraform)).is_empty());
        let wf = file("on: push\njobs: {}\n", Format::Workflow);
        assert_eq!(trees(&wf).len(), 1);
    }

    #[test]
    fn key_paths_skip_sequence_positions() {
        let text = r#"{"Statement": [{"Effect": "Allow"}, {"Condition": {"StringLike": {"k": "repo:*"}}}]}"#;
        let root = json::parse(text).unwrap();
        let at = text.find("\"repo:*\"").unwrap();
        let span = Span::new(at, at + 8);
        assert_eq!(
            key_path(&[root], span),
            ".Statement[].Condition.StringLike.k"
        );
    }

    #[test]
    fn hashes_are_stable() {
        // Pinned: a change here invalidates every baseline users have written.
        assert_eq!(hash128("abc"), "e71fa2190541574b8b7ebb2d468f71e6");
    }
}
