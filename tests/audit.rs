//! `oidc-lint audit`: the inventory, and the migration it prints — applied to the repository,
//! the patched workflow and the generated trust policy produce no findings.

mod common;
use common::*;

fn audit_json(dir: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let out = bin()
        .arg("audit")
        .arg(dir)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn migration_fed_back_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join("scenarios/static-keys"), dir.path());
    // before: long-lived keys are reported
    let (_, before) = run_json(dir.path(), &[".", "--repo", "acme/app"]);
    assert!(
        hits(&before)
            .iter()
            .any(|(r, _, _)| r == "workflow-long-lived-keys")
    );

    let v = audit_json(dir.path(), &["--repo", "acme/app"]);
    let jobs = v["repositories"][0]["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2);
    let wf = dir.path().join(".github/workflows/deploy.yml");
    let original = std::fs::read_to_string(&wf).unwrap();
    let patch_text = jobs[0]["migration"]["workflow_patch"].as_str().unwrap();
    assert_eq!(
        patch_text,
        jobs[1]["migration"]["workflow_patch"].as_str().unwrap()
    );
    let patch = diffy::Patch::from_str(patch_text).unwrap();
    std::fs::write(&wf, diffy::apply(&original, &patch).unwrap()).unwrap();
    for j in jobs {
        assert_eq!(j["verdict"], "static-keys");
        let m = &j["migration"];
        let name = m["role_name"].as_str().unwrap();
        std::fs::create_dir_all(dir.path().join("iam")).unwrap();
        std::fs::write(
            dir.path().join(format!("iam/{name}-trust.json")),
            serde_json::to_string_pretty(&m["trust_policy"]).unwrap(),
        )
        .unwrap();
        // the Terraform is valid HCL
        let tf = m["terraform"].as_str().unwrap();
        tf.parse::<hcl_edit::structure::Body>().unwrap();
    }
    let (code, after) = run_json(dir.path(), &[".", "--repo", "acme/app"]);
    assert_eq!(hits(&after), vec![], "{after:#}");
    assert_eq!(code, 0);

    // and the audit now finds OIDC jobs whose roles admit them
    let v = audit_json(dir.path(), &["--repo", "acme/app"]);
    let verdicts: Vec<(&str, &str)> = v["repositories"][0]["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["access"].as_str().unwrap(),
                j["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(verdicts, vec![("oidc", "admitted"), ("oidc", "admitted")]);
}

#[test]
fn terraform_migration_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join("scenarios/static-keys"), dir.path());
    let v = audit_json(dir.path(), &["--repo", "acme/app"]);
    let jobs = v["repositories"][0]["jobs"].as_array().unwrap();
    let wf = dir.path().join(".github/workflows/deploy.yml");
    let original = std::fs::read_to_string(&wf).unwrap();
    let patch =
        diffy::Patch::from_str(jobs[0]["migration"]["workflow_patch"].as_str().unwrap()).unwrap();
    std::fs::write(&wf, diffy::apply(&original, &patch).unwrap()).unwrap();
    // one provider data source per module: keep the first
    let mut tf = String::new();
    for (i, j) in jobs.iter().enumerate() {
        let t = j["migration"]["terraform"].as_str().unwrap();
        let t = if i == 0 {
            t
        } else {
            t.split_once("}\n\n").unwrap().1
        };
        tf.push_str(t);
        tf.push('\n');
    }
    std::fs::create_dir_all(dir.path().join("infra")).unwrap();
    std::fs::write(dir.path().join("infra/oidc.tf"), tf).unwrap();
    let (_, after) = run_json(dir.path(), &[".", "--repo", "acme/app"]);
    assert_eq!(hits(&after), vec![], "{after:#}");
}

