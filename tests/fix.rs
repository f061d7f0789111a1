//! `--fix`, `--unsafe-fixes`, `--diff`: for every fixable rule, on its documented bad example
//! (LF and CRLF, with comments added where the syntax has them), fixes converge, keep comments,
//! formatting and line endings, and a second run has nothing left to fix.

mod common;
use common::*;
use std::path::Path;

fn read_all(dir: &Path, files: &[(String, String)]) -> Vec<String> {
    files
        .iter()
        .map(|(p, _)| std::fs::read_to_string(dir.join(p)).unwrap())
        .collect()
}

/// Add comments where the syntax allows them (YAML, HCL): a top line, and trailing comments
/// on lines that open a block.
fn with_comments(path: &str, body: &str) -> String {
    let yaml = path.ends_with(".yml") || path.ends_with(".yaml");
    let hcl = path.ends_with(".tf");
    if !yaml && !hcl {
        return body.to_string();
    }
    let mut out = String::from("# keep: top comment\n");
    for l in body.lines() {
        out.push_str(l);
        let t = l.trim();
        let opens = if yaml {
            t.ends_with(':') && !t.starts_with('-') && !t.starts_with('#')
        } else {
            t.ends_with('{') || t.ends_with('[')
        };
        if opens {
            out.push_str(" # keep: trailing");
        }
        out.push('\n');
    }
    out
}

fn fixable_rules() -> Vec<&'static oidc_lint::rules::RuleMeta> {
    oidc_lint::rules::registry()
        .into_iter()
        .map(|r| r.meta())
        .filter(|m| m.fixable)
        .collect()
}

fn fix_count(dir: &Path, rule: &str) -> usize {
    let (_, v) = run_json(dir, &["."]);
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule && !f["fix"].is_null())
        .count()
}

/// Every file under `dir`, as (relative path, text).
fn load_dir(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(t) = std::fs::read_to_string(&p) {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, t));
            }
        }
    }
    out.sort();
    out
}

