//! Hostile inputs: fixes. A fix never widens who can assume a role, fixes converge, fix
//! construction stays linear on one-line files, and `--fix`/`--diff`/`--output` write only
//! where intended.

#[allow(unused_imports)]
use super::common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Rules that say a trust policy admits more than it should.
const OPEN_TRUST: &[&str] = &[
    "trust-sub-any-repo",
    "trust-sub-org-wide",
    "trust-sub-repo-wide",
    "trust-missing-sub",
    "trust-principal-wildcard",
    "trust-fail-open-operator",
    "trust-sub-untrusted-owner",
    "trust-sub-admits-pull-request",
    "trust-sub-prefix-collision",
    "trust-unanchored-custom-sub",
    "role-trust-wider-than-use",
    "role-trust-admits-untrusted-events",
];

/// Every fixture case: a directory scanned on its own.
fn fixture_cases() -> Vec<PathBuf> {
    let root = fixtures();
    let subdirs = |d: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        v.sort();
        v
    };
    let mut cases = Vec::new();
    for group in subdirs(&root) {
        for d in subdirs(&group) {
            let split: Vec<PathBuf> = subdirs(&d)
                .into_iter()
                .filter(|c| matches!(c.file_name().and_then(|n| n.to_str()), Some("bad" | "good")))
                .collect();
            if split.is_empty() {
                cases.push(d);
            } else {
                for s in split {
                    cases.extend(subdirs(&s));
                }
            }
        }
    }
    cases
}

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// (rule, path) → how many open-trust findings.
fn open_trust(v: &serde_json::Value) -> BTreeMap<(String, String), usize> {
    let mut m = BTreeMap::new();
    for (rule, path, _) in hits(v) {
        if OPEN_TRUST.contains(&rule.as_str()) {
            *m.entry((rule, path)).or_insert(0) += 1;
        }
    }
    m
}

#[test]
fn unsafe_fixes_never_open_trust_on_any_fixture() {
    let cases = fixture_cases();
    assert!(cases.len() > 100, "found only {} fixture cases", cases.len());
    let mut fixed_somewhere = 0;
    for case in cases {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&case, dir.path());
        let (_, before) = run_json(dir.path(), &["."]);
        let out = bin()
            .current_dir(dir.path())
            .args(["--fix", "--unsafe-fixes", "--color", "never", "."])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        if stderr.contains("Fixed") {
            fixed_somewhere += 1;
        }
        let (_, after) = run_json(dir.path(), &["."]);
        let (b, a) = (open_trust(&before), open_trust(&after));
        for (k, n) in &a {
            assert!(
                b.get(k).copied().unwrap_or(0) >= *n,
                "{}: --fix --unsafe-fixes opened trust: {k:?} went from {} to {n}\n{stderr}\n{after:#}",
                case.display(),
                b.get(k).copied().unwrap_or(0)
            );
        }
        // Converged: a second run changes nothing.
        let files = snapshot(dir.path());
        let out2 = bin()
            .current_dir(dir.path())
            .args(["--fix", "--unsafe-fixes", "--color", "never", "."])
            .output()
            .unwrap();
        assert_eq!(
            snapshot(dir.path()),
            files,
            "{}: a second --fix changed files\n{}",
            case.display(),
            String::from_utf8_lossy(&out2.stderr)
        );
    }
    assert!(fixed_somewhere > 10, "only {fixed_somewhere} cases had fixes");
}

/// The cases of the issue: a `StringEquals` wildcard is broken but closed; a fix must not turn
/// it into a `StringLike` that admits every repository (or every repository of an owner).
#[test]
fn a_closed_stringequals_wildcard_stays_closed() {
    for value in ["*", "repo:*", "repo:myOrg*", "repo:myOrg/*", "repo:myOrg/app:*"] {
        let dir = tempfile::tempdir().unwrap();
        let policy = format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow",
  "Principal": {{"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}},
  "Action": "sts:AssumeRoleWithWebIdentity",
  "Condition": {{"StringEquals": {{"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
    "token.actions.githubusercontent.com:sub": "{value}"}}}}}}]}}
"#
        );
        write_files(dir.path(), &[("iam/trust.json".into(), policy.clone())]);
        let out = bin()
            .current_dir(dir.path())
            .args(["--fix", "--unsafe-fixes", "."])
            .output()
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("iam/trust.json")).unwrap(),
            policy,
            "{value}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `sts:AssumeRole` under a federated principal is closed; the action fix is offered only when
/// the statement names exact subjects, never for one that would admit any repository.
#[test]
fn the_action_fix_does_not_open_a_wide_statement() {
    for cond in [
        "",
        r#","Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}}"#,
        r#","Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/*"}}"#,
        r#","Condition": {"StringEqualsIfExists": {"token.actions.githubusercontent.com:sub": "repo:acme/app:ref:refs/heads/main"}}"#,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let policy = format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow",
  "Principal": {{"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}},
  "Action": "sts:AssumeRole"{cond}}}]}}
"#
        );
        write_files(dir.path(), &[("iam/trust.json".into(), policy.clone())]);
        bin()
            .current_dir(dir.path())
            .args(["--fix", "--unsafe-fixes", "."])
            .output()
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("iam/trust.json")).unwrap(),
            policy,
            "{cond}"
        );
    }
}

#[allow(dead_code)]
const HANG_GUARD: Duration = Duration::from_secs(120);
