//! `oidc-lint audit`: the inventory, and the migration it prints — applied to the repository,
//! the patched workflow and the generated trust policy produce no findings.

mod common;
use common::*;

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

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
    copy_dir(&fixtures().join("scenarios/static-keys"), dir.path());
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
    copy_dir(&fixtures().join("scenarios/static-keys"), dir.path());
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
