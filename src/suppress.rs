//! Suppressions: `# oidc-lint: ignore[rule-id] reason` comments in YAML and HCL,
//! CloudFormation `Metadata: {oidc-lint: {ignore: [rule-id]}}` on a resource, and `[[ignore]]`
//! entries of the configuration (by path glob, optionally by rule), the way to silence JSON.
//! A comment or metadata entry that suppresses nothing is reported as `unused-suppression`.

use crate::baseline::trees;
use crate::config::{Loaded, PathMatcher};
use crate::diag::{Finding, Severity};
use crate::model::Scan;
use crate::rules::RuleMeta;
use crate::source::tree::{Node, Value};
use crate::source::{FileId, SourceFile, Span};

pub static UNUSED_META: RuleMeta = crate::rule_meta!(
    "unused-suppression",
    Note,
    "An `oidc-lint: ignore` comment or CloudFormation metadata entry suppresses no finding",
    ["workflow", "action", "terraform", "cloudformation"],
    false
);

/// Where a suppression was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A comment or metadata entry in a scanned file.
    InSource,
    /// An `[[ignore]]` entry of the configuration (its line).
    Config(usize),
}

/// A finding that was suppressed, and why.
#[derive(Clone, Debug)]
pub struct Suppressed {
    pub finding: Finding,
    pub origin: Origin,
    pub reason: String,
}

/// One in-source directive.
#[derive(Clone, Debug)]
struct Directive {
    file: FileId,
    /// The comment or metadata text, for the unused report.
    span: Span,
    rules: Vec<(String, Span)>,
    reason: String,
    /// Findings whose primary span starts in this byte range are covered.
    covers: std::ops::Range<usize>,
    used: Vec<bool>,
}

const MARKER: &str = "oidc-lint:";

/// Parse `oidc-lint: ignore[a, b] reason` starting at the marker. Returns rule ids with spans
/// (absolute offsets) and the reason.
fn parse_comment(text: &str, at: usize) -> Option<(Vec<(String, Span)>, String)> {
    let rest = &text[at + MARKER.len()..];
    let line_end = rest.find(['\n', '\r']).unwrap_or(rest.len());
    let rest = &rest[..line_end];
    let trimmed = rest.trim_start();
    let after_ignore = trimmed.strip_prefix("ignore[")?;
    let close = after_ignore.find(']')?;
    let list_start = at + MARKER.len() + (rest.len() - trimmed.len()) + "ignore[".len();
    let mut rules = Vec::new();
    let mut pos = 0;
    for part in after_ignore[..close].split(',') {
        let lead = part.len() - part.trim_start().len();
        let id = part.trim();
        if !id.is_empty() {
            let s = list_start + pos + lead;
            rules.push((id.to_string(), Span::new(s, s + id.len())));
        }
        pos += part.len() + 1;
    }
    let reason = after_ignore[close + 1..]
        .trim()
        .trim_end_matches('\r')
        .to_string();
    Some((rules, reason))
}

/// The line holding `at`, without its terminator: lines end at `\n`, `\r\n` or a lone `\r`
/// (classic Mac OS), as YAML reads them (in a CRLF file, the empty stretch between `\r` and
/// `\n` is a blank line to these helpers, which skip blanks).
fn line_bounds(text: &str, at: usize) -> (usize, usize) {
    let s = text[..at].rfind(['\n', '\r']).map(|i| i + 1).unwrap_or(0);
    let e = text[at..]
        .find(['\n', '\r'])
        .map(|i| at + i)
        .unwrap_or(text.len());
    (s, e)
}

/// Byte ranges that are string content (not comments) in a YAML file: every scalar's span.
fn yaml_scalar_spans(roots: &[Node]) -> Vec<Span> {
    let mut out = Vec::new();
    for r in roots {
        r.walk(&mut |n| {
            if matches!(n.value, Value::Str(_) | Value::Num(_) | Value::Bool(_)) {
                out.push(n.span);
            }
        });
    }
    out
}

