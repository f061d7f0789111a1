//! Repository identity, default branch and subject form where the scan runs: GitHub Actions'
//! environment and event file, the configuration and `--default-branch`, the checkout's `.git`,
//! and letter case of names from git URLs. Every case drives the binary on a tempdir repository.

mod common;
use common::*;
use std::path::Path;

const COMMENT_WF: &str = "name: chatops
on:
  issue_comment:
    types: [created]
jobs:
  release:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
      contents: read
    steps:
      - uses: aws-actions/configure-aws-credentials@v6
        with:
          role-to-assume: arn:aws:iam::123456789012:role/release
          aws-region: eu-west-1
";

const PUSH_WF: &str = "name: deploy
on:
  push:
    branches: [main]
jobs:
  deploy:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
      contents: read
    steps:
      - uses: aws-actions/configure-aws-credentials@v6
        with:
          role-to-assume: arn:aws:iam::123456789012:role/release
          aws-region: eu-west-1
";

fn trust(sub: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
"Principal":{{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}},
"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{
"token.actions.githubusercontent.com:aud":"sts.amazonaws.com",
"token.actions.githubusercontent.com:sub":"{sub}"}}}}}}]}}"#
    )
}

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject"],"Resource":"arn:aws:s3:::acme/*"}]}"#;

fn repo(dir: &Path, wf: &str, sub: &str) {
    write_files(
        dir,
        &[
            (".github/workflows/w.yml".into(), wf.into()),
            ("iam/release-trust.json".into(), trust(sub)),
            ("iam/release-policy.json".into(), POLICY.into()),
        ],
    );
}

/// Run the binary on `dir` with extra env and args: (exit code, rule ids with severities, stderr).
fn run(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> (i32, Vec<(String, String)>, String) {
    let mut c = bin();
    c.current_dir(dir)
        .args(["--format", "json"])
        .args(args)
        .arg(".");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut rules: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    rules.sort();
    (
        out.status.code().unwrap(),
        rules,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn has(rules: &[(String, String)], id: &str, sev: &str) -> bool {
    rules.iter().any(|(r, s)| r == id && s == sev)
}

fn ci_env<'a>(dir: &'a str, event: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REPOSITORY", "acme/app"),
        ("GITHUB_EVENT_PATH", event),
        ("GITHUB_WORKSPACE", dir),
    ]
}

#[test]
fn ci_event_names_the_default_branch() {
    let t = tempfile::tempdir().unwrap();
    repo(t.path(), COMMENT_WF, "repo:acme/app:ref:refs/heads/trunk");
    let ev = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        ev.path(),
        r#"{"action":"created","repository":{"full_name":"acme/app","default_branch":"trunk","id":34,"owner":{"id":12}}}"#,
    )
    .unwrap();
    // Outside CI: the default branch is unknown, and the summary says so.
    let (_, rules, err) = run(t.path(), &[], &[]);
    assert!(
        !rules
            .iter()
            .any(|(r, _)| r == "role-trust-admits-untrusted-events")
    );
    assert_eq!(
        err.matches("default branch unknown: set default-branch")
            .count(),
        1,
        "{err}"
    );
    // In CI: the event names it; the comment-triggered job presents the trusted subject.
    let dir = t.path().to_str().unwrap();
    let env = ci_env(dir, ev.path().to_str().unwrap());
    let (code, rules, err) = run(t.path(), &env, &[]);
    assert_eq!(code, 1);
    assert!(
        has(&rules, "role-trust-admits-untrusted-events", "warning"),
        "{rules:?}"
    );
    assert!(!err.contains("default branch unknown"), "{err}");
    // The flag wins over the event: on `main` the trust pinned to `trunk` rejects the job.
    let (_, rules, _) = run(t.path(), &env, &["--default-branch", "main"]);
    assert!(has(&rules, "role-trust-rejects-job", "error"), "{rules:?}");
    assert!(
        !rules
            .iter()
            .any(|(r, _)| r == "role-trust-admits-untrusted-events")
    );
    // A scan outside the run's workspace does not take its identity.
    let other = tempfile::tempdir().unwrap();
    let env = ci_env(other.path().to_str().unwrap(), ev.path().to_str().unwrap());
    let (_, rules, err) = run(t.path(), &env, &[]);
    assert!(
        !rules
            .iter()
            .any(|(r, _)| r == "role-trust-admits-untrusted-events")
    );
    assert!(err.contains("default branch unknown"), "{err}");
}

#[test]
fn base_ref_when_the_event_has_no_default_branch() {
    let t = tempfile::tempdir().unwrap();
    repo(t.path(), COMMENT_WF, "repo:acme/app:ref:refs/heads/trunk");
    let ev = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ev.path(), "{}").unwrap();
    let dir = t.path().to_str().unwrap();
    let mut env = ci_env(dir, ev.path().to_str().unwrap());
    env.push(("GITHUB_BASE_REF", "trunk"));
    let (_, rules, _) = run(t.path(), &env, &[]);
    assert!(
        has(&rules, "role-trust-admits-untrusted-events", "warning"),
        "{rules:?}"
    );
}

#[test]
fn malformed_or_missing_event_files_leave_values_unknown() {
    let t = tempfile::tempdir().unwrap();
    repo(t.path(), COMMENT_WF, "repo:acme/app:ref:refs/heads/trunk");
    let dir = t.path().to_str().unwrap();
    let ev = tempfile::NamedTempFile::new().unwrap();
    for body in [
        &b"{\"repository\": {\"default_branch\": "[..],
        b"\xff\xfe\x00garbage",
        b"[1,2,3]",
        b"{\"repository\": {\"full_name\": \"acme/app\", \"default_branch\": \"bad\\u0007branch\"}}",
        b"{\"repository\": {\"full_name\": \"other/repo\", \"default_branch\": \"trunk\"}}",
    ] {
        std::fs::write(ev.path(), body).unwrap();
        let (code, rules, err) = run(t.path(), &ci_env(dir, ev.path().to_str().unwrap()), &[]);
        assert_eq!(code, 1, "{err}");
        assert!(!rules.iter().any(|(r, _)| r == "role-trust-admits-untrusted-events"), "{rules:?}");
        assert!(err.contains("default branch unknown"), "{err}");
        assert!(!err.contains('\u{7}'));
    }
    // A directory, or no file at all.
    for p in [dir, "/nonexistent/event.json"] {
        let (code, _, err) = run(t.path(), &ci_env(dir, p), &[]);
        assert_eq!(code, 1, "{err}");
    }
}

#[test]
fn single_branch_checkout_head_is_the_default_branch() {
    let t = tempfile::tempdir().unwrap();
    repo(t.path(), COMMENT_WF, "repo:acme/app:ref:refs/heads/trunk");
    write_files(
        t.path(),
        &[
            (".git/HEAD".into(), "ref: refs/heads/trunk\n".into()),
            (
                ".git/config".into(),
                "[remote \"origin\"]\n\turl = https://github.com/acme/app\n".into(),
            ),
            (".git/refs/heads/trunk".into(), "0".repeat(40) + "\n"),
        ],
    );
    let (_, rules, err) = run(t.path(), &[], &[]);
    assert!(
        has(&rules, "role-trust-admits-untrusted-events", "warning"),
        "{rules:?} {err}"
    );
    // A working copy with several local branches may be on any of them.
    write_files(
        t.path(),
        &[(".git/refs/heads/feature".into(), "0".repeat(40) + "\n")],
    );
    let (_, rules, err) = run(t.path(), &[], &[]);
    assert!(
        !rules
            .iter()
            .any(|(r, _)| r == "role-trust-admits-untrusted-events")
    );
    assert!(err.contains("default branch unknown"), "{err}");
    // origin/HEAD wins.
    write_files(
        t.path(),
        &[(
            ".git/refs/remotes/origin/HEAD".into(),
            "ref: refs/remotes/origin/trunk\n".into(),
        )],
    );
    let (_, rules, _) = run(t.path(), &[], &[]);
    assert!(
        has(&rules, "role-trust-admits-untrusted-events", "warning"),
        "{rules:?}"
    );
}

#[test]
fn git_url_names_are_compared_case_insensitively() {
    let t = tempfile::tempdir().unwrap();
    repo(t.path(), PUSH_WF, "repo:acme/app:ref:refs/heads/main");
    write_files(
        t.path(),
        &[(
            ".git/config".into(),
            "[remote \"origin\"]\n\turl = git@github.com:ACME/App.git\n".into(),
        )],
    );
    let (code, rules, _) = run(t.path(), &[], &[]);
    assert_eq!(code, 0, "{rules:?}");
    // An explicit identity is taken as written: a case-only difference is a warning.
    let (_, rules, _) = run(t.path(), &[], &["--repo", "ACME/App"]);
    assert_eq!(
        rules,
        vec![("role-trust-rejects-job".into(), "warning".into())]
    );
    // ...and so is GITHUB_REPOSITORY.
    let ev = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ev.path(), "{}").unwrap();
    let dir = t.path().to_str().unwrap();
    let env = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REPOSITORY", "ACME/App"),
        ("GITHUB_EVENT_PATH", ev.path().to_str().unwrap()),
        ("GITHUB_WORKSPACE", dir),
    ];
    let (_, rules, _) = run(t.path(), &env, &[]);
    assert_eq!(
        rules,
        vec![("role-trust-rejects-job".into(), "warning".into())]
    );
    // Another repository entirely is still an error.
    let (_, rules, _) = run(t.path(), &[], &["--repo", "acme/other"]);
    assert_eq!(
        rules,
        vec![("role-trust-rejects-job".into(), "error".into())]
    );
}

#[test]
fn immutable_subject_form_with_ids_from_the_event() {
    let t = tempfile::tempdir().unwrap();
    repo(t.path(), PUSH_WF, "repo:acme@12/app@34:ref:refs/heads/main");
    let ev = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        ev.path(),
        r#"{"repository":{"full_name":"acme/app","default_branch":"main","id":34,"owner":{"id":12}}}"#,
    )
    .unwrap();
    let dir = t.path().to_str().unwrap();
    let env = ci_env(dir, ev.path().to_str().unwrap());
    // Form unknown: never judged certain, and the summary says so.
    let (code, rules, err) = run(t.path(), &env, &[]);
    assert_eq!(code, 0, "{rules:?}");
    assert!(
        err.contains("subject format unknown: set subject-format"),
        "{err}"
    );
    // Form `id` and ids from the event: the trust admits the job.
    std::fs::write(t.path().join("oidc-lint.toml"), "subject-format = \"id\"\n").unwrap();
    let (code, rules, err) = run(t.path(), &env, &[]);
    assert_eq!(code, 0, "{rules:?}");
    assert!(!err.contains("subject format unknown"), "{err}");
    // Other ids: rejected.
    std::fs::write(
        ev.path(),
        r#"{"repository":{"full_name":"acme/app","default_branch":"main","id":35,"owner":{"id":12}}}"#,
    )
    .unwrap();
    let (_, rules, _) = run(t.path(), &env, &[]);
    assert!(has(&rules, "role-trust-rejects-job", "error"), "{rules:?}");
    // Form `name`: the job presents `repo:acme/app:…`, which the immutable trust never matches.
    std::fs::write(
        t.path().join("oidc-lint.toml"),
        "subject-format = \"name\"\n",
    )
    .unwrap();
    let (_, rules, _) = run(t.path(), &[], &["--repo", "acme/app"]);
    assert!(has(&rules, "role-trust-rejects-job", "error"), "{rules:?}");
}

#[test]
fn bad_default_branch_values_are_usage_errors() {
    let t = tempfile::tempdir().unwrap();
    repo(t.path(), PUSH_WF, "repo:acme/app:ref:refs/heads/main");
    let code = |args: &[&str]| {
        let out = bin()
            .current_dir(t.path())
            .args(args)
            .arg(".")
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(code(&["--default-branch", "a b"]).0, 2);
    assert_eq!(code(&["--default-branch", "main"]).0, 0);
    std::fs::write(
        t.path().join("oidc-lint.toml"),
        "default-branch = \"x..y\"\n",
    )
    .unwrap();
    let (c, err) = code(&[]);
    assert_eq!(c, 2, "{err}");
    assert!(err.contains("default-branch"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// GitLab: the project path from `CI_PROJECT_PATH` (a GitLab job), `--repo` or the `origin`
// remote (nested groups kept), the default branch from `CI_DEFAULT_BRANCH`.

const GITLAB_CI: &str = r#"deploy:
  id_tokens:
    AWS_TOKEN:
      aud: sts.amazonaws.com
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
  script:
    - aws sts assume-role-with-web-identity --role-arn arn:aws:iam::123456789012:role/release --role-session-name gl --web-identity-token $AWS_TOKEN
"#;

fn gitlab_repo(dir: &Path) {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
"Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/gitlab.com"},
"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{
"gitlab.com:aud":"sts.amazonaws.com",
"gitlab.com:sub":"project_path:acme/platform/app:ref_type:branch:ref:main"}}}]}"#;
    write_files(
        dir,
        &[
            (".gitlab-ci.yml".into(), GITLAB_CI.into()),
            ("iam/release-trust.json".into(), trust.into()),
        ],
    );
}

#[test]
fn gitlab_ci_variables_give_project_and_default_branch() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    gitlab_repo(r);
    let dir = r.to_str().unwrap();
    let sel = ["--select", "role-trust-rejects-job"];
    // unknown default branch: the job's ref is unknown, no verdict
    let (code, rules, _) = run(r, &[], &sel);
    assert_eq!((code, rules.len()), (0, 0));
    let gl = |path: &'static str, branch: &'static str| {
        [
            ("GITLAB_CI", "true"),
            ("CI_PROJECT_PATH", path),
            ("CI_DEFAULT_BRANCH", branch),
            ("CI_PROJECT_DIR", dir),
        ]
    };
    let (code, _, _) = run(r, &gl("acme/platform/app", "main"), &sel);
    assert_eq!(code, 0);
    let (code, rules, _) = run(r, &gl("acme/platform/app", "trunk"), &sel);
    assert_eq!(code, 1);
    assert!(has(&rules, "role-trust-rejects-job", "error"), "{rules:?}");
    let (code, rules, _) = run(r, &gl("acme/other", "main"), &sel);
    assert_eq!(code, 1);
    assert!(has(&rules, "role-trust-rejects-job", "error"), "{rules:?}");
    // outside GitLab CI the variables mean nothing
    let (code, _, _) = run(
        r,
        &[
            ("CI_PROJECT_PATH", "acme/other"),
            ("CI_DEFAULT_BRANCH", "trunk"),
        ],
        &sel,
    );
    assert_eq!(code, 0);
}

#[test]
fn gitlab_project_path_from_origin_keeps_nested_groups() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    gitlab_repo(r);
    write_files(
        r,
        &[
            (
                ".git/config".into(),
                "[remote \"origin\"]\n\turl = git@gitlab.com:acme/platform/app.git\n".into(),
            ),
            (".git/HEAD".into(), "ref: refs/heads/main\n".into()),
        ],
    );
    let sel = ["--select", "role-trust-rejects-job"];
    let (code, _, _) = run(r, &[], &["--default-branch", "main", sel[0], sel[1]]);
    assert_eq!(code, 0);
    let (code, rules, _) = run(r, &[], &["--default-branch", "trunk", sel[0], sel[1]]);
    assert_eq!(code, 1, "{rules:?}");
    // the project is the remote's, not the one the trust names
    write_files(
        r,
        &[(
            ".git/config".into(),
            "[remote \"origin\"]\n\turl = https://gitlab.example.com/acme/platform/other.git\n"
                .into(),
        )],
    );
    let (code, _, _) = run(r, &[], &["--default-branch", "main", sel[0], sel[1]]);
    assert_eq!(code, 1);
    // `--repo` wins over the remote
    let (code, _, _) = run(
        r,
        &[],
        &[
            "--repo",
            "acme/platform/app",
            "--default-branch",
            "main",
            sel[0],
            sel[1],
        ],
    );
    assert_eq!(code, 0);
}