#[test]
fn inventory_of_oidc_jobs_and_formats() {
    let v = audit_json(
        &fixtures().join("scenarios/env-vs-branch"),
        &["--repo", "acme/app"],
    );
    let j = &v["repositories"][0]["jobs"][0];
    assert_eq!(j["job"], "deploy");
    assert_eq!(j["access"], "oidc");
    assert_eq!(j["role"]["name"], "deploy");
    assert_eq!(j["role"]["defined_in"], "iam/deploy-trust.json");
    assert_eq!(
        j["subjects"],
        serde_json::json!(["repo:acme/app:environment:production"])
    );
    assert_eq!(j["verdict"], "rejected");

    let v = audit_json(&fixtures().join("scenarios/quiet-split-roles"), &[]);
    let verdicts: Vec<String> = v["repositories"][0]["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            format!(
                "{} {}",
                j["job"].as_str().unwrap(),
                j["verdict"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(verdicts, vec!["plan admitted", "apply admitted"]);

    // a directory of checkouts: one entry per repository
    let v = audit_json(&fixtures().join("scenarios"), &[]);
    assert!(v["repositories"].as_array().unwrap().len() >= 10);

    let md = bin()
        .args(["audit", "--format", "markdown", "--repo", "acme/app"])
        .arg(fixtures().join("scenarios/static-keys"))
        .output()
        .unwrap();
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.contains("| workflow | job | access | role | subjects | verdict |"));
    assert!(md.contains("```diff\n--- a/.github/workflows/deploy.yml"));
    let table = bin()
        .args(["audit", "--repo", "acme/app"])
        .arg(fixtures().join("scenarios/pr-vs-branch"))
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(table.contains("JOB"), "{table}");
    assert!(table.contains("rejected"), "{table}");
}

/// A role trusting only GitHub's retired beta issuer: the job is judged against the tokens
/// GitHub issues today (`token.actions…`), so the audit lists it as rejected, as the check does.
#[test]
fn retired_beta_issuer_role_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let trust = std::fs::read_to_string(
        fixtures().join("rules/trust-sub-never-matches/bad-vstoken-only-issuer/iam/trust.json"),
    )
    .unwrap()
    .replace("repo:acme/*", "repo:acme/app:*");
    let workflow = "on:\n  push:\n    branches: [main]\npermissions:\n  id-token: write\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          role-to-assume: arn:aws:iam::123456789012:role/deploy\n          aws-region: us-east-1\n";
    write_files(
        dir.path(),
        &[
            ("iam/deploy-trust.json".into(), trust),
            (".github/workflows/deploy.yml".into(), workflow.into()),
        ],
    );
    let v = audit_json(dir.path(), &["--repo", "acme/app"]);
    let j = &v["repositories"][0]["jobs"][0];
    assert_eq!(j["role"]["defined_in"], "iam/deploy-trust.json");
    assert_eq!(j["verdict"], "rejected", "{v:#}");
    let (_, check) = run_json(dir.path(), &["--repo", "acme/app", "."]);
    let rules: Vec<&str> = check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"trust-sub-never-matches"), "{rules:?}");
    assert!(rules.contains(&"role-trust-rejects-job"), "{rules:?}");
    // `repo:acme/app:*` is repository-wide, but no token satisfies the statement
    assert!(!rules.contains(&"trust-sub-repo-wide"), "{rules:?}");
}

