#![allow(dead_code)]
//! Helpers shared by the integration tests: build a repository in a temp dir, run the binary.

use assert_cmd::cargo::CommandCargoExt;
use std::path::Path;
use std::process::Command;

pub fn write_files(dir: &Path, files: &[(String, String)]) {
    for (path, content) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
}

/// Copy the tree under `from` into `to` (which exists), files and directories alike.
pub fn copy_tree(from: &Path, to: &Path) {
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

pub fn bin() -> Command {
    let mut c = Command::cargo_bin("oidc-lint").unwrap();
    c.env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE");

    // A test run inside GitHub Actions must not take the CI run's repository identity.
    for v in [
        "GITHUB_ACTIONS",
        "GITHUB_REPOSITORY",
        "GITHUB_EVENT_PATH",
        "GITHUB_BASE_REF",
        "GITHUB_WORKSPACE",
        "GITLAB_CI",
        "CI_PROJECT_PATH",
        "CI_DEFAULT_BRANCH",
        "CI_PROJECT_DIR",
    ] {
        c.env_remove(v);
    }
    // Fixtures are small repositories of their own: paths are reported from them, not from
    // this crate's checkout around them (as git would not look above the crate either).
    c.env("GIT_CEILING_DIRECTORIES", env!("CARGO_MANIFEST_DIR"));
    c
}

/// Run `oidc-lint --format json ARGS` in `dir`; returns (exit code, parsed JSON).
pub fn run_json(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let out = bin()
        .current_dir(dir)
        .args(["--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bad JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), v)
}

/// `(rule, path, line)` of every finding.
pub fn hits(v: &serde_json::Value) -> Vec<(String, String, u64)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

pub fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Fenced blocks carrying `file=PATH` in the section that starts with `heading`.
pub fn example_files(doc: &str, heading: &str) -> Vec<(String, String)> {
    let Some(start) = doc.find(heading) else {
        return vec![];
    };
    let rest = &doc[start + heading.len()..];
    let section = match rest.find("\n## ") {
        Some(e) => &rest[..e],
        None => rest,
    };
    let mut files = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let Some(path) = info
            .split_whitespace()
            .find_map(|w| w.strip_prefix("file="))
        else {
            continue;
        };
        let mut body = String::new();
        for l in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        files.push((path.to_string(), body));
    }
    files
}
