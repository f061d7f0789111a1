//! Hostile inputs: walk. What the repository contains cannot hide a file from the scan (ignore
//! files, a planted git index, size padding, look-alike names), make the walk exponential, or
//! block it on a FIFO; the summary says what was skipped and what could not be analysed.

#[allow(unused_imports)]
use super::common::*;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A trust policy with no `sub` condition: fires `trust-missing-sub`.
const TRUST: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}]}"#;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("bad JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
}

/// Run the binary in `dir`; a run that has not ended after two minutes is a hang (killed, and
/// the test fails). Not a speed assertion: the cases here take well under a second.
fn run(dir: &Path, args: &[&str]) -> Run {
    let mut child = bin()
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        out.read_to_end(&mut s).unwrap();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        err.read_to_end(&mut s).unwrap();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("oidc-lint {args:?} hung (killed after 120 s)");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&t_out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&t_err.join().unwrap()).into_owned(),
    }
}

fn json(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let mut a = vec!["--format", "json"];
    a.extend_from_slice(args);
    let r = run(dir, &a);
    (r.code, r.json())
}

fn write(dir: &Path, rel: &str, bytes: &[u8]) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

fn paths(v: &serde_json::Value) -> Vec<String> {
    let mut p: Vec<String> = hits(v).into_iter().map(|h| h.1).collect();
    p.sort();
    p.dedup();
    p
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .current_dir(dir)
        .args(["-c", "init.defaultBranch=main", "-c", "core.autocrlf=false"])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

/// A git checkout whose tracked policies every ignore mechanism lists, plus one untracked
/// ignored policy.
fn ignored_checkout() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "iam/trust.json", TRUST.as_bytes());
    write(r, "deploy/roles/trust.json", TRUST.as_bytes());
    write(r, "excluded-by-info/trust.json", TRUST.as_bytes());
    git(r, &["init", "-q"]);
    git(r, &["add", "."]);
    // Written after `git add`: they hide tracked files, as a pull request could make them.
    write(r, "iam/.gitignore", b"*.json\n");
    write(r, ".gitignore", b"deploy/\n");
    write(r, ".git/info/exclude", b"excluded-by-info/\n");
    write(r, "iam/untracked.json", TRUST.as_bytes());
    d
}

#[test]
fn ignore_files_are_not_read() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "iam/trust.json", TRUST.as_bytes());
    write(r, ".ignore", b"*\n");
    write(r, "iam/.rgignore", b"*.json\n");
    let (code, v) = json(r, &["."]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(paths(&v), ["iam/trust.json"]);
    assert_eq!(v["summary"]["files_scanned"], 1);
    assert_eq!(v["summary"]["skipped"]["ignored"], 0);
}

#[test]
fn gitignore_skips_only_untracked_files_in_a_checkout() {
    let d = ignored_checkout();
    let r = d.path();
    let (code, v) = json(r, &["."]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(
        paths(&v),
        [
            "deploy/roles/trust.json",
            "excluded-by-info/trust.json",
            "iam/trust.json"
        ]
    );
    // The untracked `iam/untracked.json` is the one path skipped, and counted.
    assert_eq!(v["summary"]["files_scanned"], 3);
    assert_eq!(v["summary"]["skipped"]["ignored"], 1);
    let human = run(r, &["--color", "never", "."]);
    assert!(
        human
            .stdout
            .contains("Skipped: 1 path matched by ignore rules (--no-ignore scans them)."),
        "{}",
        human.stdout
    );
    // Scanning a directory inside the checkout: the index and the outer rules still apply.
    // (paths stay relative to the checkout's root)
    let (_, v) = json(r, &["iam"]);
    assert_eq!(paths(&v), ["iam/trust.json"]);
    assert_eq!(v["summary"]["skipped"]["ignored"], 1);
    // `--no-ignore` scans everything.
    let (code, v) = json(r, &["--no-ignore", "."]);
    assert_eq!(code, 1);
    assert_eq!(v["summary"]["files_scanned"], 4);
    assert_eq!(v["summary"]["skipped"]["ignored"], 0);
    assert!(paths(&v).contains(&"iam/untracked.json".to_string()));
}

#[test]
fn outside_a_checkout_gitignore_is_honoured_and_counted() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "iam/trust.json", TRUST.as_bytes());
    write(r, "generated/trust.json", TRUST.as_bytes());
    write(r, "node_modules/pkg/trust.json", TRUST.as_bytes());
    write(r, ".gitignore", b"generated/\n");
    let (code, v) = json(r, &["."]);
    assert_eq!(code, 1);
    assert_eq!(paths(&v), ["iam/trust.json"]);
    assert_eq!(v["summary"]["skipped"]["ignored"], 2, "{v}");
    let (_, v) = json(r, &["--no-ignore", "."]);
    assert_eq!(v["summary"]["files_scanned"], 3);
}

