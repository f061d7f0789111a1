//! Hostile inputs: encoding. A byte order mark, classic Mac line ends or UTF-16 neither hide a
//! file from the scan nor move its findings: the file is read as GitHub and editors read it, or
//! reported by name.

#[allow(unused_imports)]
use super::common::*;

const WORKFLOW: &str = "name: deploy
on: pull_request_target
permissions:
  id-token: write
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: aws-actions/configure-aws-credentials@v1
        with:
          role-to-assume: arn:aws:iam::123456789012:role/deploy
          aws-region: eu-west-1
";

const PATH: &str = ".github/workflows/deploy.yml";

fn scan_bytes(bytes: &[u8], args: &[&str]) -> std::process::Output {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join(PATH);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    bin()
        .current_dir(d.path())
        .args(["--color", "never"])
        .args(args)
        .arg(".")
        .output()
        .unwrap()
}

/// `(rule, line, column)` of every finding in JSON output.
fn positions(out: &std::process::Output) -> Vec<(String, u64, u64)> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v}");
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// A UTF-8 byte order mark is not content (YAML, GitHub): the workflow parses and its findings
/// are where they are without the mark, on every line after the first.
#[test]
fn utf8_bom_workflow_parses() {
    let plain = scan_bytes(WORKFLOW.as_bytes(), &["--format", "json"]);
    let want = positions(&plain);
    assert!(want.iter().any(|(_, l, _)| *l > 1), "{want:?}");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(WORKFLOW.as_bytes());
    let got = scan_bytes(&bom, &["--format", "json"]);
    assert_eq!(got.status.code(), plain.status.code());
    assert_eq!(positions(&got), want);
    // a document indented by three spaces throughout is read as it always was
    let indented: String = WORKFLOW.lines().map(|l| format!("   {l}\n")).collect();
    let out = scan_bytes(indented.as_bytes(), &["--format", "json"]);
    let lines = |v: Vec<(String, u64, u64)>| -> Vec<(String, u64)> {
        v.into_iter().map(|(r, l, _)| (r, l)).collect()
    };
    assert_eq!(lines(positions(&out)), lines(want));
}

/// Lone `\r` line ends (classic Mac OS) give the same lines and columns as `\n`, in JSON,
/// SARIF, GitHub annotations and the human snippets.
#[test]
fn carriage_return_line_ends_keep_positions() {
    let cr = WORKFLOW.replace('\n', "\r");
    let crlf = WORKFLOW.replace('\n', "\r\n");
    let want = positions(&scan_bytes(WORKFLOW.as_bytes(), &["--format", "json"]));
    assert!(want.iter().any(|(_, l, _)| *l > 1), "{want:?}");
    for text in [&cr, &crlf] {
        assert_eq!(
            positions(&scan_bytes(text.as_bytes(), &["--format", "json"])),
            want
        );
    }
    for format in ["sarif", "github", "human"] {
        let expected =
            String::from_utf8(scan_bytes(WORKFLOW.as_bytes(), &["--format", format]).stdout)
                .unwrap();
        let got =
            String::from_utf8(scan_bytes(cr.as_bytes(), &["--format", format]).stdout).unwrap();
        if format == "human" {
            // the snippet shows the same numbered lines; only the line ends differ
            let gutter = |s: &str| -> Vec<String> {
                s.lines()
                    .filter(|l| {
                        l.contains(" --> ")
                            || l.split(" | ")
                                .next()
                                .is_some_and(|g| g.trim().parse::<u32>().is_ok())
                    })
                    .map(|l| l.to_string())
                    .collect()
            };
            assert_eq!(gutter(&got), gutter(&expected), "{got}");
            assert!(!got.contains('\r') && !got.contains('\u{240d}'), "{got}");
        } else if format == "sarif" {
            let v = |s: &str| -> Vec<serde_json::Value> {
                let j: serde_json::Value = serde_json::from_str(s).unwrap();
                j["runs"][0]["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["locations"][0]["physicalLocation"]["region"].clone())
                    .map(|mut r| {
                        // the snippet text holds the file's own line ends
                        r.as_object_mut().unwrap().remove("snippet");
                        r
                    })
                    .collect()
            };
            assert_eq!(v(&got), v(&expected));
        } else {
            assert_eq!(got, expected, "{format}");
        }
    }
}

/// UTF-16, with or without a byte order mark, little or big endian: reported by name, the
/// same way, never parsed as garbage nor skipped in silence.
#[test]
fn utf16_is_reported_by_name() {
    let units = |be: bool| -> Vec<u8> {
        WORKFLOW
            .encode_utf16()
            .flat_map(|u| if be { u.to_be_bytes() } else { u.to_le_bytes() })
            .collect()
    };
    let cases = [
        (units(false), "without a byte order mark"),
        (units(true), "without a byte order mark"),
        ([&[0xFF, 0xFE][..], &units(false)].concat(), "UTF-16"),
        ([&[0xFE, 0xFF][..], &units(true)].concat(), "UTF-16"),
    ];
    for (bytes, says) in cases {
        let out = scan_bytes(&bytes, &["--format", "json"]);
        assert_eq!(out.status.code(), Some(2));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let errors = v["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{v}");
        assert_eq!(errors[0]["path"], PATH);
        let msg = errors[0]["message"].as_str().unwrap();
        assert!(msg.contains("UTF-16") && msg.contains(says), "{msg}");
    }
    // a UTF-16 trust policy without a mark is reported too (it was skipped as binary)
    let policy = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity"}]}"#;
    let d = tempfile::tempdir().unwrap();
    let le: Vec<u8> = policy
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    std::fs::write(d.path().join("trust.json"), le).unwrap();
    let (code, v) = run_json(d.path(), &["."]);
    assert_eq!(code, 2);
    assert_eq!(v["errors"][0]["path"], "trust.json");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("UTF-16"),
        "{v}"
    );
}