/// Fix one case (LF and CRLF, comments added) and check convergence and preservation.
fn check_case(rule: &str, case: &str, bad: &[(String, String)]) {
    for crlf in [false, true] {
        let files: Vec<(String, String)> = bad
            .iter()
            .map(|(p, b)| {
                let t = with_comments(p, b);
                (p.clone(), if crlf { t.replace('\n', "\r\n") } else { t })
            })
            .collect();
        let what = format!("{rule} / {case}{}", if crlf { " (CRLF)" } else { "" });
        let dir = tempfile::tempdir().unwrap();
        write_files(dir.path(), &files);
        assert!(fix_count(dir.path(), rule) > 0, "{what}: offers no fix");
        let (_, v0) = run_json(dir.path(), &["."]);
        let unfixable_before = v0["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == rule && f["fix"].is_null())
            .count();

        let out = bin()
            .current_dir(dir.path())
            .args(["--fix", "--unsafe-fixes", "--color", "never", "."])
            .output()
            .unwrap();
        let after = read_all(dir.path(), &files);
        assert_ne!(
            after,
            files.iter().map(|f| f.1.clone()).collect::<Vec<_>>(),
            "{what}: --fix changed nothing\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for ((path, before), now) in files.iter().zip(&after) {
            // Lines carrying comments survive whole; everything else of the original is kept in
            // order (the fixes of today insert text; a replacing fix must keep this true of
            // the text around it).
            let edits: Vec<&serde_json::Value> = v0["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|f| f["fix"]["edits"].as_array())
                .flatten()
                .filter(|e| e["path"] == path.as_str())
                .collect();
            let touched: Vec<(u64, u64)> = edits
                .iter()
                .map(|e| {
                    (
                        e["start_line"].as_u64().unwrap(),
                        e["end_line"].as_u64().unwrap(),
                    )
                })
                .collect();
            let now_lines: Vec<&str> = now.lines().map(|l| l.trim_end_matches('\r')).collect();
            for (i, line) in before.lines().map(|l| l.trim_end_matches('\r')).enumerate() {
                let n = i as u64 + 1;
                if touched.iter().any(|(a, b)| (*a..=*b).contains(&n)) {
                    continue;
                }
                if line.contains("# keep") || line.contains("//") {
                    assert!(
                        now_lines.contains(&line),
                        "{what}: {path} lost {line:?}\n{now}"
                    );
                }
            }
            // Lines a fix replaces (its edits' line ranges) may change; inserting fixes touch
            // no original line, so for them the whole original text must survive in order.
            let replaced: Vec<(u64, u64)> = edits
                .iter()
                .filter(|e| {
                    e["start_line"] != e["end_line"] || e["start_column"] != e["end_column"]
                })
                .map(|e| {
                    (
                        e["start_line"].as_u64().unwrap(),
                        e["end_line"].as_u64().unwrap(),
                    )
                })
                .collect();
            let kept: String = before
                .split_inclusive('\n')
                .enumerate()
                .filter(|(i, _)| {
                    let n = *i as u64 + 1;
                    !replaced.iter().any(|(a, b)| (*a..=*b).contains(&n))
                })
                .map(|(_, l)| l)
                .collect();
            let mut rest = now.chars();
            assert!(
                kept.chars().all(|c| rest.any(|d| d == c)),
                "{what}: {path} lost original text\n{now}"
            );
            if crlf {
                assert!(
                    !now.replace("\r\n", "").contains('\n'),
                    "{what}: {path} has a bare LF\n{now:?}"
                );
            } else {
                assert!(!now.contains('\r'), "{what}: {path}");
            }
        }
        // The fixed files still parse, and the rule has nothing left to report.
        let (code, v) = run_json(dir.path(), &["."]);
        assert!(v["errors"].as_array().unwrap().is_empty(), "{what}: {v:#}");
        assert_ne!(code, 2);
        // Nothing fixable is left, and no finding of the rule was added (the ones without a
        // fix stay).
        let of_rule = |v: &serde_json::Value, fixable: bool| {
            v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["rule"] == rule && f["fix"].is_null() != fixable)
                .count()
        };
        assert_eq!(
            of_rule(&v, true),
            0,
            "{what}: still fixable after --fix: {v:#}"
        );
        assert!(
            of_rule(&v, false) <= unfixable_before,
            "{what}: --fix produced new findings: {v:#}"
        );
        // A second run writes nothing.
        let out2 = bin()
            .current_dir(dir.path())
            .args(["--fix", "--unsafe-fixes", "--color", "never", "."])
            .output()
            .unwrap();
        assert_eq!(
            read_all(dir.path(), &files),
            after,
            "{what}: second --fix changed files"
        );
        assert!(
            !String::from_utf8_lossy(&out2.stderr).contains("Fixed"),
            "{what}"
        );
    }
}

/// The documented bad example and every `fixtures/rules/<id>/bad-*` repository of each
/// fixable rule.
#[test]
fn every_fixable_rule_converges_and_preserves_text() {
    let rules = fixable_rules();
    assert!(
        rules.len() >= 2,
        "trust-missing-aud and workflow-missing-id-token at least"
    );
    for m in rules {
        let bad = example_files(m.doc, "## Bad example");
        assert!(!bad.is_empty(), "{} has no bad example", m.id);
        // Some rules fix only some shapes: every case that offers a fix is checked, and each
        // fixable rule must offer one somewhere (its doc or its fixtures).
        let mut checked = 0;
        let doc_dir = tempfile::tempdir().unwrap();
        write_files(doc_dir.path(), &bad);
        if fix_count(doc_dir.path(), m.id) > 0 {
            check_case(m.id, "doc", &bad);
            checked += 1;
        }
        let dir = fixtures().join("rules").join(m.id);
        let mut cases: Vec<std::path::PathBuf> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
            Err(_) => vec![],
        };
        cases.sort();
        for p in cases {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("bad-") && p.is_dir() && fix_count(&p, m.id) > 0 {
                check_case(m.id, &name, &load_dir(&p));
                checked += 1;
            }
        }
        assert!(
            checked > 0,
            "{}: marked fixable but no case offers a fix",
            m.id
        );
    }
}

/// HCL: a Terraform `jsonencode` trust policy with comments everywhere.
#[test]
fn terraform_fix_keeps_comments() {
    let tf = r#"# role for CI
resource "aws_iam_role" "deploy" {
  name = "deploy" # the role
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringLike = { "token.actions.githubusercontent.com:sub" = "repo:acme/app:ref:refs/heads/main" } // main only
      }
    }]
  })
}
"#;
    check_case(
        "trust-missing-aud",
        "terraform",
        &[("infra/main.tf".into(), tf.into())],
    );
}

const WORKFLOW: &str = "# deploy\non: push\npermissions:\n  contents: read # minimal\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          role-to-assume: arn:aws:iam::123456789012:role/deploy\n          aws-region: eu-west-1\n";

