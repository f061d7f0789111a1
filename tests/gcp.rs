//! Google Cloud workload identity federation through the binary: conditions Google refuses or
//! the scan cannot analyse, hostile CEL, the gh-oidc module, audit and dump-model.

mod common;
use common::*;

fn provider(cond: &str) -> String {
    format!(
        r#"resource "google_iam_workload_identity_pool" "gh" {{
  workload_identity_pool_id = "gh"
}}

resource "google_iam_workload_identity_pool_provider" "gh" {{
  workload_identity_pool_id          = google_iam_workload_identity_pool.gh.workload_identity_pool_id
  workload_identity_pool_provider_id = "gh"
  attribute_mapping = {{
    "google.subject"       = "assertion.sub"
    "attribute.repository" = "assertion.repository"
  }}
  attribute_condition = {cond}
  oidc {{
    issuer_uri = "https://token.actions.githubusercontent.com"
  }}
}}
"#
    )
}

fn rules_of(v: &serde_json::Value) -> Vec<String> {
    hits(v).into_iter().map(|(r, _, _)| r).collect()
}

#[test]
fn deeply_nested_condition_is_skipped_not_crashed() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!(
        "\"{}assertion.repository_owner_id == '1'{}\"",
        "(".repeat(1500),
        ")".repeat(1500)
    );
    let nots = format!("\"{}true\"", "!".repeat(3000));
    write_files(
        dir.path(),
        &[
            ("a/main.tf".into(), provider(&deep)),
            ("b/main.tf".into(), provider(&nots)),
        ],
    );
    let (code, v) = run_json(dir.path(), &["."]);
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v}");
    // too deep to analyse: neither valid nor invalid, and not "missing"
    let rules = rules_of(&v);
    assert!(
        !rules
            .iter()
            .any(|r| r.starts_with("gcp-wif-invalid") || r == "gcp-wif-missing-condition"),
        "{rules:?}"
    );
    assert!(code == 0 || code == 1);
}

#[test]
fn overlong_and_malformed_conditions_are_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!(
        "\"assertion.repository_owner_id == '1' && ({})\"",
        vec!["assertion.ref == 'refs/heads/main'"; 130].join(" || ")
    );
    write_files(
        dir.path(),
        &[
            ("long/main.tf".into(), provider(&long)),
            (
                "bad/main.tf".into(),
                provider("\"assertion.repository_owner_id ==\""),
            ),
        ],
    );
    let (_, v) = run_json(dir.path(), &["--select", "gcp-wif-invalid-condition", "."]);
    let msgs: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(
        msgs.iter()
            .any(|m| m.contains("Google accepts at most 4096")),
        "{msgs:?}"
    );
    assert!(msgs.iter().any(|m| m.contains("not valid CEL")), "{msgs:?}");
}

#[test]
fn condition_from_unknown_variable_is_not_judged() {
    let dir = tempfile::tempdir().unwrap();
    let tf = format!(
        "variable \"cond\" {{\n  type = string\n}}\n{}",
        provider("var.cond")
    );
    write_files(dir.path(), &[("main.tf".into(), tf)]);
    let (_, v) = run_json(dir.path(), &["."]);
    assert!(!rules_of(&v).iter().any(|r| r.starts_with("gcp-")), "{v}");
}

#[test]
fn gh_oidc_module_with_star_attribute_and_no_condition() {
    let dir = tempfile::tempdir().unwrap();
    let tf = r#"resource "google_service_account" "ci" {
  account_id = "ci"
}

module "gh_oidc" {
  source      = "terraform-google-modules/github-actions-runners/google//modules/gh-oidc"
  project_id  = "acme"
  pool_id     = "gh-pool"
  provider_id = "gh-provider"
  sa_mapping = {
    ci = {
      sa_name   = google_service_account.ci.name
      attribute = "*"
    }
  }
}
"#;
    write_files(dir.path(), &[("main.tf".into(), tf.into())]);
    let (code, v) = run_json(dir.path(), &["."]);
    assert_eq!(code, 1);
    let rules = rules_of(&v);
    assert!(
        rules.contains(&"gcp-wif-missing-condition".to_string()),
        "{rules:?}"
    );
    let pool_wide = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "gcp-wif-pool-wide-binding")
        .expect("pool-wide binding");
    assert_eq!(pool_wide["severity"], "error", "{pool_wide}");
}

#[test]
fn audit_and_dump_model_cover_google_cloud() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &fixtures().join("rules/role-trust-rejects-job/bad-gcp-binding-names-other-repository"),
        dir.path(),
    );
    let out = bin()
        .current_dir(dir.path())
        .args(["audit", "--format", "json", "."])
        .output()
        .unwrap();
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let job = &a["repositories"][0]["jobs"][0];
    assert_eq!(job["access"], "gcp-oidc", "{a}");
    assert_eq!(job["verdict"], "rejected", "{a}");
    assert_eq!(
        job["role"]["name"],
        "deploy@acme-prod.iam.gserviceaccount.com"
    );
    assert_eq!(job["role"]["defined_in"], "terraform/wif.tf");

    let out = bin()
        .current_dir(dir.path())
        .args(["dump-model", "."])
        .output()
        .unwrap();
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = d["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"gcp-wif-provider"), "{kinds:?}");
    assert!(kinds.contains(&"gcp-iam-member"), "{kinds:?}");
}

#[test]
fn many_providers_scan_deterministically() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for i in 0..300 {
        files.push((
            format!("m{i}/main.tf"),
            provider(&format!("\"assertion.repository == 'acme/r{i}'\"")),
        ));
    }
    write_files(dir.path(), &files);
    let run = || {
        bin()
            .current_dir(dir.path())
            .args(["--format", "json", "."])
            .output()
            .unwrap()
            .stdout
    };
    let first = run();
    assert_eq!(first, run());
    let v: serde_json::Value = serde_json::from_slice(&first).unwrap();
    // a per-repository condition by name: one note each, nothing else
    let rules = rules_of(&v);
    assert_eq!(rules.len(), 300, "{rules:?}");
    assert!(rules.iter().all(|r| r == "gcp-wif-name-based-identity"));
}

/// A local module with both an AWS role and a Google provider, called by a root: the caller's
/// instance (AWS, judged on its values) does not drop the module's Google resources, read once.
#[test]
fn module_instance_keeps_google_resources() {
    let dir = tempfile::tempdir().unwrap();
    let module = format!(
        "variable \"project\" {{}}\n{}\nresource \"aws_iam_role\" \"r\" {{\n  name = \"r-${{var.project}}\"\n  assume_role_policy = jsonencode({{Statement = [{{Effect = \"Allow\", Action = \"sts:AssumeRole\", Principal = {{Service = \"ec2.amazonaws.com\"}}}}]}})\n}}\n",
        provider("null")
    );
    write_files(
        dir.path(),
        &[
            (
                "main.tf".into(),
                "module \"wif\" {\n  source  = \"./mod\"\n  project = \"p\"\n}\n".into(),
            ),
            ("mod/main.tf".into(), module),
        ],
    );
    let (_, v) = run_json(dir.path(), &["."]);
    assert!(
        rules_of(&v).contains(&"gcp-wif-missing-condition".to_string()),
        "{v}"
    );
}
