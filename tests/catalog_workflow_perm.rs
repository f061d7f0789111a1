//! Workflow and permission-policy catalog rules against their fixtures
//! (`fixtures/rules/<id>/{bad,good}/<case>/`, each a small repository): exact
//! `(rule, path, line)` per case, a JSON snapshot of every finding per rule, and fixes that
//! apply cleanly and silence the rule.

mod common;
use common::*;
use std::path::Path;

const RULES: &[&str] = &[
    "perm-admin-access",
    "perm-assume-any-role",
    "perm-ecr-auth-token-scoped",
    "perm-ecr-push-incomplete",
    "perm-ecr-wildcard-resource",
    "perm-passrole-wildcard",
    "perm-role-self-modification",
    "workflow-deprecated-action",
    "workflow-id-token-too-broad",
    "workflow-oidc-untrusted-trigger",
    "workflow-role-not-arn",
];

/// `(case, path, line, severity)` of every finding of the rule in its `bad` cases; `good`
/// cases have none.
fn expected(rule: &str) -> Vec<(&'static str, &'static str, u64, &'static str)> {
    match rule {
        "perm-admin-access" => vec![
            (
                "full-admin-json",
                "infra/iam/github-deploy-permissions.json",
                7,
                "error",
            ),
            (
                "star-colon-star-list",
                "aws/roles/ci/policy.json",
                11,
                "error",
            ),
            (
                "terraform-admin-attachment",
                "terraform/github-oidc.tf",
                30,
                "error",
            ),
        ],
        "perm-assume-any-role" => vec![
            ("assume-star", "iam/chain.json", 4, "warning"),
            (
                "cloudformation-json-template",
                "templates/github-role.json",
                29,
                "warning",
            ),
            (
                "sts-star-every-account",
                "org/github/policy.json",
                4,
                "warning",
            ),
        ],
        "perm-ecr-auth-token-scoped" => vec![
            (
                "terraform-jsonencode-login-scoped",
                "terraform/github.tf",
                33,
                "error",
            ),
            ("token-in-push-statement", "iam/ecr-push.json", 14, "error"),
            (
                "token-statement-scoped",
                "aws/github/role-policy.json",
                8,
                "error",
            ),
        ],
        "perm-ecr-push-incomplete" => vec![
            (
                "cloudformation-no-put-image",
                "deploy/github-role.yaml",
                38,
                "warning",
            ),
            ("missing-complete-and-check", "iam/ecr.json", 7, "warning"),
            ("no-login-anywhere", "ops/iam/ecr-push.json", 8, "warning"),
        ],
        "perm-ecr-wildcard-resource" => vec![
            (
                "cloudformation-push-on-star",
                "infra/ecr-publisher.yml",
                36,
                "warning",
            ),
            ("ecr-star-on-star", "deploy/aws/ecr.json", 5, "warning"),
            ("push-on-star", "iam/ecr-push-policy.json", 14, "warning"),
        ],
        "perm-passrole-wildcard" => vec![
            (
                "ecs-deploy-passrole-star",
                "iam/ecs-deploy.json",
                13,
                "warning",
            ),
            (
                "iam-wildcard-any-role",
                "infra/github/lambda-deploy.json",
                12,
                "warning",
            ),
            (
                "terraform-policy-document",
                "terraform/github-actions.tf",
                30,
                "warning",
            ),
        ],
        "perm-role-self-modification" => vec![
            (
                "iam-star-on-all-roles",
                "platform/aws/github-policy.json",
                4,
                "error",
            ),
            (
                "put-role-policy-star",
                "iam/terraform-apply.json",
                12,
                "error",
            ),
            ("terraform-own-arn", "terraform/ci-role.tf", 33, "error"),
        ],
        "workflow-deprecated-action" => vec![
            (
                "composite-node20-and-sha",
                ".github/actions/aws/action.yml",
                6,
                "warning",
            ),
            (
                "composite-node20-and-sha",
                ".github/actions/aws/action.yml",
                10,
                "note",
            ),
            ("old-majors", ".github/workflows/build.yml", 13, "warning"),
            ("old-majors", ".github/workflows/build.yml", 18, "warning"),
        ],
        "workflow-id-token-too-broad" => vec![
            ("test-and-deploy", ".github/workflows/ci.yml", 7, "warning"),
            ("write-all", ".github/workflows/release.yaml", 5, "warning"),
        ],
        "workflow-oidc-untrusted-trigger" => vec![
            (
                "prt-checks-out-head",
                ".github/workflows/preview.yml",
                7,
                "error",
            ),
            (
                "prt-two-jobs-warning",
                ".github/workflows/label-and-notify.yml",
                18,
                "warning",
            ),
            (
                "workflow-run-downloads-artifacts",
                ".github/workflows/publish-coverage.yml",
                12,
                "error",
            ),
        ],
        "workflow-role-not-arn" => vec![
            (
                "bare-role-name",
                ".github/workflows/deploy.yml",
                17,
                "error",
            ),
            (
                "composite-templated-name",
                ".github/actions/aws-login/action.yml",
                12,
                "error",
            ),
        ],
        _ => panic!("no expectations for {rule}"),
    }
}