#[test]
fn diff_shows_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[(".github/workflows/d.yml".into(), WORKFLOW.into())],
    );
    let out = bin()
        .current_dir(dir.path())
        .args(["--diff", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let diff = String::from_utf8(out.stdout).unwrap();
    insta::assert_snapshot!("diff-workflow", diff);
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".github/workflows/d.yml")).unwrap(),
        WORKFLOW
    );
    // Nothing to show: exit 0, empty output.
    let clean = WORKFLOW.replace(
        "  contents: read # minimal\n",
        "  contents: read # minimal\n  id-token: write\n",
    );
    write_files(dir.path(), &[(".github/workflows/d.yml".into(), clean)]);
    let out = bin()
        .current_dir(dir.path())
        .args(["--diff", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

#[test]
fn unsafe_fixes_need_the_flag() {
    // A custom audience requested by a workflow makes the `aud` fix unsafe.
    let dir = tempfile::tempdir().unwrap();
    let trust = r#"{
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {"StringEquals": {"token.actions.githubusercontent.com:sub": "repo:acme/app:ref:refs/heads/main"}}
    }
  ]
}
"#;
    let wf = "on: push\npermissions:\n  id-token: write\njobs:\n  d:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          role-to-assume: arn:aws:iam::1:role/x\n          audience: custom.example\n          aws-region: eu-west-1\n";
    write_files(
        dir.path(),
        &[
            ("iam/trust.json".into(), trust.into()),
            (".github/workflows/d.yml".into(), wf.into()),
        ],
    );
    let (_, v) = run_json(dir.path(), &["."]);
    let aud: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "trust-missing-aud")
        .collect();
    assert_eq!(aud.len(), 1, "{v:#}");
    bin()
        .current_dir(dir.path())
        .args(["--fix", "."])
        .output()
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("iam/trust.json")).unwrap(),
        trust
    );
    bin()
        .current_dir(dir.path())
        .args(["--fix", "--unsafe-fixes", "."])
        .output()
        .unwrap();
    assert_ne!(
        std::fs::read_to_string(dir.path().join("iam/trust.json")).unwrap(),
        trust
    );
}

#[test]
fn a_file_changed_since_it_was_read_is_not_touched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".github/workflows/d.yml");
    write_files(
        dir.path(),
        &[(".github/workflows/d.yml".into(), WORKFLOW.into())],
    );
    let concurrent = format!("{WORKFLOW}# edited meanwhile\n");
    let opts = oidc_lint::scan::ScanOptions {
        root: dir.path().to_path_buf(),
        paths: vec![dir.path().to_path_buf()],
        max_file_size: 1 << 20,
        settings: Default::default(),
    };
    let rep = oidc_lint::fix::fix_to_fixed_point(
        || {
            let scan = oidc_lint::scan::scan(&opts);
            let findings = oidc_lint::check(&scan, &Default::default());
            // Someone saves the file between our read and our write.
            std::fs::write(&path, &concurrent).unwrap();
            (scan, findings)
        },
        true,
        &oidc_lint::write::bases(&[dir.path().to_path_buf()]),
    );
    assert_eq!(rep.applied, 0);
    assert!(
        rep.errors
            .iter()
            .any(|e| e.contains("changed since it was read")),
        "{rep:?}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), concurrent);
}

#[test]
fn utf8_bom_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("\u{feff}{WORKFLOW}");
    write_files(dir.path(), &[(".github/workflows/d.yml".into(), text)]);
    bin()
        .current_dir(dir.path())
        .args(["--fix", "."])
        .output()
        .unwrap();
    let now = std::fs::read_to_string(dir.path().join(".github/workflows/d.yml")).unwrap();
    assert!(now.starts_with("\u{feff}# deploy\n"), "{now:?}");
    assert!(now.contains("id-token: write"));
}

/// `workflow-id-token-too-broad` offers an unsafe fix: `--fix` alone leaves the workflow as it
/// is; with `--unsafe-fixes` the workflow-level grant moves into the one job that assumes a role.
#[test]
fn id_token_fix_moves_the_grant() {
    let case = fixtures().join("rules/workflow-id-token-too-broad/bad-test-and-deploy");
    let file = ".github/workflows/ci.yml";
    let original = std::fs::read_to_string(case.join(file)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    write_files(tmp.path(), &load_dir(&case));
    let fix = |extra: &[&str]| {
        let out = bin()
            .current_dir(tmp.path())
            .args([
                "--fix",
                "--select",
                "workflow-id-token-too-broad",
                "--color",
                "never",
            ])
            .args(extra)
            .arg(".")
            .output()
            .unwrap();
        assert_ne!(out.status.code(), Some(2), "{out:?}");
        std::fs::read_to_string(tmp.path().join(file)).unwrap()
    };
    assert_eq!(
        fix(&[]),
        original,
        "an unsafe fix applied without --unsafe-fixes"
    );
    let moved = fix(&["--unsafe-fixes"]);
    insta::assert_snapshot!("id-token-moved", moved);
}
