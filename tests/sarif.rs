//! `--format sarif`: snapshot, schema validation (also on the shared corpus when present),
//! UTF-16 columns, fingerprints that survive edits above a finding, fixes and related locations.

mod common;
use common::*;
use serde_json::Value;

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/sarif-schema-2.1.0.json"),
        )
        .unwrap(),
    )
    .unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn assert_valid(v: &Value) {
    let errors: Vec<String> = validator()
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF does not validate:\n{}",
        errors.join("\n")
    );
}

fn sarif(dir: &std::path::Path, args: &[&str]) -> (i32, Value) {
    let out = bin()
        .current_dir(dir)
        .args(["--format", "sarif"])
        .args(args)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad SARIF ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap_or(-1), v)
}

#[test]
fn insecure_example_snapshot_validates() {
    // run at the example repository's root, as code scanning runs in a checkout
    let (code, v) = sarif(&fixtures().join("repos/insecure-example"), &["."]);
    assert_eq!(code, 1);
    assert_valid(&v);
    let run = &v["runs"][0];
    assert_eq!(run["columnKind"], "utf16CodeUnits");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), oidc_lint::cli::all_meta().len());
    for r in rules {
        let id = r["id"].as_str().unwrap();
        assert!(
            r["helpUri"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/rules/{id}.md"))
        );
        let sev: f64 = r["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&sev));
        assert!(!r["help"]["markdown"].as_str().unwrap().is_empty());
    }
    for res in run["results"].as_array().unwrap() {
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], res["ruleId"]);
        assert_eq!(
            res["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"],
            "%SRCROOT%"
        );
        assert!(
            res["partialFingerprints"]["oidcLint/v1"]
                .as_str()
                .unwrap()
                .len()
                == 32
        );
    }
    // Driver rule text is long and covered by the docs; the snapshot keeps the results.
    insta::assert_json_snapshot!("sarif-insecure-example-results", run["results"]);
}

#[test]
fn columns_are_utf16_code_units() {
    let dir = tempfile::tempdir().unwrap();
    // `🔐` is one char, four UTF-8 bytes and two UTF-16 units.
    let trust = "{\"Statement\": [{\"Sid\": \"🔐é\", \"Effect\": \"Allow\", \"Principal\": {\"Federated\": \"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com\"}, \"Action\": \"sts:AssumeRoleWithWebIdentity\", \"Condition\": {\"StringLike\": {\"token.actions.githubusercontent.com:aud\": \"sts.amazonaws.com\", \"token.actions.githubusercontent.com:sub\": \"repo:*\"}}}]}";
    write_files(dir.path(), &[("iam/t.json".into(), trust.into())]);
    let (_, v) = sarif(dir.path(), &["."]);
    assert_valid(&v);
    let (_, j) = run_json(dir.path(), &["."]);
    let res = &v["runs"][0]["results"][0];
    let region = &res["locations"][0]["physicalLocation"]["region"];
    let char_col = j["findings"][0]["column"].as_u64().unwrap();
    // One astral character before the span: UTF-16 column is one more than the char column.
    assert_eq!(region["startColumn"].as_u64().unwrap(), char_col + 1);
    let at = trust.find("\"repo:*\"").unwrap();
    let utf16_col = trust[..at].encode_utf16().count() as u64 + 1;
    assert_eq!(region["startColumn"].as_u64().unwrap(), utf16_col);
}

fn fingerprints(v: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap().to_string(),
                r["partialFingerprints"]["oidcLint/v1"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

const TRUST: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}}
    }
  ]
}
"#;

