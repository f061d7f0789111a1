//! Exit policy, `--output`, inline suppressions, unused suppressions and the baseline.

mod common;
use common::*;

const WF_MISSING: &str = "on: push\npermissions:\n  contents: read\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v6\n        with:\n          role-to-assume: arn:aws:iam::123456789012:role/deploy\n          aws-region: eu-west-1\n";

const TRUST_ORG: &str = r#"{
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/*"}}
    }
  ]
}
"#;

fn code(dir: &std::path::Path, args: &[&str]) -> i32 {
    bin()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
        .status
        .code()
        .unwrap()
}

#[test]
fn exit_codes_for_each_policy() {
    // One warning (trust-sub-org-wide) only.
    let warn = tempfile::tempdir().unwrap();
    write_files(warn.path(), &[("iam/t.json".into(), TRUST_ORG.into())]);
    assert_eq!(code(warn.path(), &["."]), 1, "default fail-on is warning");
    assert_eq!(code(warn.path(), &["--fail-on", "warning", "."]), 1);
    assert_eq!(code(warn.path(), &["--fail-on", "note", "."]), 1);
    assert_eq!(code(warn.path(), &["--fail-on", "error", "."]), 0);
    assert_eq!(code(warn.path(), &["--fail-on", "never", "."]), 0);
    assert_eq!(code(warn.path(), &["--exit-zero", "."]), 0);
    // An error finding.
    let err = tempfile::tempdir().unwrap();
    write_files(
        err.path(),
        &[(".github/workflows/d.yml".into(), WF_MISSING.into())],
    );
    assert_eq!(code(err.path(), &["--fail-on", "error", "."]), 1);
    // A note only fails at --fail-on note.
    let note = tempfile::tempdir().unwrap();
    let wf = WF_MISSING
        .replace(
            "  contents: read\n",
            "  contents: read\n  id-token: write\n",
        )
        .replace(
            "      - uses",
            "      # oidc-lint: ignore[trust-missing-sub] stale\n      - uses",
        );
    write_files(note.path(), &[(".github/workflows/d.yml".into(), wf)]);
    let (c, v) = run_json(note.path(), &["."]);
    assert_eq!(c, 0, "{v:#}");
    assert_eq!(hits(&v).len(), 1);
    assert_eq!(v["findings"][0]["severity"], "note");
    assert_eq!(code(note.path(), &["--fail-on", "note", "."]), 1);
    // Input errors exit 2 whatever the policy.
    let broken = tempfile::tempdir().unwrap();
    write_files(
        broken.path(),
        &[(".github/workflows/b.yml".into(), "jobs: [\n".into())],
    );
    assert_eq!(code(broken.path(), &["--exit-zero", "."]), 2);
    assert_eq!(code(broken.path(), &["--fail-on", "never", "."]), 2);
    // Usage errors exit 2.
    assert_eq!(code(warn.path(), &["--fail-on", "sometimes", "."]), 2);
    assert_eq!(code(warn.path(), &["--unsafe-fixes", "."]), 2);
}

#[test]
fn output_file_gets_the_report_and_the_terminal_human_text() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("iam/t.json".into(), TRUST_ORG.into())]);
    let out = bin()
        .current_dir(dir.path())
        .args([
            "--format",
            "sarif",
            "--output",
            "out/report.sarif",
            "--color",
            "never",
            ".",
        ])
        .output();
    // The directory must exist: the temp file is created beside the target.
    assert_eq!(out.unwrap().status.code(), Some(2));
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let out = bin()
        .current_dir(dir.path())
        .args([
            "--format",
            "sarif",
            "--output",
            "out/report.sarif",
            "--color",
            "never",
            ".",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let sarif: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/report.sarif")).unwrap(),
    )
    .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("warning[trust-sub-org-wide]"), "{stdout}");
    // No temp file is left behind.
    assert_eq!(
        std::fs::read_dir(dir.path().join("out")).unwrap().count(),
        1
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(dir.path().join("out/report.sarif")).unwrap();
        assert_eq!(
            meta.permissions().mode() & 0o777,
            0o644,
            "a new report is world-readable"
        );
    }
}

#[test]
fn yaml_comment_suppressions() {
    let dir = tempfile::tempdir().unwrap();
    let above = WF_MISSING.replace(
        "      - uses",
        "      # oidc-lint: ignore[workflow-missing-id-token] roles come from the runner\n      - uses",
    );
    write_files(dir.path(), &[(".github/workflows/d.yml".into(), above)]);
    let (c, v) = run_json(dir.path(), &["--show-suppressed", "."]);
    assert_eq!(c, 0, "{v:#}");
    assert!(hits(&v).is_empty());
    assert_eq!(v["suppressed"][0]["rule"], "workflow-missing-id-token");
    assert_eq!(v["suppressed"][0]["reason"], "roles come from the runner");
    // On the line itself.
    let same = WF_MISSING.replace(
        "      - uses: aws-actions/configure-aws-credentials@v6\n",
        "      - uses: aws-actions/configure-aws-credentials@v6 # oidc-lint: ignore[workflow-missing-id-token]\n",
    );
    write_files(dir.path(), &[(".github/workflows/d.yml".into(), same)]);
    let (c, _) = run_json(dir.path(), &["."]);
    assert_eq!(c, 0);
    // Human output lists suppressed findings on request.
    let out = bin()
        .current_dir(dir.path())
        .args(["--color", "never", "--show-suppressed", "."])
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        s.contains("suppressed (in source): .github/workflows/d.yml:8:"),
        "{s}"
    );
}

#[test]
fn hash_inside_a_scalar_is_not_a_comment() {
    let dir = tempfile::tempdir().unwrap();
    let wf = WF_MISSING
        .replace(
            "          aws-region: eu-west-1\n",
            "          aws-region: eu-west-1\n          role-session-name: \"x # oidc-lint: ignore[workflow-missing-id-token]\"\n",
        )
        .replace(
            "      - uses",
            "      - run: |\n          echo # oidc-lint: ignore[workflow-missing-id-token]\n      - uses",
        );
    write_files(dir.path(), &[(".github/workflows/d.yml".into(), wf)]);
    let (c, v) = run_json(dir.path(), &["."]);
    assert_eq!(c, 1, "{v:#}");
    assert!(
        hits(&v).iter().any(|h| h.0 == "workflow-missing-id-token"),
        "{v:#}"
    );
    assert!(
        !hits(&v).iter().any(|h| h.0 == "unused-suppression"),
        "{v:#}"
    );
}

#[test]
fn unused_suppressions_are_notes_unless_their_rule_did_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let wf = WF_MISSING
        .replace(
            "  contents: read\n",
            "  contents: read\n  id-token: write\n",
        )
        .replace(
            "      - uses",
            "      # oidc-lint: ignore[workflow-long-lived-keys, no-such-rule]\n      - uses",
        );
    write_files(dir.path(), &[(".github/workflows/d.yml".into(), wf)]);
    let (_, v) = run_json(dir.path(), &["."]);
    let msgs: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(hits(&v).len(), 2, "{v:#}");
    assert!(
        hits(&v)
            .iter()
            .all(|h| h.0 == "unused-suppression" && h.2 == 9)
    );
    assert!(
        msgs[0].contains("workflow-long-lived-keys") && msgs[1].contains("no-such-rule"),
        "{msgs:?}"
    );
    // Column points at the rule id.
    assert_eq!(v["findings"][0]["column"], 27);
    let (_, v) = run_json(dir.path(), &["--ignore", "workflow-long-lived-keys", "."]);
    assert_eq!(
        hits(&v).len(),
        1,
        "a rule that did not run is not unused: {v:#}"
    );
    let (_, v) = run_json(dir.path(), &["--ignore", "unused-suppression", "."]);
    assert!(hits(&v).is_empty());
}

#[test]
fn baseline_hides_known_findings_even_when_code_moves() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("iam/t.json".into(), TRUST_ORG.into()),
            (".github/workflows/d.yml".into(), WF_MISSING.into()),
        ],
    );
    let out = bin()
        .current_dir(dir.path())
        .args(["--write-baseline", "baseline.json", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("baseline.json")).unwrap())
            .unwrap();
    assert_eq!(b["version"], 1);
    assert_eq!(b["findings"].as_array().unwrap().len(), 2);
    let (c, v) = run_json(dir.path(), &["--baseline", "baseline.json", "."]);
    assert_eq!(c, 0, "{v:#}");
    // Move code: a comment and an unrelated job above; reindent the JSON.
    let moved_wf = WF_MISSING.replace(
        "jobs:\n",
        "# lint job added later\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make lint\n",
    );
    let moved_trust = format!("\n\n{}", TRUST_ORG.replace("\n    ", "\n        "));
    write_files(
        dir.path(),
        &[
            ("iam/t.json".into(), moved_trust),
            (".github/workflows/d.yml".into(), moved_wf.clone()),
        ],
    );
    let (c, v) = run_json(dir.path(), &["--baseline", "baseline.json", "."]);
    assert_eq!(c, 0, "moved findings resurfaced: {v:#}");
    // A new finding is reported.
    let new_wf = format!(
        "{moved_wf}  second:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v6\n        with:\n          role-to-assume: arn:aws:iam::123456789012:role/other\n          aws-region: eu-west-1\n"
    );
    write_files(dir.path(), &[(".github/workflows/d.yml".into(), new_wf)]);
    let (c, v) = run_json(dir.path(), &["--baseline", "baseline.json", "."]);
    assert_eq!(c, 1);
    assert_eq!(hits(&v).len(), 1, "{v:#}");
    // A broken baseline is a usage error.
    std::fs::write(dir.path().join("bad.json"), "{}").unwrap();
    assert_eq!(code(dir.path(), &["--baseline", "bad.json", "."]), 2);
}

const TF: &str = r#"resource "aws_iam_role" "deploy" {
  name        = "deploy"
  description = "not a comment: # oidc-lint: ignore[trust-missing-aud]"
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringLike = { "token.actions.githubusercontent.com:sub" = "repo:acme/app:ref:refs/heads/main" }
      }
    }]
  })
}
"#;

#[test]
fn hcl_comment_suppressions() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("infra/main.tf".into(), TF.into())]);
    let (c, v) = run_json(dir.path(), &["."]);
    assert_eq!(c, 1, "a `#` inside an HCL string is not a comment: {v:#}");
    assert_eq!(
        hits(&v),
        vec![("trust-missing-aud".into(), "infra/main.tf".into(), 7)]
    );
    for comment in [
        "      # oidc-lint: ignore[trust-missing-aud] audience pinned by an SCP\n",
        "      // oidc-lint: ignore[trust-missing-aud] audience pinned by an SCP\n",
    ] {
        let tf = TF.replace("      Principal", &format!("{comment}      Principal"));
        write_files(dir.path(), &[("infra/main.tf".into(), tf)]);
        let (c, v) = run_json(dir.path(), &["--show-suppressed", "."]);
        assert_eq!(c, 0, "{comment}{v:#}");
        assert_eq!(v["suppressed"][0]["reason"], "audience pinned by an SCP");
    }
}

const CFN: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Resources:
  DeployRole:
    Type: AWS::IAM::Role
    Metadata:
      oidc-lint:
        ignore: [trust-missing-aud]
        reason: audience pinned by an SCP
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal:
              Federated: arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com
            Action: sts:AssumeRoleWithWebIdentity
            Condition:
              StringLike:
                token.actions.githubusercontent.com:sub: repo:acme/app:ref:refs/heads/main
"#;

#[test]
fn cloudformation_metadata_suppressions() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("cfn/role.yaml".into(), CFN.into())]);
    let (c, v) = run_json(dir.path(), &["--show-suppressed", "."]);
    assert_eq!(c, 0, "{v:#}");
    assert_eq!(v["suppressed"][0]["rule"], "trust-missing-aud");
    assert_eq!(v["suppressed"][0]["reason"], "audience pinned by an SCP");
    // Without the metadata the finding is there; with a stale entry it is an unused note.
    let plain = CFN.replace(
        "        ignore: [trust-missing-aud]\n",
        "        ignore: [trust-sub-org-wide]\n",
    );
    write_files(dir.path(), &[("cfn/role.yaml".into(), plain)]);
    let (c, v) = run_json(dir.path(), &["."]);
    assert_eq!(c, 1);
    let rules: Vec<String> = hits(&v).into_iter().map(|h| h.0).collect();
    assert_eq!(
        rules,
        vec!["unused-suppression", "trust-missing-aud"],
        "{v:#}"
    );
}
