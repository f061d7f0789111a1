//! The example repositories under `fixtures/repos/`: the configurations of the four tutorials
//! this project started from give exactly the expected findings, and the insecure example's
//! human and JSON reports are snapshotted.

mod common;
use common::*;

/// The configurations of the four tutorials this project started from: exactly these findings.
#[test]
fn seed_configurations() {
    let (code, v) = run_json(&fixtures().join("repos/seeds"), &["."]);
    assert_eq!(code, 1);
    assert_eq!(
        hits(&v),
        vec![
            (
                "workflow-deprecated-action".into(),
                ".github/workflows/deploy.yml".into(),
                21
            ),
            (
                "workflow-deprecated-action".into(),
                ".github/workflows/docker-build.yaml".into(),
                19
            ),
            (
                "workflow-deprecated-action".into(),
                ".github/workflows/workshop-ci.yml".into(),
                15
            ),
            (
                "workflow-long-lived-keys".into(),
                ".github/workflows/workshop-ci.yml".into(),
                17
            ),
            (
                "trust-sub-org-wide".into(),
                "iam/ecr-role-trust-all-repos.json".into(),
                15
            ),
            (
                "perm-ecr-wildcard-resource".into(),
                "iam/iam-policy.json".into(),
                7
            ),
        ]
    );
    assert_eq!(v["summary"]["files_scanned"], 8);
}

#[test]
fn human_output_snapshot() {
    let out = bin()
        .args(["--color", "never", "."])
        .current_dir(fixtures().join("repos/insecure-example"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(
        "human-insecure-example",
        String::from_utf8(out.stdout).unwrap()
    );
}

#[test]
fn json_output_snapshot() {
    let (code, v) = run_json(&fixtures().join("repos/insecure-example"), &["."]);
    assert_eq!(code, 1);
    let mut v = v;
    v["tool"]["version"] = "[version]".into();
    insta::assert_json_snapshot!("json-insecure-example", v);
}
