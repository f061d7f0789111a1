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
            // `fixtures/rules/<id>/{bad,good}-<case>/`: each case is a repository of its own.
            if group.file_name().and_then(|n| n.to_str()) == Some("rules") {
                cases.extend(subdirs(&d));
            } else {
                cases.push(d);
            }
        }
    }
    cases
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
    assert!(
        cases.len() > 100,
        "found only {} fixture cases",
        cases.len()
    );
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
    assert!(
        fixed_somewhere > 10,
        "only {fixed_somewhere} cases had fixes"
    );
}

/// The cases of the issue: a `StringEquals` wildcard is broken but closed; a fix must not turn
/// it into a `StringLike` that admits every repository (or every repository of an owner).
#[test]
fn a_closed_stringequals_wildcard_stays_closed() {
    for value in [
        "*",
        "repo:*",
        "repo:myOrg*",
        "repo:myOrg/*",
        "repo:myOrg/app:*",
    ] {
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

/// Generous: only a hang guard (debug builds on a loaded machine), never a speed assertion.
const HANG_GUARD: Duration = Duration::from_secs(300);

/// Run the binary in `dir`; panics when it outlives [`HANG_GUARD`]. Returns (code, stdout,
/// stderr).
fn run_guarded(dir: &Path, args: &[&str]) -> (i32, Vec<u8>, String) {
    use std::io::Read;
    let mut child = bin()
        .current_dir(dir)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).unwrap();
        v
    });
    let ereader = std::thread::spawn(move || {
        let mut v = Vec::new();
        err.read_to_end(&mut v).unwrap();
        v
    });
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > HANG_GUARD {
            child.kill().unwrap();
            panic!("oidc-lint {args:?} still running after {HANG_GUARD:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (
        status.code().unwrap_or(-1),
        reader.join().unwrap(),
        String::from_utf8_lossy(&ereader.join().unwrap()).into_owned(),
    )
}

const GITHUB: &str = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";

/// A trust policy of `n` statements on one line (no newline at all). Each statement lacks an
/// `aud` condition (a fix inserting an entry) and uses `ForAllValues:StringLike` (a fix
/// replacing the operator), so every statement carries two fixes built on a 1-line text.
fn one_line_policy(n: usize) -> String {
    let statements: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"Effect":"Allow","Principal":{{"Federated":"{GITHUB}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"ForAllValues:StringLike":{{"token.actions.githubusercontent.com:sub":"repo:acme/app{i}:ref:refs/heads/main"}}}}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    )
}

/// Fix construction is linear on a one-line file: every finding (and its fix) is reported,
/// `--diff` shows the fixes and `--fix` applies them, each well within the hang guard
/// (fix builders once rescanned the whole line per finding: minutes for a few MB).
#[test]
fn one_line_file_with_thousands_of_fixes() {
    let n = 4000;
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("iam/big.json".into(), one_line_policy(n))]);
    let (code, out, err) = run_guarded(dir.path(), &["--format", "json", "."]);
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let with_fix = |rule: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == rule && !f["fix"].is_null())
            .count()
    };
    assert_eq!(with_fix("trust-missing-aud"), n, "{err}");
    assert_eq!(with_fix("trust-fail-open-operator"), n, "{err}");
    for format in ["sarif", "github"] {
        let (code, out, err) = run_guarded(dir.path(), &["--format", format, "."]);
        assert_eq!(code, 1, "{format}: {err}");
        assert!(!out.is_empty(), "{format}");
    }
    let (code, out, err) = run_guarded(dir.path(), &["--diff", "."]);
    assert_eq!(code, 1, "{err}");
    let diff = String::from_utf8(out).unwrap();
    assert!(diff.starts_with("--- a/iam/big.json"), "{err}");
    let (_, _, err) = run_guarded(dir.path(), &["--fix", "--format", "json", "."]);
    let fixed = std::fs::read_to_string(dir.path().join("iam/big.json")).unwrap();
    assert_eq!(fixed.matches(":aud").count(), n, "{err}");
    assert_eq!(fixed.matches("ForAllValues:").count(), 0, "{err}");
}

/// A one-statement trust policy missing its `aud` condition (a safe fix), scoped to `repo`.
fn fixable_policy(repo: &str) -> String {
    format!(
        "{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {{\n      \"Effect\": \"Allow\",\n      \"Principal\": {{\"Federated\": \"{GITHUB}\"}},\n      \"Action\": \"sts:AssumeRoleWithWebIdentity\",\n      \"Condition\": {{\n        \"StringEquals\": {{\n          \"token.actions.githubusercontent.com:sub\": \"repo:{repo}:ref:refs/heads/main\"\n        }}\n      }}\n    }}\n  ]\n}}\n"
    )
}