/// The byte order mark is no column: a finding on the first line of a BOM-led file is at the
/// column of its characters (as editors and GitHub count them), in JSON and SARIF alike.
#[test]
fn utf8_bom_is_not_a_column() {
    let first_line = format!(
        "permissions: {{id-token: write}}\n{}",
        &WORKFLOW[WORKFLOW.find("on:").unwrap()..].replace("permissions:\n  id-token: write\n", "")
    );
    let plain = scan_bytes(first_line.as_bytes(), &["--format", "json"]);
    let want = positions(&plain);
    assert!(want.iter().any(|(_, l, c)| *l == 1 && *c > 1), "{want:?}");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(first_line.as_bytes());
    assert_eq!(positions(&scan_bytes(&bom, &["--format", "json"])), want);
    let regions = |out: std::process::Output| -> Vec<serde_json::Value> {
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        j["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let mut r = r["locations"][0]["physicalLocation"]["region"].clone();
                r.as_object_mut().unwrap().remove("snippet");
                r
            })
            .collect()
    };
    assert_eq!(
        regions(scan_bytes(&bom, &["--format", "sarif"])),
        regions(scan_bytes(first_line.as_bytes(), &["--format", "sarif"]))
    );
}

/// A file that really starts with three spaces is not taken for a BOM-led one: YAML whose
/// first line alone is indented does not parse (as GitHub reads it), whereas the same bytes
/// after a byte order mark do.
#[test]
fn three_leading_spaces_are_not_a_byte_order_mark() {
    let spaces = format!("   {WORKFLOW}");
    let out = scan_bytes(spaces.as_bytes(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{v}");
    assert_eq!(errors[0]["path"], PATH);
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid YAML"),
        "{v}"
    );
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(WORKFLOW.as_bytes());
    assert!(!positions(&scan_bytes(&bom, &["--format", "json"])).is_empty());
}

/// Suppression comments in files with lone `\r` line ends cover their own line, as with `\n`:
/// not the whole file (which is one `\n`-line), and the reason stops at the line end.
#[test]
fn carriage_return_suppressions_cover_their_line_only() {
    let with_comment = WORKFLOW.replace(
        "  id-token: write\n",
        "  id-token: write # oidc-lint: ignore[workflow-oidc-untrusted-trigger, workflow-deprecated-action] reviewed\n",
    );
    let want = positions(&scan_bytes(with_comment.as_bytes(), &["--format", "json"]));
    let rules: Vec<&str> = want.iter().map(|p| p.0.as_str()).collect();
    // the comment's line holds one of its two rules' findings; the deprecated action further
    // down is kept (and the comment's second rule reported unused)
    assert_eq!(
        rules,
        ["unused-suppression", "workflow-deprecated-action"],
        "{want:?}"
    );
    for text in [
        with_comment.replace('\n', "\r"),
        with_comment.replace('\n', "\r\n"),
    ] {
        let out = scan_bytes(text.as_bytes(), &["--format", "json", "--show-suppressed"]);
        assert_eq!(positions(&out), want);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let reasons: Vec<&str> = v["suppressed"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s["reason"].as_str()).collect())
            .unwrap_or_default();
        assert!(reasons.iter().all(|r| *r == "reviewed"), "{v}");
    }
}
