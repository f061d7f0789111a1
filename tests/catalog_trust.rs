//! The trust-policy catalog rules against their fixtures (`fixtures/rules/<id>/{bad,good}/<case>/`,
//! each a small repository): exact `(rule, path, line)` expectations, and a snapshot of each
//! rule's JSON findings (messages, help, fixes).

mod common;
use common::*;

/// `(rule, case, [(path, line)])`: every finding of `rule` in the case, in report order.
/// `good/…` cases expect none.
/// `(rule, case, expected (path, line) findings)`.
type Case = (&'static str, &'static str, &'static [(&'static str, u64)]);

const EXPECTED: &[Case] = &[
    (
        "provider-missing-audience",
        "bad/cfn-github-audience-only",
        &[("infra/oidc-provider.yaml", 8)],
    ),
    (
        "provider-missing-audience",
        "bad/export-without-sts",
        &[("audit/get-open-id-connect-provider.json", 3)],
    ),
    (
        "provider-missing-audience",
        "bad/tf-github-audience-only",
        &[("terraform/github-oidc.tf", 3)],
    ),
    (
        "provider-missing-audience",
        "bad/workflow-custom-audience",
        &[("infra/oidc-provider.yaml", 8)],
    ),
    ("provider-missing-audience", "good/cfn-sts-audience", &[]),
    (
        "provider-missing-audience",
        "good/export-with-audience",
        &[],
    ),
    ("provider-missing-audience", "good/not-github-provider", &[]),
    ("provider-missing-audience", "good/tf-china-audience", &[]),
    (
        "provider-url-invalid",
        "bad/cfn-trailing-slash",
        &[("infra/oidc-provider.yaml", 6)],
    ),
    (
        "provider-url-invalid",
        "bad/cfn-typo-host",
        &[("infra/oidc-provider.yaml", 6)],
    ),
    (
        "provider-url-invalid",
        "bad/export-trailing-slash",
        &[("audit/get-open-id-connect-provider.json", 2)],
    ),
    (
        "provider-url-invalid",
        "bad/tf-http-scheme",
        &[("terraform/github-oidc.tf", 2)],
    ),
    ("provider-url-invalid", "good/cfn-enterprise-slug", &[]),
    ("provider-url-invalid", "good/cfn-ghes", &[]),
    ("provider-url-invalid", "good/export-without-scheme", &[]),
    ("provider-url-invalid", "good/tf-default-url", &[]),
    (
        "trust-aud-mismatch",
        "bad/cfn-github-default-audience",
        &[("cloudformation/github-deploy.yaml", 17)],
    ),
    (
        "trust-aud-mismatch",
        "bad/china-partition",
        &[("iam/cn-trust.json", 12)],
    ),
    (
        "trust-aud-mismatch",
        "bad/https-audience",
        &[("iam/trust.json", 12)],
    ),
    (
        "trust-aud-mismatch",
        "bad/workflow-asks-other-audience",
        &[("iam/trust.json", 12)],
    ),
    (
        "trust-aud-mismatch",
        "good/cfn-provider-lists-audience",
        &[],
    ),
    ("trust-aud-mismatch", "good/china-partition-cn", &[]),
    ("trust-aud-mismatch", "good/ignorecase-and-list", &[]),
    ("trust-aud-mismatch", "good/workflow-custom-audience", &[]),
    (
        "trust-duplicate-key",
        "bad/cfn-json-duplicate-operator",
        &[("cloudformation/github-deploy.template.json", 17)],
    ),
    (
        "trust-duplicate-key",
        "bad/sub-twice-differing-case",
        &[("iam/github-trust.json", 11)],
    ),
    (
        "trust-duplicate-key",
        "bad/tf-jsonencode-duplicate-operator",
        &[("terraform/github-oidc.tf", 10)],
    ),
    (
        "trust-duplicate-key",
        "bad/two-stringequals-blocks",
        &[("iam/github-trust.json", 11)],
    ),
    ("trust-duplicate-key", "good/cfn-json-merged-operator", &[]),
    ("trust-duplicate-key", "good/distinct-operators", &[]),
    (
        "trust-duplicate-key",
        "good/same-key-in-two-statements",
        &[],
    ),
    (
        "trust-duplicate-key",
        "good/tf-policy-document-two-condition-blocks",
        &[],
    ),
    (
        "trust-fail-open-operator",
        "bad/cfn-ifexists-environment",
        &[("cloudformation/github-deploy.yaml", 19)],
    ),
    (
        "trust-fail-open-operator",
        "bad/forallvalues-environment",
        &[("iam/trust.json", 17)],
    ),
    (
        "trust-fail-open-operator",
        "bad/ifexists-job-workflow-ref",
        &[("iam/trust.json", 15)],
    ),
    (
        "trust-fail-open-operator",
        "bad/negated-environment",
        &[("iam/trust.json", 17)],
    ),
    ("trust-fail-open-operator", "good/cfn-plain-operators", &[]),
    ("trust-fail-open-operator", "good/deny-guard", &[]),
    (
        "trust-fail-open-operator",
        "good/negated-sub-exclusion",
        &[],
    ),
    (
        "trust-issuer-mismatch",
        "bad/cfn-slug-provider-default-keys",
        &[
            ("cloudformation/github-deploy.yaml", 17),
            ("cloudformation/github-deploy.yaml", 18),
        ],
    ),
    (
        "trust-issuer-mismatch",
        "bad/enterprise-slug-default-keys",
        &[("iam/trust.json", 12), ("iam/trust.json", 13)],
    ),
    (
        "trust-issuer-mismatch",
        "bad/ghes-with-github-com-keys",
        &[("iam/trust.json", 13)],
    ),
    ("trust-issuer-mismatch", "good/cfn-ghes-keys", &[]),
    ("trust-issuer-mismatch", "good/enterprise-slug-keys", &[]),
    ("trust-issuer-mismatch", "good/two-providers", &[]),
    (
        "trust-principal-wildcard",
        "bad/aws-star",
        &[("iam/cross-account-trust.json", 7)],
    ),
    (
        "trust-principal-wildcard",
        "bad/cfn-federated-star",
        &[("cloudformation/github-deploy.yaml", 13)],
    ),
    (
        "trust-principal-wildcard",
        "bad/star-with-audience-only",
        &[("iam/trust.json", 6)],
    ),
    (
        "trust-principal-wildcard",
        "good/cfn-star-with-source-account",
        &[],
    ),
    ("trust-principal-wildcard", "good/public-bucket-policy", &[]),
    ("trust-principal-wildcard", "good/star-with-org-id", &[]),
    (
        "trust-stringequals-wildcard",
        "bad/cfn-stringequals-star",
        &[("cloudformation/github-deploy.yaml", 18)],
    ),
    (
        "trust-stringequals-wildcard",
        "bad/ignorecase-branch-pattern",
        &[("iam/trust.json", 17)],
    ),
    (
        "trust-stringequals-wildcard",
        "bad/org-pattern-under-stringequals",
        &[("iam/trust.json", 13)],
    ),
    (
        "trust-stringequals-wildcard",
        "bad/tf-policy-document-stringequals",
        &[("terraform/github-oidc.tf", 20)],
    ),
    (
        "trust-stringequals-wildcard",
        "good/cfn-stringlike-star",
        &[],
    ),
    (
        "trust-stringequals-wildcard",
        "good/stringlike-pattern",
        &[],
    ),
    (
        "trust-stringequals-wildcard",
        "good/tf-policy-document-stringlike",
        &[],
    ),
    (
        "trust-stringequals-wildcard",
        "good/wildcard-on-other-key",
        &[],
    ),
    (
        "trust-sub-admits-pull-request",
        "bad/cfn-power-user-pr",
        &[("cloudformation/github-deploy.yaml", 20)],
    ),
    (
        "trust-sub-admits-pull-request",
        "bad/main-and-pull-request",
        &[("iam/deploy-trust.json", 15)],
    ),
    (
        "trust-sub-admits-pull-request",
        "bad/pattern-beside-environment",
        &[("infra/trust.json", 17)],
    ),
    (
        "trust-sub-admits-pull-request",
        "bad/second-statement",
        &[("iam/trust.json", 28)],
    ),
    (
        "trust-sub-admits-pull-request",
        "bad/tf-policy-document-merged",
        &[("terraform/github-oidc.tf", 26)],
    ),
    (
        "trust-sub-admits-pull-request",
        "good/branches-only-pattern",
        &[],
    ),
    (
        "trust-sub-admits-pull-request",
        "good/cfn-read-only-role",
        &[],
    ),
    (
        "trust-sub-admits-pull-request",
        "good/read-only-plan-role",
        &[],
    ),
    (
        "trust-sub-admits-pull-request",
        "good/tf-policy-document-environment",
        &[],
    ),
    (
        "trust-sub-prefix-collision",
        "bad/branch-prefix-immutable",
        &[("deploy/trust-policy.json", 15)],
    ),
    (
        "trust-sub-prefix-collision",
        "bad/cfn-environment-prefix",
        &[("cloudformation/github-deploy.yaml", 19)],
    ),
    (
        "trust-sub-prefix-collision",
        "bad/owner-prefix",
        &[("iam/roles/ci-trust.json", 17)],
    ),
    (
        "trust-sub-prefix-collision",
        "bad/repo-name-prefix",
        &[("infra/iam/payments-deploy-trust.json", 15)],
    ),
    (
        "trust-sub-prefix-collision",
        "good/cfn-release-namespace",
        &[],
    ),
    (
        "trust-sub-prefix-collision",
        "good/delimited-wildcards",
        &[],
    ),
    (
        "trust-sub-prefix-collision",
        "good/immutable-id-wildcards",
        &[],
    ),
    (
        "trust-sub-prefix-collision",
        "good/stringequals-exact-names",
        &[],
    ),
    (
        "trust-sub-repo-wide",
        "bad/cfn-repo-wide",
        &[("cloudformation/github-deploy.yaml", 19)],
    ),
    (
        "trust-sub-repo-wide",
        "bad/github-sample-shape",
        &[("aws/github-actions-role-trust.json", 15)],
    ),
    (
        "trust-sub-repo-wide",
        "bad/immutable-form",
        &[("iam/trust.json", 16), ("iam/trust.json", 17)],
    ),
    ("trust-sub-repo-wide", "good/branch-wildcard-only", &[]),
    (
        "trust-sub-repo-wide",
        "good/cfn-org-wide-is-not-repo-wide",
        &[],
    ),
    ("trust-sub-repo-wide", "good/environment-pinned", &[]),
    ("trust-sub-repo-wide", "good/tag-session-statement", &[]),
    (
        "trust-unanchored-custom-sub",
        "bad/cfn-workflow-claim",
        &[("cloudformation/github-deploy.yaml", 18)],
    ),
    (
        "trust-unanchored-custom-sub",
        "bad/environment-only",
        &[("iam/trust.json", 13)],
    ),
    (
        "trust-unanchored-custom-sub",
        "bad/job-workflow-ref-only",
        &[("iam/trust.json", 15)],
    ),
    (
        "trust-unanchored-custom-sub",
        "bad/workflow-and-ref",
        &[("iam/trust.json", 15)],
    ),
    (
        "trust-unanchored-custom-sub",
        "good/cfn-repository-id-condition",
        &[],
    ),
    (
        "trust-unanchored-custom-sub",
        "good/job-workflow-ref-with-owner",
        &[],
    ),
    ("trust-unanchored-custom-sub", "good/owner-id-anchored", &[]),
    (
        "trust-wrong-action",
        "bad/assume-role",
        &[("iam/trust.json", 9)],
    ),
    (
        "trust-wrong-action",
        "bad/assume-role-statement-beside",
        &[("iam/deploy-trust.json", 20)],
    ),
    (
        "trust-wrong-action",
        "bad/cfn-assume-role",
        &[("cloudformation/github-deploy.yaml", 15)],
    ),
    (
        "trust-wrong-action",
        "bad/extra-assume-role",
        &[("iam/trust.json", 11)],
    ),
    (
        "trust-wrong-action",
        "bad/tf-policy-document-assume-role",
        &[("terraform/github-oidc.tf", 4)],
    ),
    ("trust-wrong-action", "good/aws-principal-assume-role", &[]),
    ("trust-wrong-action", "good/cfn-set-source-identity", &[]),
    ("trust-wrong-action", "good/tag-session-beside", &[]),
    ("trust-wrong-action", "good/tag-session-own-statement", &[]),
    (
        "trust-wrong-action",
        "good/tf-policy-document-tag-session",
        &[],
    ),
];