#[test]
fn a_hostile_git_index_never_hides_files() {
    type Make = fn(&Path);
    let mut broken: Vec<(&str, Make)> = vec![
        ("cannot decode the git index", |p| {
            std::fs::write(p, b"DIRC\0\0\0\x02\xff\xff\xff\xffgarbage").unwrap()
        }),
        ("cannot decode the git index", |p| {
            std::fs::write(p, vec![0u8; 4096]).unwrap()
        }),
        ("not a regular file", |p| std::fs::create_dir(p).unwrap()),
    ];
    #[cfg(unix)]
    broken.push(("FIFO", |p| mkfifo(p)));
    for (what, make) in broken {
        let d = ignored_checkout();
        let r = d.path();
        let index = r.join(".git/index");
        std::fs::remove_file(&index).unwrap();
        make(&index);
        let out = run(r, &["--format", "json", "."]);
        assert_eq!(out.code, 1, "{what}: {}", out.stderr);
        let v = out.json();
        // No ignore rule is trusted: the untracked file is scanned too.
        assert_eq!(v["summary"]["files_scanned"], 4, "{what}: {v}");
        assert!(
            out.stderr.contains("warning: ")
                && out.stderr.contains(what)
                && out.stderr.contains("every file is scanned"),
            "{what}: {}",
            out.stderr
        );
    }
}

