//! Every rule against its fixtures, driven by the rule list of the binary (not by the folders).
//!
//! Layout: `fixtures/rules/<id>/bad-<case>/` and `good-<case>/`, each a small repository (trust
//! policies, Terraform, CloudFormation, `.github/workflows/`, an `oidc-lint.toml` when the case
//! needs a configuration). For every rule the binary can report:
//! - its doc page `rules/<id>.md` exists;
//! - it has at least two bad and two good cases (known gaps do not count);
//! - every bad case fires the rule and every good case is quiet, run as
//!   `oidc-lint --format json --select <id> .` inside the case;
//! - one snapshot per rule, `snapshots/rules__<id>.snap`, with one section per case: each
//!   finding as `case: path:line:col severity rule: message`, a quiet case as `case: quiet`.
//!
//! A case the rule gets wrong today stays, listed in `KNOWN_GAPS` with the reason; the test
//! checks it is still wrong, so fixing the rule means deleting the entry.

mod common;
use common::*;
use std::path::{Path, PathBuf};

/// `(rule, case, why)`: a bad case the rule misses, or a good case it flags.
const KNOWN_GAPS: &[(&str, &str, &str)] = &[];

/// Rules that judge the other rules' results: they run with every rule, not `--select`
/// (`unused-suppression` reports nothing for suppressions of rules that did not run).
const OBSERVES_OTHER_RULES: &[&str] = &["unused-suppression"];

/// Rules that judge the reach of one `sub` value: each value gets at most one of them.
const SUB_REACH_RULES: &[&str] = &[
    "trust-sub-any-repo",
    "trust-sub-org-wide",
    "trust-sub-prefix-collision",
    "trust-sub-repo-wide",
    "trust-sub-admits-pull-request",
];

/// Every rule id the binary can report: the rules of its SARIF driver (the registry plus
/// `unused-suppression`), checked against `oidc-lint rules`.
fn all_rules() -> Vec<String> {
    let empty = tempfile::tempdir().unwrap();
    let out = bin()
        .current_dir(empty.path())
        .args(["--format", "sarif", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "empty scan");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<String> = v["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let listed = bin().arg("rules").output().unwrap();
    assert!(listed.status.success());
    for line in String::from_utf8(listed.stdout).unwrap().lines() {
        let id = line.split_whitespace().next().unwrap();
        assert!(
            ids.iter().any(|i| i == id),
            "`rules` lists {id}, SARIF does not"
        );
    }
    assert!(ids.len() >= 38, "only {} rules", ids.len());
    ids
}

fn rules_root() -> PathBuf {
    fixtures().join("rules")
}

/// The case directories of one rule, sorted.
fn cases(rule: &str) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(rules_root().join(rule)) else {
        return vec![];
    };
    let mut v: Vec<String> = rd
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn gap(rule: &str, case: &str) -> Option<&'static str> {
    KNOWN_GAPS
        .iter()
        .find(|(r, c, _)| *r == rule && *c == case)
        .map(|(_, _, why)| *why)
}

fn run_case(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let (code, v) = run_json(dir, args);
    assert!(
        v["errors"].as_array().unwrap().is_empty(),
        "{}: scan errors: {v:#}",
        dir.display()
    );
    (code, v)
}

#[test]
fn every_rule_has_docs_fixtures_and_snapshot() {
    let rules = all_rules();
    // No folder for a rule that does not exist, and no case outside the layout.
    for e in std::fs::read_dir(rules_root()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(rules.contains(&name), "fixtures/rules/{name}: no such rule");
        for case in cases(&name) {
            assert!(
                case.starts_with("bad-") || case.starts_with("good-"),
                "fixtures/rules/{name}/{case}: cases are named bad-<case> or good-<case>"
            );
            assert!(rules_root().join(&name).join(&case).is_dir());
        }
    }
    for (rule, case, _) in KNOWN_GAPS {
        assert!(
            cases(rule).iter().any(|c| c == case),
            "KNOWN_GAPS names a missing case {rule}/{case}"
        );
    }
    let mut missing = Vec::new();
    for rule in &rules {
        let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("rules/{rule}.md"));
        match std::fs::read_to_string(&doc) {
            Ok(text) if text.starts_with(&format!("# {rule}\n")) => {}
            Ok(_) => missing.push(format!(
                "{rule}: rules/{rule}.md must start with `# {rule}`"
            )),
            Err(_) => missing.push(format!("{rule}: no doc page rules/{rule}.md")),
        }
        let all = cases(rule);
        let counted = |kind: &str| {
            all.iter()
                .filter(|c| c.starts_with(kind) && gap(rule, c).is_none())
                .count()
        };
        let (bad, good) = (counted("bad-"), counted("good-"));
        if bad < 2 || good < 2 {
            missing.push(format!(
                "{rule}: {bad} bad and {good} good fixtures under fixtures/rules/{rule}/, need 2 of each"
            ));
        }
    }
    for rule in &rules {
        let mut snap = String::new();
        for case in cases(rule) {
            let dir = rules_root().join(rule).join(&case);
            let args: Vec<&str> = if OBSERVES_OTHER_RULES.contains(&rule.as_str()) {
                vec!["."]
            } else {
                vec!["--select", rule, "."]
            };
            let (code, v) = run_case(&dir, &args);
            let mine: Vec<&serde_json::Value> = v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["rule"] == rule.as_str())
                .collect();
            let bad = case.starts_with("bad-");
            let wrong = if bad {
                mine.is_empty()
            } else {
                !mine.is_empty()
            };
            match gap(rule, &case) {
                None if bad => assert!(!wrong, "{rule}/{case} should fire: {v:#}"),
                None => assert!(!wrong, "{rule}/{case} should be quiet: {mine:#?}"),
                Some(why) => assert!(
                    wrong,
                    "{rule}/{case} now behaves ({why}): remove it from KNOWN_GAPS"
                ),
            }
            if !OBSERVES_OTHER_RULES.contains(&rule.as_str()) {
                // Only this rule ran: exit 1 exactly when it reported a warning or an error.
                let fails = mine.iter().any(|f| f["severity"] != "note");
                assert_eq!(code, i32::from(fails), "{rule}/{case}: exit code");
            }
            if mine.is_empty() {
                let note = gap(rule, &case).map_or(String::new(), |_| " (known gap)".into());
                snap.push_str(&format!("{case}: quiet{note}\n"));
            }
            for f in mine {
                assert!(
                    !f["help"].as_str().unwrap_or("").is_empty(),
                    "{rule}/{case}: finding without help: {f:#}"
                );
                let note = gap(rule, &case).map_or("", |_| " (known gap)");
                snap.push_str(&format!(
                    "{case}: {}:{}:{} {} {}: {}{note}\n",
                    f["path"].as_str().unwrap(),
                    f["line"],
                    f["column"],
                    f["severity"].as_str().unwrap(),
                    rule,
                    f["message"].as_str().unwrap(),
                ));
            }
        }
        insta::assert_snapshot!(rule.as_str(), snap);
    }
    assert!(missing.is_empty(), "\n{}", missing.join("\n"));
}