fn cases(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut v: Vec<String> = rd
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn fixtures_fire_exactly_where_expected() {
    for rule in RULES {
        assert!(
            oidc_lint::rules::find(rule).is_some(),
            "{rule} not registered"
        );
        let root = fixtures().join("rules").join(rule);
        let bad = cases(&root.join("bad"));
        let good = cases(&root.join("good"));
        assert!(
            bad.len() >= 2 && good.len() >= 2,
            "{rule}: needs two firing and two quiet fixtures"
        );
        let mut got = Vec::new();
        let mut snapshot = serde_json::Map::new();
        for (kind, list) in [("bad", &bad), ("good", &good)] {
            for case in list {
                let (code, v) = run_json(&root.join(kind).join(case), &["."]);
                assert!(
                    v["errors"].as_array().unwrap().is_empty(),
                    "{rule}/{kind}/{case}: {v}"
                );
                let mine: Vec<serde_json::Value> = v["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|f| f["rule"] == *rule)
                    .cloned()
                    .collect();
                if kind == "good" {
                    assert!(
                        mine.is_empty(),
                        "{rule}/good/{case} should be quiet: {mine:#?}"
                    );
                    continue;
                }
                assert!(!mine.is_empty(), "{rule}/bad/{case} should fire");
                if mine.iter().any(|f| f["severity"] != "note") {
                    assert_eq!(code, 1, "{rule}/bad/{case}");
                }
                for f in &mine {
                    got.push((
                        case.clone(),
                        f["path"].as_str().unwrap().to_string(),
                        f["line"].as_u64().unwrap(),
                        f["severity"].as_str().unwrap().to_string(),
                    ));
                    assert!(
                        !f["help"].as_str().unwrap().is_empty(),
                        "{rule}/{case}: help line"
                    );
                }
                snapshot.insert(case.clone(), serde_json::Value::Array(mine));
            }
        }
        let want: Vec<(String, String, u64, String)> = expected(rule)
            .into_iter()
            .map(|(c, p, l, s)| (c.to_string(), p.to_string(), l, s.to_string()))
            .collect();
        assert_eq!(got, want, "{rule}");
        insta::assert_json_snapshot!(format!("catalog-{rule}"), snapshot);
    }
}

/// Every fix these rules offer applies, leaves a file that still parses, and silences the
/// finding it was made for.
#[test]
fn fixes_apply_and_silence_the_rule() {
    let mut fixed = 0;
    for rule in RULES {
        let root = fixtures().join("rules").join(rule).join("bad");
        for case in cases(&root) {
            let tmp = tempfile::tempdir().unwrap();
            copy_dir(&root.join(&case), tmp.path());
            let opts = || oidc_lint::scan::ScanOptions {
                root: tmp.path().to_path_buf(),
                paths: vec![tmp.path().to_path_buf()],
                max_file_size: 10 << 20,
                settings: Default::default(),
            };
            let sel = oidc_lint::Selection {
                select: vec![rule.to_string()],
                ignore: vec![],
            };
            let scan = oidc_lint::scan::scan(&opts());
            let findings = oidc_lint::check(&scan, &sel);
            let with_fix: Vec<_> = findings.iter().filter(|f| f.fix.is_some()).collect();
            if with_fix.is_empty() {
                continue;
            }
            let mut by_file: std::collections::BTreeMap<usize, Vec<&oidc_lint::diag::Edit>> =
                Default::default();
            for f in &with_fix {
                for e in &f.fix.as_ref().unwrap().edits {
                    by_file.entry(e.file).or_default().push(e);
                }
            }
            for (file, edits) in by_file {
                let src = scan.file(file);
                let out = oidc_lint::fix::apply_edits(&src.text, &edits);
                std::fs::write(&src.path, out).unwrap();
            }
            let again = oidc_lint::scan::scan(&opts());
            assert!(again.errors.is_empty(), "{rule}/{case}: fix broke parsing");
            let after = oidc_lint::check(&again, &sel);
            assert!(
                after.len() < findings.len(),
                "{rule}/{case}: fix did not silence the finding"
            );
            fixed += 1;
        }
    }
    // auth-token-scoped (JSON, HCL), deprecated-action (two cases), id-token-too-broad
    assert_eq!(fixed, 5);
}

#[test]
fn id_token_fix_moves_the_grant() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(
        &fixtures().join("rules/workflow-id-token-too-broad/bad/test-and-deploy"),
        tmp.path(),
    );
    let opts = oidc_lint::scan::ScanOptions {
        root: tmp.path().to_path_buf(),
        paths: vec![tmp.path().to_path_buf()],
        max_file_size: 10 << 20,
        settings: Default::default(),
    };
    let scan = oidc_lint::scan::scan(&opts);
    let sel = oidc_lint::Selection {
        select: vec!["workflow-id-token-too-broad".into()],
        ignore: vec![],
    };
    let f = oidc_lint::check(&scan, &sel);
    let fix = f[0].fix.as_ref().unwrap();
    assert!(!fix.safe);
    let edits: Vec<_> = fix.edits.iter().collect();
    let out = oidc_lint::fix::apply_edits(&scan.file(0).text, &edits);
    insta::assert_snapshot!("catalog-id-token-moved", out);
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}
