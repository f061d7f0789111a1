//! Paths in every output are where the user and their tools look: relative to the repository
//! root (the nearest directory holding `.git`, else the working directory) in SARIF,
//! `--format github`, JSON, baselines and `--diff`; from the working directory in the human
//! report. `oidc-lint infra/` must not report `role.tf` for `infra/role.tf`.

mod common;
use common::*;
use std::path::Path;
use std::process::{Command, Stdio};

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .current_dir(dir)
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

const ROLE_TF: &str = "resource \"aws_iam_role\" \"deploy\" {\n  assume_role_policy = jsonencode({\n    Statement = [{\n      Effect = \"Allow\"\n      Principal = { Federated = \"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com\" }\n      Action = \"sts:AssumeRoleWithWebIdentity\"\n      Condition = { StringEquals = { \"token.actions.githubusercontent.com:aud\" = \"sts.amazonaws.com\" } }\n    }]\n  })\n}\n";

/// A repository with findings and an input error under `infra/`, and a `sub/` directory.
fn repo(with_git: bool) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let trust = std::fs::read_to_string(
        fixtures().join("rules/trust-wrong-action/bad-assume-role/iam/trust.json"),
    )
    .unwrap();
    write_files(
        d.path(),
        &[
            ("infra/role.tf".into(), ROLE_TF.into()),
            ("infra/iam/trust.json".into(), trust),
            ("infra/broken.tf".into(), "resource \"x\" {\n".into()),
            ("sub/README.md".into(), "docs\n".into()),
        ],
    );
    if with_git {
        git(d.path(), &["init", "-q"]);
        git(d.path(), &["add", "-A"]);
    }
    d
}

fn out(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let o = bin().current_dir(dir).args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

/// Every path a machine format reports for `args` run in `cwd`.
fn machine_paths(cwd: &Path, args: &[&str]) -> Vec<String> {
    let mut paths = Vec::new();
    let (_, json, _) = out(cwd, &[&["--format", "json"], args].concat());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for f in v["findings"].as_array().unwrap() {
        paths.push(format!("json {}", f["path"].as_str().unwrap()));
        if let Some(edits) = f["fix"]["edits"].as_array() {
            for e in edits {
                paths.push(format!("json-edit {}", e["path"].as_str().unwrap()));
            }
        }
    }
    for e in v["errors"].as_array().unwrap() {
        paths.push(format!("json-error {}", e["path"].as_str().unwrap()));
    }
    let (_, sarif, _) = out(cwd, &[&["--format", "sarif"], args].concat());
    let v: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let run = &v["runs"][0];
    for r in run["results"].as_array().unwrap() {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        paths.push(format!("sarif {uri}"));
    }
    for n in run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap()
    {
        let uri = n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        paths.push(format!("sarif-error {uri}"));
    }
    let (_, gh, _) = out(cwd, &[&["--format", "github"], args].concat());
    for line in gh.lines() {
        let file = line.split("file=").nth(1).unwrap().split([',', ':']).next();
        paths.push(format!("github {}", file.unwrap()));
    }
    paths.sort();
    paths.dedup();
    paths
}

const EXPECTED: [&str; 9] = [
    "github infra/broken.tf",
    "github infra/iam/trust.json",
    "github infra/role.tf",
    "json infra/iam/trust.json",
    "json infra/role.tf",
    "json-edit infra/iam/trust.json",
    "json-error infra/broken.tf",
    "sarif infra/iam/trust.json",
    "sarif infra/role.tf",
];

#[test]
fn machine_formats_report_paths_from_the_repository_root() {
    let d = repo(true);
    let root = d.path();
    let mut expected: Vec<String> = EXPECTED.iter().map(|s| s.to_string()).collect();
    expected.push("sarif-error infra/broken.tf".into());
    expected.sort();
    // the subdirectory scanned from the root, and from a sibling directory
    for (cwd, arg) in [
        (root.to_path_buf(), "infra"),
        (root.join("sub"), "../infra"),
    ] {
        let got = machine_paths(&cwd, &[arg]);
        assert_eq!(got, expected, "from {cwd:?} scanning {arg}");
        for p in &got {
            let path = p.split_once(' ').unwrap().1;
            assert!(
                root.join(path).exists(),
                "{p} is not a file of the repository"
            );
        }
    }
    // the repository root and the subdirectory give the same fingerprints for the same finding
    let fps = |cwd: &Path, arg: &str| {
        let (_, sarif, _) = out(cwd, &["--format", "sarif", arg]);
        let v: serde_json::Value = serde_json::from_str(&sarif).unwrap();
        let mut f: Vec<String> = v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["oidcLint/v1"]
                    .as_str()
                    .unwrap()
                    .into()
            })
            .collect();
        f.sort();
        f
    };
    assert_eq!(fps(root, "infra"), fps(root, "."));
}

#[test]
fn outside_a_git_checkout_paths_are_from_the_working_directory() {
    let d = repo(false);
    let mut expected: Vec<String> = EXPECTED.iter().map(|s| s.to_string()).collect();
    expected.push("sarif-error infra/broken.tf".into());
    expected.sort();
    assert_eq!(machine_paths(d.path(), &["infra/"]), expected);
}

#[test]
fn human_paths_open_from_the_working_directory() {
    let d = repo(true);
    let sub = d.path().join("sub");
    let (code, stdout, stderr) = out(&sub, &["../infra"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    let located: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--> "))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert!(!located.is_empty(), "{stdout}");
    for p in &located {
        assert!(p.starts_with("../infra/"), "{p}");
        assert!(sub.join(p).exists(), "{p} does not open from {sub:?}");
    }
    assert!(stderr.contains("error: ../infra/broken.tf:"), "{stderr}");
}

#[test]
fn baselines_and_diffs_use_repository_paths() {
    let d = repo(true);
    let root = d.path();
    // a baseline written scanning the subdirectory holds repository paths and silences the
    // same findings when the whole repository is scanned
    let (code, _, err) = out(root, &["--write-baseline", "baseline.json", "infra"]);
    assert_eq!(code, 2, "{err}");
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("baseline.json")).unwrap())
            .unwrap();
    let mut paths: Vec<&str> = b["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    paths.sort();
    paths.dedup();
    assert_eq!(paths, ["infra/iam/trust.json", "infra/role.tf"]);
    let (_, json, _) = out(
        root,
        &["--format", "json", "--baseline", "baseline.json", "."],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 0, "{json}");
    // `--diff` headers name the file as `git apply` run at the root reads them
    let (_, patch, _) = out(&root.join("sub"), &["--diff", "../infra"]);
    assert!(
        patch.starts_with("--- a/infra/iam/trust.json\n+++ b/infra/iam/trust.json\n"),
        "{patch}"
    );
}
