//! Discovery, classification, parse errors and exit codes, through the binary.

mod common;
use common::*;

fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

const OPEN_TRUST: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
 "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
 "Action": "sts:AssumeRoleWithWebIdentity",
 "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}]}"#;

#[test]
fn malformed_inputs_exit_2_and_the_rest_is_still_reported() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &files(&[
            (
                ".github/workflows/broken.yml",
                "on: push\njobs:\n  a:\n    steps: [\n",
            ),
            (
                "iam/broken.json",
                "{\n  \"Statement\": [\n    {\"Effect\": \"Allow\",}\n  ]\n}\n",
            ),
            ("iam/trust.json", OPEN_TRUST),
        ]),
    );
    let (code, v) = run_json(dir.path(), &["."]);
    assert_eq!(code, 2);
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{v:#}");
    assert_eq!(errors[0]["path"], ".github/workflows/broken.yml");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid YAML")
    );
    assert!(errors[0]["line"].as_u64().unwrap() >= 4);
    assert_eq!(errors[1]["path"], "iam/broken.json");
    assert_eq!(errors[1]["line"], 3);
    assert!(
        hits(&v)
            .iter()
            .any(|(r, p, _)| r == "trust-missing-sub" && p == "iam/trust.json")
    );
    assert_eq!(v["summary"]["errors"], 2);

    // The human format names file and position on stderr.
    let out = bin()
        .args(["--color", "never", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("error: iam/broken.json:3:"), "{err}");
}

#[test]
fn irrelevant_broken_files_are_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &files(&[
            (
                "tsconfig.json",
                "{\n  // comment\n  \"compilerOptions\": {},\n}\n",
            ),
            ("package.json", "{ \"name\": "),
            ("docs/notes.yml", "a: [\n"),
            ("binary.json", "\u{0}\u{1}\u{2}"),
            ("latin1.json", ""),
        ]),
    );
    std::fs::write(dir.path().join("latin1.json"), b"{\"a\": \"caf\xe9\"}").unwrap();
    let (code, v) = run_json(dir.path(), &["."]);
    assert_eq!(code, 0, "{v:#}");
    assert!(v["errors"].as_array().unwrap().is_empty());
    assert_eq!(v["summary"]["files_scanned"], 0);
}

#[test]
fn gitignore_is_honoured_but_named_files_are_always_scanned() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &files(&[
            (".gitignore", "generated/\n"),
            ("generated/trust.json", OPEN_TRUST),
            ("node_modules/pkg/trust.json", OPEN_TRUST),
        ]),
    );
    let (code, v) = run_json(dir.path(), &["."]);
    assert_eq!(code, 0, "{v:#}");
    let (code, v) = run_json(dir.path(), &["generated/trust.json"]);
    assert_eq!(code, 1);
    assert_eq!(hits(&v)[0].1, "generated/trust.json");
}

#[test]
fn paths_are_relative_to_the_working_directory_outside_a_checkout() {
    // (`tests/repo_paths.rs` covers a checkout: paths from its root)
    let (_, v) = run_json(&fixtures(), &["repos/insecure-example"]);
    let paths: Vec<_> = hits(&v).into_iter().map(|h| h.1).collect();
    assert!(
        paths.contains(&"repos/insecure-example/iam/github-deploy-trust.json".to_string()),
        "{paths:?}"
    );
}

#[test]
fn output_is_deterministic() {
    let run = || {
        bin()
            .args(["--format", "json", "."])
            .current_dir(fixtures())
            .output()
            .unwrap()
            .stdout
    };
    let first = run();
    for _ in 0..3 {
        assert_eq!(first, run());
    }
}

#[test]
fn colour_and_usage() {
    let dir = fixtures().join("repos/insecure-example");
    let out = bin()
        .args(["--color", "always", "."])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\u{1b}["));
    let out = bin()
        .args(["--color", "auto", "."])
        .env("NO_COLOR", "1")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("\u{1b}["));
    let out = bin()
        .args(["--quiet", "--color", "never", "."])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Found "));
    let out = bin()
        .args(["--select", "no-such-rule", "."])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bin().args(["--format", "xml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bin().arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("oidc-lint "));
    let out = bin()
        .args(["--select", "trust-missing-sub", "--format", "json", "."])
        .current_dir(&dir)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(hits(&v).iter().all(|h| h.0 == "trust-missing-sub"));
}

#[test]
fn credentials_are_never_echoed() {
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ9mplEKEY";
    let key = "AKIA2E3A7F3B24TC4Q6K";
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &files(&[(
            ".github/workflows/ci.yml",
            &format!(
                "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    env: {{AWS_ACCESS_KEY_ID: {key}, AWS_SECRET_ACCESS_KEY: {secret}}}\n    steps:\n      - run: aws s3 ls\n"
            ),
        )]),
    );
    for format in ["human", "json"] {
        let out = bin()
            .args(["--color", "never", "--format", format, "."])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("hardcoded-aws-key"), "{text}");
        assert!(
            !text.contains(secret),
            "{format} output echoes the secret:\n{text}"
        );
        assert!(
            !text.contains(key),
            "{format} output echoes the key id:\n{text}"
        );
    }
}

#[test]
fn workflows_are_recognised_when_their_directory_is_scanned() {
    let dir = fixtures().join("repos/insecure-example");
    for target in [
        ".github/workflows",
        ".github/workflows/deploy.yml",
        ".github",
    ] {
        let (_, v) = run_json(&dir, &[target]);
        assert!(
            hits(&v).iter().any(|h| h.0 == "workflow-missing-id-token"),
            "{target}: {v:#}"
        );
    }
}