/// Rules that judge the reach of one `sub` value: each value gets at most one of them.
const SUB_REACH_RULES: &[&str] = &[
    "trust-sub-any-repo",
    "trust-sub-org-wide",
    "trust-sub-prefix-collision",
    "trust-sub-repo-wide",
    "trust-sub-admits-pull-request",
];

fn case_dirs(rule: &str) -> Vec<String> {
    let mut out = Vec::new();
    for kind in ["bad", "good"] {
        let dir = fixtures().join("rules").join(rule).join(kind);
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd {
            out.push(format!(
                "{kind}/{}",
                e.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn fixtures_fire_exactly_where_expected() {
    let mut rules: Vec<&str> = EXPECTED.iter().map(|(r, _, _)| *r).collect();
    rules.dedup();
    for rule in rules {
        assert!(
            oidc_lint::rules::find(rule).is_some(),
            "{rule} not registered"
        );
        let expected: Vec<_> = EXPECTED.iter().filter(|(r, _, _)| *r == rule).collect();
        // Every case directory is listed, and the list has no stale case.
        let listed: Vec<String> = expected.iter().map(|(_, c, _)| c.to_string()).collect();
        assert_eq!(case_dirs(rule), listed, "{rule}: fixture directories");
        let bad = listed.iter().filter(|c| c.starts_with("bad/")).count();
        let good = listed.len() - bad;
        assert!(
            bad >= 2 && good >= 2,
            "{rule}: needs two firing and two quiet cases"
        );
        let mut snap = Vec::new();
        for (_, case, want) in expected {
            let dir = fixtures().join("rules").join(rule).join(case);
            let (code, v) = run_json(&dir, &["."]);
            assert!(
                v["errors"].as_array().unwrap().is_empty(),
                "{rule}/{case}: {v}"
            );
            let got: Vec<(String, u64)> = hits(&v)
                .into_iter()
                .filter(|(r, _, _)| r == rule)
                .map(|(_, p, l)| (p, l))
                .collect();
            let want: Vec<(String, u64)> = want.iter().map(|(p, l)| (p.to_string(), *l)).collect();
            assert_eq!(got, want, "{rule}/{case}: {v:#}");
            if case.starts_with("bad/") {
                assert_ne!(code, 2, "{rule}/{case}");
            }
            // One reach verdict per `sub` value.
            let mut spans: Vec<(String, u64, u64)> = v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| SUB_REACH_RULES.contains(&f["rule"].as_str().unwrap()))
                .map(|f| {
                    (
                        f["path"].as_str().unwrap().to_string(),
                        f["line"].as_u64().unwrap(),
                        f["column"].as_u64().unwrap(),
                    )
                })
                .collect();
            let n = spans.len();
            spans.sort();
            spans.dedup();
            assert_eq!(
                spans.len(),
                n,
                "{rule}/{case}: a sub value reported twice: {v:#}"
            );
            for f in v["findings"].as_array().unwrap() {
                if f["rule"] == rule {
                    snap.push(serde_json::json!({
                        "case": case,
                        "severity": f["severity"],
                        "path": f["path"],
                        "line": f["line"],
                        "column": f["column"],
                        "message": f["message"],
                        "help": f["help"],
                        "fix": f["fix"],
                    }));
                }
            }
        }
        insta::assert_snapshot!(
            format!("json-{rule}"),
            serde_json::to_string_pretty(&snap).unwrap()
        );
    }
}

/// Applying each offered fix (through the library: edits on spans) yields files that still
/// parse, and the finding that offered it is gone.
#[test]
fn fixes_apply_cleanly() {
    use oidc_lint::scan::{ScanOptions, scan};
    let run = |root: &std::path::Path, rule: &str| {
        let s = scan(&ScanOptions {
            root: root.to_path_buf(),
            paths: vec![root.to_path_buf()],
            max_file_size: 1 << 20,
            settings: Default::default(),
        });
        let sel = oidc_lint::Selection {
            select: vec![rule.to_string()],
            ignore: vec![],
        };
        let findings = oidc_lint::check(&s, &sel);
        (s, findings)
    };
    let mut applied = 0;
    for (rule, case, want) in EXPECTED {
        if want.is_empty() {
            continue;
        }
        let src = fixtures().join("rules").join(rule).join(case);
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&src, dir.path());
        let (s, findings) = run(dir.path(), rule);
        let fixable: Vec<_> = findings.iter().filter_map(|f| f.fix.as_ref()).collect();
        if fixable.is_empty() {
            continue;
        }
        let mut by_file: std::collections::BTreeMap<usize, Vec<&oidc_lint::diag::Edit>> =
            Default::default();
        for fix in &fixable {
            for e in &fix.edits {
                by_file.entry(e.file).or_default().push(e);
            }
        }
        for (file, edits) in by_file {
            let f = s.file(file);
            let text = oidc_lint::fix::apply_edits(&f.text, &edits);
            std::fs::write(&f.path, text).unwrap();
        }
        let (s2, after) = run(dir.path(), rule);
        assert!(s2.errors.is_empty(), "{rule}/{case}: {:?}", s2.errors);
        let left = after.iter().filter(|f| f.fix.is_some()).count();
        assert!(
            left < fixable.len(),
            "{rule}/{case}: fixes did not resolve anything: {after:?}"
        );
        applied += 1;
    }
    assert!(applied >= 4, "only {applied} fixture cases exercised a fix");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
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