#[test]
fn oversized_inputs_are_errors_however_they_are_padded() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    let pad = " ".repeat(200_000);
    let body = &TRUST[1..];
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            format!("{{{pad}{body}")
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes()),
        )
        .collect();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("padded-before.json", format!("{{{pad}{body}").into_bytes()),
        ("padded-after.json", format!("{TRUST}{pad}").into_bytes()),
        (
            "long-member.json",
            format!("{{\"pad\": \"{}\", {body}", "x".repeat(200_000)).into_bytes(),
        ),
        ("utf16.json", utf16),
        (
            "template.yaml",
            format!("# {pad}\nResources:\n  R:\n    Type: AWS::IAM::Role\n").into_bytes(),
        ),
    ];
    for (name, bytes) in &cases {
        write(r, &format!("iam/{name}"), bytes);
    }
    // Large files that are no input stay skipped.
    write(
        r,
        "data/big.json",
        format!("{{\"items\": [{}0]}}", "1, ".repeat(100_000)).as_bytes(),
    );
    write(r, "data/big-list.json", format!("[{pad}]").as_bytes());
    write(r, "small/trust.json", TRUST.as_bytes());
    let (code, v) = json(r, &["--max-file-size", "100000", "."]);
    assert_eq!(code, 2, "{v}");
    let errors: Vec<(String, String)> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut want: Vec<String> = cases.iter().map(|(n, _)| format!("iam/{n}")).collect();
    want.sort();
    assert_eq!(
        errors.iter().map(|e| e.0.clone()).collect::<Vec<_>>(),
        want,
        "{v}"
    );
    for (path, msg) in &errors {
        assert!(msg.contains("over the 100000-byte limit"), "{path}: {msg}");
    }
    assert_eq!(paths(&v), ["small/trust.json"]);
    // With a limit that fits, every padded policy is analysed.
    let (_, v) = json(r, &["."]);
    assert!(!v.to_string().contains("byte limit"), "{v}");
    let p = paths(&v);
    for name in [
        "padded-before.json",
        "padded-after.json",
        "long-member.json",
    ] {
        assert!(p.contains(&format!("iam/{name}")), "{name}: {v}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn paths_are_kept_exactly_and_rendered_reversibly() {
    use std::os::unix::ffi::OsStrExt;
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    for name in [
        &b"trust-\xFF.json"[..],
        "trust-\u{FFFD}.json".as_bytes(),
        br"trust-\xFF.json",
    ] {
        std::fs::write(r.join(std::ffi::OsStr::from_bytes(name)), TRUST.as_bytes()).unwrap();
    }
    let (code, v) = json(r, &["."]);
    assert_eq!(code, 1);
    assert_eq!(v["summary"]["files_scanned"], 3);
    assert_eq!(
        paths(&v),
        [
            r"trust-\\xFF.json",
            r"trust-\xFF.json",
            "trust-\u{FFFD}.json"
        ]
    );
    let out = run(r, &["--format", "sarif", "."]);
    let sarif: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let mut uris: Vec<String> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|res| {
            res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    uris.sort();
    uris.dedup();
    assert_eq!(
        uris,
        [
            "trust-%5CxFF.json",
            "trust-%EF%BF%BD.json",
            "trust-%FF.json"
        ]
    );
}

/// `dir/l0 … dir/l22`, each `l<i>` holding two links `a`, `b` to `l<i+1>`: 2^22 paths to
/// `l22/trust.json` for a walk that follows every link.
#[cfg(unix)]
fn link_fan(dir: &Path) {
    use std::os::unix::fs::symlink;
    const LEVELS: usize = 22;
    for i in 0..=LEVELS {
        std::fs::create_dir_all(dir.join(format!("l{i}"))).unwrap();
    }
    for i in 0..LEVELS {
        for l in ["a", "b"] {
            symlink(format!("../l{}", i + 1), dir.join(format!("l{i}/{l}"))).unwrap();
        }
    }
    write(dir, &format!("l{LEVELS}/trust.json"), TRUST.as_bytes());
}

#[cfg(unix)]
#[test]
fn symlink_fan_out_visits_each_real_directory_once() {
    // The real directories are walked directly: every link leads to one already visited.
    let d = tempfile::tempdir().unwrap();
    link_fan(d.path());
    let (code, v) = json(d.path(), &["."]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(paths(&v), ["l22/trust.json"]);
    assert_eq!(v["summary"]["files_scanned"], 1);
    // The real directories are reachable only through links (under an ignored directory):
    // each is walked once, under the first link name in sorted order.
    let d = tempfile::tempdir().unwrap();
    link_fan(&d.path().join("node_modules/fan"));
    std::os::unix::fs::symlink("node_modules/fan/l0", d.path().join("entry")).unwrap();
    let (code, v) = json(d.path(), &["."]);
    assert_eq!(code, 1, "{v}");
    let deep = format!("entry/{}trust.json", "a/".repeat(22));
    assert_eq!(paths(&v), [deep]);
    assert_eq!(v["summary"]["files_scanned"], 1);
    let (_, v) = json(d.path(), &["--no-ignore", "."]);
    assert_eq!(paths(&v), ["node_modules/fan/l22/trust.json"]);
}

#[cfg(unix)]
fn mkfifo(p: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_are_refused_by_name_and_skipped_in_a_tree() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "iam/trust.json", TRUST.as_bytes());
    mkfifo(&r.join("iam/pipe.json"));
    mkfifo(&r.join("pipe.yml"));
    std::fs::create_dir_all(r.join(".github/workflows")).unwrap();
    mkfifo(&r.join(".github/workflows/ci.yml"));
    let _sock = std::os::unix::net::UnixListener::bind(r.join("iam/sock.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", r.join("iam/zero.json")).unwrap();
    // In a walked tree: skipped by their type, never opened (opening a FIFO blocks).
    let (code, v) = json(r, &["."]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(paths(&v), ["iam/trust.json"]);
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v}");
    // Named on the command line: an input error naming the file, and the rest is scanned.
    let out = run(
        r,
        &[
            "--format",
            "json",
            "pipe.yml",
            "/dev/null",
            "iam/trust.json",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    let v = out.json();
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{v}");
    let msg = |p: &str| {
        errors
            .iter()
            .find(|e| e["path"] == p)
            .map(|e| e["message"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no error for {p}: {v}"))
    };
    assert!(msg("pipe.yml").contains("FIFO"), "{v}");
    assert!(msg("/dev/null").contains("character device"), "{v}");
    assert_eq!(paths(&v), ["iam/trust.json"]);
    let human = run(r, &["--color", "never", "pipe.yml"]);
    assert_eq!(human.code, 2);
    assert!(
        human
            .stderr
            .contains("error: pipe.yml: a FIFO (named pipe)"),
        "{}",
        human.stderr
    );
}

#[test]
fn summaries_say_what_was_not_analysed() {
    // Nothing to analyse: said plainly, and the JSON counts show it.
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "README.md", b"# nothing here\n");
    write(r, "package.json", b"{\"name\": \"x\"}\n");
    let out = run(r, &["--color", "never", "."]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.starts_with("No input files found:"),
        "{}",
        out.stdout
    );
    let (_, v) = json(r, &["."]);
    assert_eq!(v["summary"]["files_scanned"], 0);
    // Files that could not be analysed are counted in the summary, not only listed.
    write(r, ".github/workflows/broken.yml", b"on: [push\n");
    write(r, "iam/trust.json", TRUST.as_bytes());
    write(r, "vendor/trust.json", TRUST.as_bytes());
    write(r, "oidc-lint.toml", b"exclude = [\"vendor\"]\n");
    let out = run(r, &["--color", "never", "."]);
    assert_eq!(out.code, 2);
    assert!(
        out.stdout.contains("1 file could not be analysed"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("Skipped: 1 file excluded by the configuration."),
        "{}",
        out.stdout
    );
    let (_, v) = json(r, &["."]);
    assert_eq!(v["summary"]["skipped"]["excluded"], 1, "{v}");
    assert_eq!(paths(&v), ["iam/trust.json"]);
}

// ---------------------------------------------------------------------------------------------
// GitLab CI includes: `include: local:` is followed only inside the project's directory, once
// per file, bounded in depth and count; cycles, escapes (`..`, symbolic links) and remote
// includes are refused or not followed, each with a note, and the rest is still scanned.

/// A GitLab job whose token is the removed `CI_JOB_JWT`: fires `workflow-missing-id-token`
/// in whichever file defines it (proof that the file was read).
fn gitlab_job(name: &str) -> String {
    format!(
        "{name}:\n  script:\n    - aws sts assume-role-with-web-identity --role-arn arn:aws:iam::123456789012:role/x --role-session-name s --web-identity-token $CI_JOB_JWT\n"
    )
}

fn gitlab_run(dir: &Path) -> (Run, Vec<String>) {
    let r = run(
        dir,
        &[
            "--format",
            "json",
            "--select",
            "workflow-missing-id-token",
            ".",
        ],
    );
    let files = paths(&r.json());
    (r, files)
}

#[test]
fn gitlab_include_cycle_is_read_once() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, ".gitlab-ci.yml", b"include:\n  - local: ci/a.yml\n");
    write(
        r,
        "ci/a.yml",
        format!("include: ci/b.yml\n{}", gitlab_job("a")).as_bytes(),
    );
    write(
        r,
        "ci/b.yml",
        format!(
            "include:\n  - local: ci/a.yml\n  - local: /.gitlab-ci.yml\n{}",
            gitlab_job("b")
        )
        .as_bytes(),
    );
    let (out, files) = gitlab_run(r);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(files, ["ci/a.yml", "ci/b.yml"]);
    assert_eq!(hits(&out.json()).len(), 2, "each job once: {}", out.stdout);
    assert!(
        out.stderr
            .contains("ci/b.yml: include `ci/a.yml` refused: an include cycle"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("include `/.gitlab-ci.yml` refused: an include cycle"),
        "{}",
        out.stderr
    );
}

#[test]
fn gitlab_includes_are_bounded_in_depth_and_count() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    // a chain of 120 files: the 100th level is the last read
    write(r, ".gitlab-ci.yml", b"include: c/1.yml\n");
    for i in 1..=120 {
        let body = format!("include: c/{}.yml\n{}", i + 1, gitlab_job(&format!("j{i}")));
        write(r, &format!("c/{i}.yml"), body.as_bytes());
    }
    let (out, files) = gitlab_run(r);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(files.len(), 100, "{files:?}");
    assert!(files.contains(&"c/100.yml".to_string()) && !files.contains(&"c/101.yml".to_string()));
    assert!(
        out.stderr.contains(
            "c/100.yml: include `c/101.yml` refused: includes nest deeper than 100 levels"
        ),
        "{}",
        out.stderr
    );
    // 200 includes from one file: 150 are read
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    let list: String = (1..=200)
        .map(|i| format!("  - local: f/{i}.yml\n"))
        .collect();
    write(r, ".gitlab-ci.yml", format!("include:\n{list}").as_bytes());
    for i in 1..=200 {
        write(
            r,
            &format!("f/{i}.yml"),
            gitlab_job(&format!("j{i}")).as_bytes(),
        );
    }
    let (out, files) = gitlab_run(r);
    assert_eq!(out.code, 1);
    assert_eq!(files.len(), 150, "{files:?}");
    assert!(
        out.stderr
            .contains("refused: the pipeline includes more than 150 files"),
        "{}",
        out.stderr
    );
}

#[test]
fn gitlab_includes_never_leave_the_project() {
    let d = tempfile::tempdir().unwrap();
    let outside = d.path().join("outside");
    let r = &d.path().join("project");
    write(&outside, "evil.yml", gitlab_job("evil").as_bytes());
    write(r, "ci/real.yml", gitlab_job("real").as_bytes());
    std::os::unix::fs::symlink(outside.join("evil.yml"), r.join("ci/out-link.yml")).unwrap();
    std::os::unix::fs::symlink(r.join("ci/real.yml"), r.join("ci/in-link.yml")).unwrap();
    std::os::unix::fs::symlink(&outside, r.join("linked-dir")).unwrap();
    write(
        r,
        ".gitlab-ci.yml",
        b"include:\n  - local: ../outside/evil.yml\n  - local: ci/../../outside/evil.yml\n  - local: ci/out-link.yml\n  - local: ci/in-link.yml\n  - local: linked-dir/evil.yml\n  - local: /etc/passwd.yml\n  - local: ci/real.txt\n  - remote: https://example.com/ci.yml\n  - project: group/other\n    file: /ci.yml\n  - template: Auto-DevOps.gitlab-ci.yml\n  - 'https://example.com/plain.yml'\n",
    );
    let (out, files) = gitlab_run(r);
    // nothing is read, nothing outside is reported; the pipeline is scanned all the same
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(files.is_empty(), "{files:?}");
    for note in [
        "include `../outside/evil.yml` refused: it leaves the project's directory",
        "include `ci/../../outside/evil.yml` refused: it leaves the project's directory",
        "include `ci/out-link.yml` refused: it goes through a symbolic link",
        "include `ci/in-link.yml` refused: it goes through a symbolic link",
        "include `linked-dir/evil.yml` refused: it goes through a symbolic link",
        "include `/etc/passwd.yml` is not in the scan",
        "include `ci/real.txt` refused: GitLab includes only `.yml` and `.yaml` files",
        "include `remote: https://example.com/ci.yml` is not followed",
        "include `project: group/other (/ci.yml)` is not followed",
        "include `template: Auto-DevOps.gitlab-ci.yml` is not followed",
        "include `https://example.com/plain.yml` is not followed",
    ] {
        assert!(
            out.stderr.contains(note),
            "missing note {note:?}:\n{}",
            out.stderr
        );
    }
    // the same file included properly is read
    write(r, ".gitlab-ci.yml", b"include: ci/real.yml\n");
    let (out, files) = gitlab_run(r);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(files, ["ci/real.yml"]);
}

#[test]
fn gitlab_broken_include_is_an_error_and_the_rest_is_scanned() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(
        r,
        ".gitlab-ci.yml",
        format!("include: [ci/bad.yml, ci/ok.yml]\n{}", gitlab_job("root")).as_bytes(),
    );
    write(r, "ci/bad.yml", b"job: [unclosed\n");
    write(r, "ci/ok.yml", gitlab_job("ok").as_bytes());
    let (out, files) = gitlab_run(r);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(files, [".gitlab-ci.yml", "ci/ok.yml"]);
    let v = out.json();
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{v}");
    assert_eq!(errors[0]["path"], "ci/bad.yml");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("invalid YAML"),
        "{v}"
    );
}