/// With every rule running, no `sub` value gets two reach verdicts (any repo, org-wide, prefix
/// collision, repo-wide, admits pull requests): the most specific one wins. (One argument of a
/// `module` block with `for_each`/`count` is a value per instance: the same rule may judge each.)
#[test]
fn one_reach_verdict_per_sub_value() {
    for rule in all_rules() {
        for case in cases(&rule) {
            let dir = rules_root().join(&rule).join(&case);
            let (_, v) = run_case(&dir, &["."]);
            let mut verdicts: Vec<(String, u64, u64, String)> = v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| SUB_REACH_RULES.contains(&f["rule"].as_str().unwrap()))
                .map(|f| {
                    (
                        f["path"].as_str().unwrap().to_string(),
                        f["line"].as_u64().unwrap(),
                        f["column"].as_u64().unwrap(),
                        f["rule"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            verdicts.sort();
            verdicts.dedup();
            let mut spans: Vec<(String, u64, u64)> =
                verdicts.into_iter().map(|(p, l, c, _)| (p, l, c)).collect();
            let n = spans.len();
            spans.sort();
            spans.dedup();
            assert_eq!(
                spans.len(),
                n,
                "{rule}/{case}: a sub value judged twice: {v:#}"
            );
        }
    }
}

#[test]
fn rules_list_names_the_issuers_each_rule_covers() {
    let out = bin().args(["rules", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let issuers = |id: &str| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()["issuers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    let every = [
        "github",
        "gitlab",
        "hcp-terraform",
        "circleci",
        "buildkite",
        "bitbucket",
        "custom",
    ];
    assert_eq!(issuers("trust-missing-sub"), every);
    assert_eq!(issuers("perm-admin-access"), every);
    assert_eq!(issuers("trust-sub-prefix-collision"), ["github"]);
    assert!(issuers("trust-duplicate-key").is_empty());
    let text = bin().arg("rules").output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("trust-sub-org-wide "))
        .unwrap();
    assert!(
        line.ends_with(
            "[issuers: github, gitlab, hcp-terraform, circleci, buildkite, bitbucket, custom]"
        ),
        "{line}"
    );
}
