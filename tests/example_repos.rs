//! Foundation rules against their fixtures (`fixtures/rules/<id>/{bad,good}-<case>/`, each a
//! small repository): every `bad-*` case fires the rule, every `good-*` case does not, and the
//! exact locations are snapshotted.

mod common;
use common::*;

#[test]
fn rule_fixtures() {
    let root = fixtures().join("rules");
    let mut rule_dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    rule_dirs.sort();
    let mut checked = 0;
    for rule_dir in rule_dirs {
        let rule = rule_dir.file_name().unwrap().to_string_lossy().to_string();
        let mut cases: Vec<_> = std::fs::read_dir(&rule_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy();
                n.starts_with("bad-") || n.starts_with("good-")
            })
            .collect();
        if cases.is_empty() {
            continue;
        }
        cases.sort();
        assert!(
            oidc_lint::rules::find(&rule).is_some(),
            "fixtures for unknown rule {rule}"
        );
        let (mut bad, mut good) = (0, 0);
        let mut snap = String::new();
        for case in cases {
            let name = case.file_name().unwrap().to_string_lossy().to_string();
            let (code, v) = run_json(&case, &["."]);
            assert!(
                v["errors"].as_array().unwrap().is_empty(),
                "{rule}/{name}: {v}"
            );
            let mine: Vec<_> = hits(&v)
                .into_iter()
                .filter(|(r, _, _)| *r == rule)
                .collect();
            if name.starts_with("bad-") {
                bad += 1;
                assert!(!mine.is_empty(), "{rule}/{name} should fire: {v:#}");
                assert_eq!(code, 1, "{rule}/{name}");
            } else {
                good += 1;
                assert!(mine.is_empty(), "{rule}/{name} should be quiet: {mine:?}");
            }
            snap.push_str(&format!("{name}:\n"));
            for (_, path, line) in mine {
                snap.push_str(&format!("  {path}:{line}\n"));
            }
            checked += 1;
        }
        assert!(
            bad >= 2 && good >= 2,
            "{rule}: needs two firing and two quiet fixtures"
        );
        insta::assert_snapshot!(format!("fixtures-{rule}"), snap);
    }
    assert!(checked >= 24);
}

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
                14
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