/// `--diff` with two arguments whose report paths differ only by `..`: each file is diffed
/// against its own copy (they once shared one temporary copy).
#[test]
fn diff_keeps_files_given_together_apart() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("iam/t.json".into(), fixable_policy("acme/outer")),
            ("sub/iam/t.json".into(), fixable_policy("acme/inner")),
        ],
    );
    let sub = dir.path().join("sub");
    let (code, out, err) = run_guarded(&sub, &["--diff", "iam/t.json", "../iam/t.json"]);
    assert_eq!(code, 1, "{err}");
    let diff = String::from_utf8(out).unwrap();
    let patches: Vec<&str> = diff.split("--- a/").skip(1).collect();
    assert_eq!(patches.len(), 2, "{diff}");
    for p in patches {
        let inner = p.starts_with("iam/t.json");
        let outer = p.starts_with("../iam/t.json");
        assert!(inner || outer, "{p}");
        let (own, other) = if inner {
            ("acme/inner", "acme/outer")
        } else {
            ("acme/outer", "acme/inner")
        };
        assert!(p.contains(own) && !p.contains(other), "{p}");
    }
    // Nothing was written.
    assert_eq!(
        std::fs::read_to_string(sub.join("iam/t.json")).unwrap(),
        fixable_policy("acme/inner")
    );
    // `--fix` with the same arguments fixes each file in place.
    let (code, _, err) = run_guarded(&sub, &["--fix", "iam/t.json", "../iam/t.json"]);
    assert_ne!(code, 2, "{err}");
    for (p, repo) in [
        (sub.join("iam/t.json"), "acme/inner"),
        (dir.path().join("iam/t.json"), "acme/outer"),
    ] {
        let t = std::fs::read_to_string(&p).unwrap();
        assert!(
            t.contains(":aud") && t.contains(repo),
            "{}: {t}",
            p.display()
        );
    }
}