/// Offsets where an HCL comment starts (`#`, `//`, `/*`), skipping strings (with `${…}`
/// templates) and heredocs.
fn hcl_comment_starts(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    // Each entry: brace depth inside a `${` template of a string.
    let mut stack: Vec<u32> = Vec::new();
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => in_str = false,
                b'$' | b'%' if b.get(i + 1) == Some(&b'{') => {
                    stack.push(0);
                    in_str = false;
                    i += 1;
                }
                b'\n' | b'\r' => in_str = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'{' => {
                if let Some(d) = stack.last_mut() {
                    *d += 1;
                }
            }
            b'}' => match stack.last_mut() {
                Some(0) => {
                    stack.pop();
                    in_str = true;
                }
                Some(d) => *d -= 1,
                None => {}
            },
            b'#' => {
                out.push(i);
                i = line_bounds(text, i).1;
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                out.push(i);
                i = line_bounds(text, i).1;
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                out.push(i);
                i = text[i + 2..]
                    .find("*/")
                    .map(|j| i + 2 + j + 2)
                    .unwrap_or(b.len());
                continue;
            }
            b'<' if text[i..].starts_with("<<") => {
                let rest = text[i + 2..].trim_start_matches('-');
                let marker: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !marker.is_empty() {
                    // Skip to the line that is just the marker.
                    let mut p = line_bounds(text, i).1;
                    while p < b.len() {
                        let (ls, le) = line_bounds(text, p + 1);
                        if text[ls..le].trim() == marker {
                            p = le;
                            break;
                        }
                        p = le;
                    }
                    i = p;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Is `at` (a `#`) a YAML comment start: at line start or after whitespace, and not inside a
/// scalar?
fn yaml_is_comment(text: &str, at: usize, scalars: &[Span]) -> bool {
    let prev_ok = at == 0 || matches!(text.as_bytes()[at - 1], b' ' | b'\t' | b'\n' | b'\r');
    prev_ok
        && !scalars
            .iter()
            .any(|s| (s.start as usize) <= at && at < s.end as usize)
}

/// The range of text a comment at `at` covers: its own line when code precedes it, else the
/// next line that holds something other than comments and blanks.
fn comment_covers(text: &str, at: usize) -> std::ops::Range<usize> {
    let (ls, le) = line_bounds(text, at);
    if !text[ls..at].trim().is_empty() {
        return ls..le;
    }
    let mut p = le;
    while p < text.len() {
        let (s, e) = line_bounds(text, p + 1);
        let t = text[s..e].trim();
        if !t.is_empty() && !t.starts_with('#') && !t.starts_with("//") {
            return s..e;
        }
        p = e;
    }
    le..le
}

fn comment_directives(id: FileId, src: &SourceFile, roots: &[Node]) -> Vec<Directive> {
    let lower = src.rel.to_ascii_lowercase();
    let is_yaml = lower.ends_with(".yml") || lower.ends_with(".yaml");
    let is_hcl = lower.ends_with(".tf") || lower.ends_with(".hcl") || lower.ends_with(".tfvars");
    if !is_yaml && !is_hcl || !src.text.contains(MARKER) {
        return vec![];
    }
    let text = &src.text;
    let starts: Vec<usize> = if is_hcl {
        hcl_comment_starts(text)
    } else {
        let scalars = yaml_scalar_spans(roots);
        text.match_indices('#')
            .map(|(i, _)| i)
            .filter(|&i| yaml_is_comment(text, i, &scalars))
            .collect()
    };
    let mut out = Vec::new();
    for s in starts {
        let body = text[s..].trim_start_matches(['#', '/', '*']);
        let lead = text[s..].len() - body.len();
        let ws = body.len() - body.trim_start().len();
        let at = s + lead + ws;
        if !text[at..].starts_with(MARKER) {
            continue;
        }
        let Some((rules, reason)) = parse_comment(text, at) else {
            continue;
        };
        let (_, le) = line_bounds(text, s);
        let used = vec![false; rules.len()];
        out.push(Directive {
            file: id,
            span: Span::new(s, le),
            rules,
            reason,
            covers: comment_covers(text, s),
            used,
        });
    }
    out
}

/// Whether an `oidc-lint: ignore` comment in `src` names `rule` and covers a finding starting at
/// `offset` (an editor checks the comment it offers to insert really suppresses the finding).
pub fn comment_suppresses(src: &SourceFile, rule: &str, offset: usize) -> bool {
    comment_directives(0, src, &trees(src))
        .iter()
        .any(|d| d.covers.contains(&offset) && d.rules.iter().any(|(r, _)| r == rule))
}

/// CloudFormation `Metadata: {oidc-lint: {ignore: [...]}}` on resources (YAML or JSON).
fn metadata_directives(id: FileId, roots: &[Node]) -> Vec<Directive> {
    let mut out = Vec::new();
    for root in roots {
        let Some(resources) = root.get("Resources") else {
            continue;
        };
        for res in resources.entries() {
            let Some(ign) = res
                .value
                .get("Metadata")
                .and_then(|m| m.get("oidc-lint"))
                .and_then(|m| m.get("ignore"))
            else {
                continue;
            };
            let rules: Vec<(String, Span)> = ign
                .items()
                .into_iter()
                .filter_map(|n| n.as_str().map(|s| (s, n.span)))
                .collect();
            if rules.is_empty() {
                continue;
            }
            let reason = res
                .value
                .get("Metadata")
                .and_then(|m| m.get("oidc-lint"))
                .and_then(|m| m.get("reason"))
                .and_then(Node::as_str)
                .unwrap_or_default();
            let used = vec![false; rules.len()];
            out.push(Directive {
                file: id,
                span: ign.span,
                rules,
                reason,
                covers: res.key_span.start as usize..res.value.span.end as usize,
                used,
            });
        }
    }
    out
}

/// The result of applying suppressions.
pub struct Outcome {
    /// Findings that stand, plus `unused-suppression` notes; sorted.
    pub findings: Vec<Finding>,
    pub suppressed: Vec<Suppressed>,
}

/// Apply every suppression to `findings`. `ran(rule)` says whether a rule ran (a directive for
/// a rule that did not run is not reported as unused); `known(rule)` whether a rule id exists.
pub fn apply(
    scan: &Scan,
    findings: Vec<Finding>,
    config: &Loaded,
    ran: &dyn Fn(&str) -> bool,
    known: &dyn Fn(&str) -> bool,
) -> Outcome {
    let mut directives: Vec<Directive> = Vec::new();
    for (id, src) in scan.files() {
        // Both comments and metadata name `oidc-lint`; most files are never parsed again.
        if !src.text.contains("oidc-lint") {
            continue;
        }
        let roots = trees(src);
        directives.extend(comment_directives(id, src, &roots));
        directives.extend(metadata_directives(id, &roots));
    }
    let ignores: Vec<(PathMatcher, &crate::config::IgnoreEntry, usize)> = config
        .config
        .ignore
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let e = e.get_ref();
            (
                PathMatcher::new(std::slice::from_ref(&e.path), config.dir.clone()),
                e,
                config.ignore_line(i),
            )
        })
        .collect();

    let mut kept = Vec::new();
    let mut suppressed = Vec::new();
    'findings: for f in findings {
        let start = f.span.start as usize;
        for d in directives.iter_mut() {
            if d.file != f.file || !d.covers.contains(&start) && d.covers.start != start {
                continue;
            }
            if let Some(k) = d.rules.iter().position(|(r, _)| r == f.rule) {
                d.used[k] = true;
                suppressed.push(Suppressed {
                    reason: d.reason.clone(),
                    origin: Origin::InSource,
                    finding: f,
                });
                continue 'findings;
            }
        }
        let src = scan.file(f.file);
        for (m, e, line) in &ignores {
            if (e.rules.is_empty() || e.rules.iter().any(|r| r == f.rule))
                && !m.matches(&src.rel, &src.path).is_empty()
            {
                suppressed.push(Suppressed {
                    reason: e.reason.clone(),
                    origin: Origin::Config(*line),
                    finding: f,
                });
                continue 'findings;
            }
        }
        kept.push(f);
    }

    if ran(UNUSED_META.id) {
        for d in &directives {
            for ((rule, span), used) in d.rules.iter().zip(&d.used) {
                if *used {
                    continue;
                }
                let msg = if !known(rule) {
                    format!("`oidc-lint: ignore` names `{rule}`, which is not a rule")
                } else if ran(rule) {
                    format!("`{rule}` is suppressed here, but reports nothing at this place")
                } else {
                    continue;
                };
                kept.push(
                    Finding::new(UNUSED_META.id, Severity::Note, d.file, *span)
                        .message(msg)
                        .label("suppresses nothing")
                        .related(d.file, d.span, "the suppression")
                        .help("remove the rule id (or the whole comment) so real findings are not hidden later"),
                );
            }
        }
    }
    crate::diag::order(scan, &mut kept);
    Outcome {
        findings: kept,
        suppressed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hcl_lexer_skips_strings_and_heredocs() {
        let text = "a = \"x # not\" # yes\nb = \"${f(\"#\")}\" // two\nc = <<EOF\n# in heredoc\nEOF\n/* three */\n";
        let starts = hcl_comment_starts(text);
        let got: Vec<&str> = starts.iter().map(|&i| &text[i..i + 2]).collect();
        assert_eq!(got, vec!["# ", "//", "/*"]);
    }

    #[test]
    fn comment_parsing() {
        let t = "x: 1 # oidc-lint: ignore[a, b-c] legacy role\n";
        let at = t.find(MARKER).unwrap();
        let (rules, reason) = parse_comment(t, at).unwrap();
        let ids: Vec<&str> = rules.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(ids, vec!["a", "b-c"]);
        assert_eq!(&t[rules[1].1.range()], "b-c");
        assert_eq!(reason, "legacy role");
    }

    #[test]
    fn own_line_comments_cover_the_next_code_line() {
        let t = "a: 1\n# oidc-lint: ignore[r]\n# another\nb: 2\n";
        let at = t.find('#').unwrap();
        assert_eq!(&t[comment_covers(t, at)], "b: 2");
        let t2 = "a: 1 # oidc-lint: ignore[r]\nb: 2\n";
        assert_eq!(
            &t2[comment_covers(t2, t2.find('#').unwrap())],
            "a: 1 # oidc-lint: ignore[r]"
        );
    }

    #[test]
    fn cloudformation_metadata_on_a_resource() {
        let t = "Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Metadata:\n      oidc-lint:\n        ignore: [trust-sub-org-wide]\n        reason: shared org role\n    Properties:\n      X: 1\n  Other:\n    Type: AWS::S3::Bucket\n";
        let roots = crate::source::yaml::parse(t).unwrap();
        let d = metadata_directives(0, &roots);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].rules[0].0, "trust-sub-org-wide");
        assert_eq!(&t[d[0].rules[0].1.range()], "trust-sub-org-wide");
        assert_eq!(d[0].reason, "shared org role");
        let covered = &t[d[0].covers.clone()];
        assert!(
            covered.starts_with("Role:") && covered.contains("X: 1") && !covered.contains("Other")
        );
        // JSON templates too.
        let j =
            r#"{"Resources": {"R": {"Metadata": {"oidc-lint": {"ignore": "trust-missing-aud"}}}}}"#;
        let d = metadata_directives(0, &[crate::source::json::parse(j).unwrap()]);
        assert_eq!(d[0].rules[0].0, "trust-missing-aud");
    }
}