#[test]
fn fingerprints_survive_edits_above_and_moves() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("iam/trust.json".into(), TRUST.into())]);
    let (_, before) = sarif(dir.path(), &["."]);
    assert!(!fingerprints(&before).is_empty());
    // Unrelated statement inserted above, whitespace changed, lines shifted.
    let moved = TRUST.replace(
        "  \"Statement\": [\n",
        "  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Principal\": {\"Service\": \"ec2.amazonaws.com\"},\n     \"Action\": \"sts:AssumeRole\"},\n\n\n",
    );
    write_files(dir.path(), &[("iam/trust.json".into(), moved)]);
    let (_, after) = sarif(dir.path(), &["."]);
    let after_line =
        after["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"]
            .clone();
    let before_line = before["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
        ["startLine"]
        .clone();
    assert_ne!(after_line, before_line, "the edit must move the finding");
    assert_eq!(fingerprints(&before), fingerprints(&after));
    // Changing the offending text changes the fingerprint.
    write_files(
        dir.path(),
        &[("iam/trust.json".into(), TRUST.replace("repo:*", "repo:*:*"))],
    );
    let (_, changed) = sarif(dir.path(), &["."]);
    let a = fingerprints(&before);
    let b = fingerprints(&changed);
    let any_repo = |v: &[(String, String)]| v.iter().find(|x| x.0 == "trust-sub-any-repo").cloned();
    assert_ne!(any_repo(&a), any_repo(&b));
}

#[test]
fn fixes_and_related_locations() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[(
            ".github/workflows/deploy.yml".into(),
            "on: push\npermissions:\n  contents: read\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          role-to-assume: arn:aws:iam::123456789012:role/deploy\n          aws-region: eu-west-1\n".into(),
        )],
    );
    let (_, v) = sarif(dir.path(), &["."]);
    assert_valid(&v);
    let res = &v["runs"][0]["results"][0];
    assert_eq!(res["ruleId"], "workflow-missing-id-token");
    let change = &res["fixes"][0]["artifactChanges"][0];
    assert_eq!(
        change["artifactLocation"]["uri"],
        ".github/workflows/deploy.yml"
    );
    assert!(
        change["replacements"][0]["insertedContent"]["text"]
            .as_str()
            .unwrap()
            .contains("id-token: write")
    );
    if let Some(rel) = res["relatedLocations"].as_array() {
        for (i, l) in rel.iter().enumerate() {
            assert_eq!(l["id"], i + 1);
            assert!(l["message"]["text"].as_str().is_some());
        }
    }
}

#[test]
fn tool_errors_are_notifications() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[(".github/workflows/x.yml".into(), "jobs: [\n".into())],
    );
    let (code, v) = sarif(dir.path(), &["."]);
    assert_eq!(code, 2);
    assert_valid(&v);
    let inv = &v["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    assert_eq!(inv["toolExecutionNotifications"][0]["level"], "error");
}

/// A syntax error's column counts UTF-16 code units in SARIF, characters in JSON.
#[test]
fn tool_error_columns_are_utf16_in_sarif() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[(
            ".github/workflows/x.yml".into(),
            "on: push\njobs:\n  a: {x: \"\u{1F600}\", y: ]}\n".into(),
        )],
    );
    let (code, v) = sarif(dir.path(), &["."]);
    assert_eq!(code, 2);
    assert_valid(&v);
    let region = &v["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]
        ["region"];
    let (_, j) = run_json(dir.path(), &["."]);
    let column = j["errors"][0]["column"].as_u64().unwrap();
    assert_eq!(j["errors"][0]["line"], 3);
    assert_eq!(region["startLine"], 3);
    // the emoji before the error is one character, two UTF-16 code units
    assert_eq!(region["startColumn"].as_u64().unwrap(), column + 1);
}

/// The shared corpus (1,866 real files) when this machine has it; skipped with a message
/// otherwise. Set OIDC_LINT_CORPUS to point elsewhere.
#[test]
fn corpus_sarif_validates() {
    let corpus = std::env::var("OIDC_LINT_CORPUS").unwrap_or_else(|_| "/work/shared/corpus".into());
    let path = std::path::Path::new(&corpus);
    if !path.is_dir() {
        eprintln!("SKIPPED corpus_sarif_validates: no corpus at {corpus} (set OIDC_LINT_CORPUS)");
        return;
    }
    let (code, v) = sarif(path, &["."]);
    assert!(matches!(code, 0..=2), "exit {code}");
    assert_valid(&v);
    let n = v["runs"][0]["results"].as_array().unwrap().len();
    eprintln!("corpus SARIF: {n} results, valid");
}

#[test]
fn the_validator_rejects_bad_sarif() {
    let (_, mut v) = sarif(&fixtures().join("repos/insecure-example"), &["."]);
    v["runs"][0]["results"][0]["level"] = "fatal".into();
    v["runs"][0]["columnKind"] = "bytes".into();
    assert!(validator().iter_errors(&v).count() >= 2);
}