#[cfg(unix)]
mod unix {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};

    /// A link inside the tree to a file inside the tree stays a link; its target is fixed.
    #[test]
    fn fix_keeps_a_symlink_and_edits_its_target_inside_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        write_files(
            dir.path(),
            &[("iam/real.json".into(), fixable_policy("acme/app"))],
        );
        symlink("real.json", dir.path().join("iam/link.json")).unwrap();
        let (code, _, err) = run_guarded(dir.path(), &["--fix", "iam/link.json"]);
        assert_ne!(code, 2, "{err}");
        let link = dir.path().join("iam/link.json");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let real = std::fs::read_to_string(dir.path().join("iam/real.json")).unwrap();
        assert!(real.contains(":aud"), "{err}\n{real}");
    }

    /// A link (or a linked directory) pointing out of the tree is never written through.
    #[test]
    fn fix_refuses_links_out_of_the_tree() {
        let outside = tempfile::tempdir().unwrap();
        write_files(
            outside.path(),
            &[
                ("p.json".into(), fixable_policy("acme/app")),
                ("d/p.json".into(), fixable_policy("acme/app")),
            ],
        );
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repo.path().join("iam")).unwrap();
        symlink(
            outside.path().join("p.json"),
            repo.path().join("iam/t.json"),
        )
        .unwrap();
        symlink(outside.path().join("d"), repo.path().join("linked")).unwrap();
        for args in [
            vec!["--fix", "."],
            vec!["--fix", "iam/t.json"],
            vec!["--fix", "linked/p.json"],
        ] {
            let (code, _, err) = run_guarded(repo.path(), &args);
            // The walk does not follow links out of the tree; named on the command line, they
            // are read but refused for writing.
            if args[1] != "." {
                assert_eq!(code, 2, "{args:?}: {err}");
                assert!(err.contains("outside the scanned tree"), "{args:?}: {err}");
            }
            for p in ["p.json", "d/p.json"] {
                assert_eq!(
                    std::fs::read_to_string(outside.path().join(p)).unwrap(),
                    fixable_policy("acme/app"),
                    "{args:?}: {p} was written"
                );
            }
            assert!(
                std::fs::symlink_metadata(repo.path().join("iam/t.json"))
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
        }
    }

    /// Decision: a file with several hard links is refused (an in-place edit would change every
    /// name, possibly outside the tree; a rename would silently split them).
    #[test]
    fn fix_refuses_hard_linked_files() {
        let dir = tempfile::tempdir().unwrap();
        write_files(
            dir.path(),
            &[("iam/t.json".into(), fixable_policy("acme/app"))],
        );
        let other = tempfile::tempdir().unwrap();
        std::fs::hard_link(dir.path().join("iam/t.json"), other.path().join("t.json")).unwrap();
        let (code, _, err) = run_guarded(dir.path(), &["--fix", "."]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("hard links"), "{err}");
        let m = std::fs::metadata(dir.path().join("iam/t.json")).unwrap();
        assert_eq!(m.nlink(), 2);
        assert_eq!(
            std::fs::read_to_string(other.path().join("t.json")).unwrap(),
            fixable_policy("acme/app")
        );
    }

    /// The file's mode survives a fix; a read-only file is refused, untouched.
    #[test]
    fn fix_keeps_modes_and_refuses_read_only_files() {
        let dir = tempfile::tempdir().unwrap();
        write_files(
            dir.path(),
            &[
                ("iam/a.json".into(), fixable_policy("acme/a")),
                ("iam/b.json".into(), fixable_policy("acme/b")),
            ],
        );
        let (a, b) = (dir.path().join("iam/a.json"), dir.path().join("iam/b.json"));
        std::fs::set_permissions(&a, std::fs::Permissions::from_mode(0o640)).unwrap();
        std::fs::set_permissions(&b, std::fs::Permissions::from_mode(0o444)).unwrap();
        let (code, _, err) = run_guarded(dir.path(), &["--fix", "."]);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("iam/b.json") && err.contains("read-only"),
            "{err}"
        );
        assert!(std::fs::read_to_string(&a).unwrap().contains(":aud"));
        assert_eq!(
            std::fs::metadata(&a).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(
            std::fs::read_to_string(&b).unwrap(),
            fixable_policy("acme/b")
        );
        assert_eq!(
            std::fs::metadata(&b).unwrap().permissions().mode() & 0o777,
            0o444
        );
    }

    /// `--output` (and `--write-baseline`) never write through a linked directory or onto a
    /// link leading out of the tree.
    #[test]
    fn output_never_leaves_the_tree_through_a_link() {
        let outside = tempfile::tempdir().unwrap();
        write_files(
            outside.path(),
            &[("keep.json".into(), "untouched\n".into())],
        );
        let repo = tempfile::tempdir().unwrap();
        write_files(
            repo.path(),
            &[("iam/t.json".into(), fixable_policy("acme/app"))],
        );
        symlink(outside.path(), repo.path().join("reports")).unwrap();
        symlink(
            outside.path().join("keep.json"),
            repo.path().join("out.json"),
        )
        .unwrap();
        for args in [
            vec!["--format", "json", "-o", "reports/new.json", "."],
            vec!["--format", "json", "-o", "out.json", "."],
            vec!["--write-baseline", "reports/base.json", "."],
            vec!["--write-baseline", "out.json", "."],
        ] {
            let (code, _, err) = run_guarded(repo.path(), &args);
            assert_eq!(code, 2, "{args:?}: {err}");
            assert!(err.contains("symbolic link"), "{args:?}: {err}");
            let names: Vec<_> = std::fs::read_dir(outside.path())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(
                names,
                vec![std::ffi::OsString::from("keep.json")],
                "{args:?}"
            );
            assert_eq!(
                std::fs::read_to_string(outside.path().join("keep.json")).unwrap(),
                "untouched\n"
            );
        }
        // A plain path in the tree is written, atomically, as before.
        let (code, _, err) =
            run_guarded(repo.path(), &["--format", "json", "-o", "report.json", "."]);
        assert_eq!(code, 1, "{err}");
        assert!(
            std::fs::read_to_string(repo.path().join("report.json"))
                .unwrap()
                .contains("trust-missing-aud")
        );
    }
}

/// An unrelated file that does not parse does not stop `--write-baseline` or `--diff`: the
/// baseline is written and the diff printed, the error is listed, and the exit code is 2.
#[test]
fn baseline_and_diff_survive_an_unrelated_broken_file() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("iam/t.json".into(), fixable_policy("acme/app")),
            (
                ".github/workflows/broken.yml".into(),
                "on: [push\njobs: {\n".into(),
            ),
        ],
    );
    let (code, _, err) = run_guarded(dir.path(), &["--write-baseline", "base.json", "."]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("broken.yml"), "{err}");
    let base: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("base.json")).unwrap())
            .unwrap();
    assert!(
        base["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "trust-missing-aud"),
        "{base:#}"
    );
    // The baseline still hides what it recorded; the broken file still fails the run.
    let (code, v) = run_json(dir.path(), &["--baseline", "base.json", "."]);
    assert_eq!(code, 2);
    assert!(v["findings"].as_array().unwrap().is_empty(), "{v:#}");
    let (code, out, err) = run_guarded(dir.path(), &["--diff", "."]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("broken.yml"), "{err}");
    assert!(
        String::from_utf8(out).unwrap().contains("+++ b/iam/t.json"),
        "{err}"
    );
}