fn audit_out(args: &[&str], cwd: Option<&std::path::Path>) -> String {
    let mut c = bin();
    if let Some(d) = cwd {
        c.current_dir(d);
    }
    let out = c.arg("audit").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A generated organisation of `n` checkouts (scripts/gen-org.py).
fn org(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let st = std::process::Command::new("python3")
        .arg(root.join("scripts/gen-org.py"))
        .arg(dir.path().join("org"))
        .arg(n.to_string())
        .status()
        .unwrap();
    assert!(st.success());
    dir
}

/// The check's verdicts, keyed like the audit's: (workflow path in the scan, rule).
fn check_rules(
    dir: &std::path::Path,
    args: &[&str],
) -> std::collections::BTreeSet<(String, String)> {
    let (_, v) = run_json(dir, args);
    hits(&v)
        .into_iter()
        .map(|(rule, path, _)| (path, rule))
        .collect()
}

#[test]
fn audit_and_check_agree_on_every_job_across_checkouts() {
    let dir = org(60);
    let org = dir.path().join("org");
    let v = audit_json(&org, &[]);
    let checked = check_rules(&org, &["."]);
    let mut jobs = 0;
    for r in v["repositories"].as_array().unwrap() {
        let name = std::path::Path::new(r["path"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert_eq!(r["repository"], format!("acme/{name}"));
        for j in r["jobs"].as_array().unwrap() {
            jobs += 1;
            let wf = format!("{name}/{}", j["workflow"].as_str().unwrap());
            let verdict = j["verdict"].as_str().unwrap();
            let has = |rule: &str| checked.contains(&(wf.clone(), rule.to_string()));
            // the check's rules act on exactly the audit's verdicts
            assert_eq!(
                verdict == "rejected",
                has("role-trust-rejects-job"),
                "{wf}: {j:#}"
            );
            assert_eq!(
                verdict == "static-keys",
                has("workflow-long-lived-keys"),
                "{wf}"
            );
            // roles defined in the infrastructure checkouts resolve for the services
            let role = j["role"]["name"].as_str().unwrap_or("");
            assert_eq!(
                verdict == "role-not-in-scan",
                role.ends_with("-elsewhere"),
                "{wf}: {j:#}"
            );
            assert_ne!(verdict, "unknown", "{wf}: {j:#}");
            // a role trusting the whole organisation is drawn as too wide
            if j["edge"] == "too-wide" {
                assert!(!v["summary"]["widest_trusts"].as_array().unwrap().is_empty());
            }
            // placeholder keys for a local emulator are no migration candidate
            assert!(!wf.ends_with("test.yml"), "{wf}");
        }
    }
    assert!(jobs > 60, "{jobs}");
    assert!(
        !checked
            .iter()
            .any(|(p, r)| p.ends_with("test.yml") && r == "workflow-long-lived-keys")
    );
    assert_eq!(v["summary"]["jobs"], jobs);
    for k in ["admitted", "rejected", "too-wide"] {
        assert!(v["summary"]["edges"][k].as_u64().unwrap() > 0, "{k}");
    }
    // several path arguments: the same one scan (a service and the infrastructure it uses)
    let two = audit_json_args(&org, &["svc-0002", "infra-000"]);
    let j = &two["repositories"][0]["jobs"][0];
    assert_eq!(j["verdict"], "rejected", "{two:#}");
    assert_eq!(
        j["role"]["defined_in"],
        "infra-000/iam/gha-svc-0002-deploy-trust.json"
    );
}

fn audit_json_args(cwd: &std::path::Path, paths: &[&str]) -> serde_json::Value {
    let mut args = paths.to_vec();
    args.extend(["--format", "json"]);
    serde_json::from_str(&audit_out(&args, Some(cwd))).unwrap()
}

#[test]
fn static_keys_reuse_an_existing_role_else_a_new_one() {
    let dir = org(12);
    let org = dir.path().join("org");
    let v = audit_json(&org, &[]);
    let publish: Vec<&serde_json::Value> = v["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["jobs"].as_array().unwrap())
        .filter(|j| j["job"] == "publish")
        .collect();
    assert!(!publish.is_empty());
    for j in publish {
        let m = &j["migration"];
        // svc-N's trust in infra names acme/svc-N: reuse that role
        assert!(
            m["reuse"]["defined_in"]
                .as_str()
                .unwrap()
                .starts_with("infra-")
        );
        assert!(m["role_name"].as_str().unwrap().ends_with("-deploy"));
    }
    // a repository with no OIDC role anywhere: a new role
    let v = audit_json(
        &fixtures().join("scenarios/static-keys"),
        &["--repo", "acme/app"],
    );
    let m = &v["repositories"][0]["jobs"][0]["migration"];
    assert_eq!(m["reuse"], serde_json::Value::Null);
    assert_eq!(m["role_name"], "github-app-deploy");
    assert_eq!(v["summary"]["new_role_proposals"], 2);
}

#[test]
fn merge_of_separate_runs_equals_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let a = fixtures().join("scenarios/static-keys");
    let b = fixtures().join("scenarios/matrix-roles");
    let mut files = vec![];
    for (i, p) in [&a, &b].iter().enumerate() {
        let f = dir.path().join(format!("{i}.json"));
        audit_out(
            &[
                p.to_str().unwrap(),
                "--format",
                "json",
                "--output",
                f.to_str().unwrap(),
            ],
            None,
        );
        files.push(f.to_str().unwrap().to_string());
    }
    let mut args = vec!["--merge", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let merged: serde_json::Value = serde_json::from_str(&audit_out(&args, None)).unwrap();
    let together = audit_json_args(
        std::path::Path::new("/"),
        &[a.to_str().unwrap(), b.to_str().unwrap()],
    );
    assert_eq!(merged["summary"], together["summary"]);
    assert_eq!(merged["repositories"].as_array().unwrap().len(), 2);
    // not a report: an input error naming the file
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{}").unwrap();
    let out = bin().args(["audit", "--merge"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json"));
}

#[test]
fn every_format_at_organisation_scale() {
    let dir = org(400);
    let org = dir.path().join("org");
    let o = org.to_str().unwrap();
    let v = audit_json(&org, &[]);
    let jobs = v["summary"]["jobs"].as_u64().unwrap() as usize;

    let table = audit_out(&[o], None);
    assert!(
        table.starts_with("oidc-lint audit: 400 repositories"),
        "{table}"
    );
    for l in table.lines() {
        assert!(
            l.chars().count() <= 100,
            "{} columns: {l}",
            l.chars().count()
        );
    }

    let md = audit_out(&[o, "--format", "markdown"], None);
    assert!(md.chars().count() < 65_536, "{}", md.chars().count());
    assert!(md.starts_with("## oidc-lint audit\n\n**400** repositories"));
    assert!(md.contains("more repositories ("), "the rest is counted");
    assert!(md.contains("<details>"));

    let csv = audit_out(&[o, "--format", "csv"], None);
    assert_eq!(csv.lines().count(), jobs + 1);
    assert!(csv.starts_with("repository,path,workflow,line,job,access,"));

    let html = audit_out(&[o, "--format", "html"], None);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<svg"));
    assert!(html.contains("default-src 'none'"));
    // nothing to fetch (the browser test also watches the requests)
    for external in [
        "src=", "href=", "url(", "@import", "<link", "<img", "<iframe", "<object",
    ] {
        assert!(!html.contains(external), "{external}");
    }
    assert_eq!(html.matches("<tr class=\"job\"").count(), jobs);

    // same input, same bytes
    assert_eq!(html, audit_out(&[o, "--format", "html"], None));
}

#[test]
fn configuration_is_read_and_cells_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<(String, String)> = [
            (
                "oidc-lint.toml",
                "repository = \"acme/app\"\n[role-mappings]\nDEPLOY_ROLE = \"arn:aws:iam::123456789012:role/deploy\"\n",
            ),
            (
                ".github/workflows/d.yml",
                "on:\n  push:\n    branches: [main]\npermissions:\n  id-token: write\njobs:\n  \"x|<b>y</b>`z\":\n    runs-on: ubuntu-latest\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v6\n        with:\n          role-to-assume: ${{ secrets.DEPLOY_ROLE }}\n          aws-region: eu-west-1\n",
            ),
            (
                "iam/deploy-trust.json",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com","token.actions.githubusercontent.com:sub":"repo:acme/app:ref:refs/heads/main"}}}]}"#,
            ),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    write_files(dir.path(), &files);
    let v = audit_json(dir.path(), &[]);
    let j = &v["repositories"][0]["jobs"][0];
    assert_eq!(j["role"]["name"], "deploy", "{v:#}");
    assert_eq!(j["role"]["account"], "123456789012");
    assert_eq!(j["verdict"], "admitted");

    let p = dir.path().to_str().unwrap();
    let md = audit_out(&[p, "--format", "markdown"], None);
    // the job name is one code span (literal on GitHub), its pipe escaped: six cells
    let row = md
        .lines()
        .find(|l| l.starts_with("| `.github"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(row.contains(" | ``x\\|<b>y</b>`z`` | "), "{row}");
    assert_eq!(row.matches(" | ").count(), 5, "{row}");
    let html = audit_out(&[p, "--format", "html"], None);
    assert!(!html.contains("<b>y</b>"));
    assert!(html.contains("x&#124;&lt;b&gt;y&lt;/b&gt;`z"));
    // without the mapping the hint names the configuration key
    std::fs::remove_file(dir.path().join("oidc-lint.toml")).unwrap();
    let v = audit_json(dir.path(), &[]);
    let note = v["repositories"][0]["jobs"][0]["role"]["note"]
        .as_str()
        .unwrap();
    assert!(note.contains("`role-mappings`"), "{note}");
}

#[test]
fn a_new_role_is_named_like_the_existing_ones() {
    let dir = tempfile::tempdir().unwrap();
    let trust = |repo: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com","token.actions.githubusercontent.com:sub":"repo:{repo}:ref:refs/heads/main"}}}}}}]}}"#
        )
    };
    let files = vec![
        ("iam/gha-web-deploy-trust.json".to_string(), trust("acme/web")),
        ("iam/gha-api-deploy-trust.json".to_string(), trust("acme/api")),
        (
            ".github/workflows/p.yml".to_string(),
            "on:\n  push:\n    branches: [main]\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v6\n        with:\n          aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}\n          aws-secret-access-key: ${{ secrets.AWS_SECRET_ACCESS_KEY }}\n          aws-region: eu-west-1\n".to_string(),
        ),
    ];
    write_files(dir.path(), &files);
    let v = audit_json(dir.path(), &["--repo", "acme/app"]);
    let m = &v["repositories"][0]["jobs"][0]["migration"];
    // no role trusts acme/app: a new one, with the organisation's `gha-` prefix
    assert_eq!(m["reuse"], serde_json::Value::Null, "{v:#}");
    assert_eq!(m["role_name"], "gha-app-publish");
    // a role that trusts acme/app already: reuse it
    write_files(
        dir.path(),
        &[(
            "iam/gha-app-deploy-trust.json".to_string(),
            trust("acme/app"),
        )],
    );
    let v = audit_json(dir.path(), &["--repo", "acme/app"]);
    let m = &v["repositories"][0]["jobs"][0]["migration"];
    assert_eq!(m["role_name"], "gha-app-deploy");
    assert_eq!(m["reuse"]["defined_in"], "iam/gha-app-deploy-trust.json");
}

#[test]
fn gitlab_jobs_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &fixtures().join("rules/role-trust-rejects-job/bad-gitlab-tag-job-included-template"),
        dir.path(),
    );
    let v = audit_json(dir.path(), &[]);
    let jobs = v["repositories"][0]["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{v}");
    let j = &jobs[0];
    assert_eq!(j["job"], "release");
    assert_eq!(j["workflow"], "ci/aws.yml");
    assert_eq!(j["access"], "oidc");
    assert_eq!(j["role"]["name"], "release");
    assert_eq!(j["role"]["account"], "123456789012");
    assert_eq!(j["role"]["defined_in"], "iam/release-trust.json");
    assert_eq!(j["audience"], "sts.amazonaws.com");
    assert_eq!(
        j["subjects"],
        serde_json::json!(["project_path:acme/platform/app:ref_type:tag:ref:*"])
    );
    assert_eq!(j["verdict"], "rejected");
    assert_eq!(v["summary"]["verdicts"]["rejected"], 1);
    // the table names the job too
    let table = bin().arg("audit").arg(dir.path()).output().unwrap();
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.contains("release ci/aws.yml:2"), "{text}");
}

/// The jobs of an audit as `(workflow, job, access, verdict, via)`.
fn job_rows(v: &serde_json::Value) -> Vec<(String, String, String, String, Option<String>)> {
    let s = |j: &serde_json::Value, k: &str| j[k].as_str().unwrap_or_default().to_string();
    v["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["jobs"].as_array().unwrap().iter())
        .map(|j| {
            (
                s(j, "workflow"),
                s(j, "job"),
                s(j, "access"),
                s(j, "verdict"),
                j["via"].as_str().map(String::from),
            )
        })
        .collect()
}

const TRUST_DEV: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com","token.actions.githubusercontent.com:sub":"repo:acme/app:ref:refs/heads/dev"}}}]}"#;

/// Jobs that reach AWS only through a local composite action (nested, with the role passed as
/// an input) are audited and checked like jobs running configure-aws-credentials themselves;
/// a `uses:` leaving the tree or an action running itself is not followed.
#[test]
fn jobs_reaching_aws_through_local_composite_actions() {
    let dir = tempfile::tempdir().unwrap();
    let wf = "on:\n  push:\n    branches: [main]\npermissions:\n  contents: read\n  id-token: write\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: ./.github/actions/outer\n        with:\n          role: arn:aws:iam::123456789012:role/deploy\n  legacy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./.github/actions/keys/\n  escape:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./../outside\n      - uses: ./.github/actions/loop\n";
    let action = |body: &str| {
        format!(
            "name: a\ninputs:\n  role:\n    required: false\nruns:\n  using: composite\n  steps:\n{body}"
        )
    };
    write_files(
        dir.path(),
        &[
            (".github/workflows/deploy.yml".into(), wf.into()),
            (
                ".github/actions/outer/action.yml".into(),
                action(
                    "    - uses: ./.github/actions/aws\n      with:\n        role: ${{ inputs.role }}\n",
                ),
            ),
            (
                ".github/actions/aws/action.yaml".into(),
                action(
                    "    - uses: aws-actions/configure-aws-credentials@v6\n      with:\n        role-to-assume: ${{ inputs.role }}\n        aws-region: eu-west-1\n",
                ),
            ),
            (
                ".github/actions/keys/action.yml".into(),
                action(
                    "    - uses: aws-actions/configure-aws-credentials@v6\n      with:\n        aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}\n        aws-secret-access-key: ${{ secrets.AWS_SECRET_ACCESS_KEY }}\n        aws-region: eu-west-1\n",
                ),
            ),
            (
                ".github/actions/loop/action.yml".into(),
                action("    - uses: ./.github/actions/loop\n"),
            ),
            (
                "outside/action.yml".into(),
                action(
                    "    - uses: aws-actions/configure-aws-credentials@v6\n      with:\n        role-to-assume: arn:aws:iam::123456789012:role/deploy\n        aws-region: eu-west-1\n",
                ),
            ),
            ("iam/deploy-trust.json".into(), TRUST_DEV.into()),
        ],
    );
    let rows = job_rows(&audit_json(dir.path(), &["--repo", "acme/app"]));
    let w = ".github/workflows/deploy.yml".to_string();
    assert_eq!(
        rows,
        vec![
            (
                w.clone(),
                "deploy".into(),
                "oidc".into(),
                "rejected".into(),
                None
            ),
            (
                w.clone(),
                "legacy".into(),
                "static-keys".into(),
                "static-keys".into(),
                None
            ),
        ]
    );
    // The check judges the same job: the finding is on the caller's `role` input.
    let (_, v) = run_json(dir.path(), &["--repo", "acme/app"]);
    let rejects: Vec<_> = hits(&v)
        .into_iter()
        .filter(|(rule, _, _)| rule == "role-trust-rejects-job")
        .collect();
    assert_eq!(rejects, vec![("role-trust-rejects-job".into(), w, 14)]);
}

/// A job calling a reusable workflow is listed as the job that reaches AWS (with the called
/// workflow's job as `via`), not the called workflow.
#[test]
fn reusable_workflows_are_listed_under_the_calling_jobs() {
    let v = audit_json(&fixtures().join("scenarios/reusable-caller"), &[]);
    let via = Some(".github/workflows/deploy.yml job deploy".to_string());
    let w = ".github/workflows/release.yml".to_string();
    assert_eq!(
        job_rows(&v),
        vec![
            (
                w.clone(),
                "staging".into(),
                "oidc".into(),
                "rejected".into(),
                via.clone()
            ),
            (
                w,
                "production".into(),
                "oidc".into(),
                "rejected".into(),
                via
            ),
        ]
    );
}
