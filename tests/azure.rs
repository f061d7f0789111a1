//! Azure federated identity credentials end to end, through the binary: the check's verdict and
//! the audit's agree, `dump-model` and custom rules see the credentials, and what a hostile
//! module can make the front end expand stays bounded.

mod common;
use common::*;

fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(p, c)| (p.to_string(), c.to_string()))
        .collect()
}

const IDENTITY_TF: &str = r#"
resource "azurerm_user_assigned_identity" "deploy" {
  name                = "gh-deploy"
  location            = "westeurope"
  resource_group_name = "rg"
}

resource "azurerm_federated_identity_credential" "prod" {
  name                = "github-prod"
  resource_group_name = "rg"
  parent_id           = azurerm_user_assigned_identity.deploy.id
  issuer              = "https://token.actions.githubusercontent.com"
  subject             = "repo:acme/app:environment:prod"
  audience            = ["api://AzureADTokenExchange"]
}

resource "github_actions_secret" "client_id" {
  repository      = "app"
  secret_name     = "AZURE_CLIENT_ID"
  plaintext_value = azurerm_user_assigned_identity.deploy.client_id
}
"#;

fn workflow(jobs: &str) -> String {
    format!("on:\n  push:\n    branches: [main]\npermissions:\n  id-token: write\njobs:\n{jobs}")
}

const LOGIN: &str = "      - uses: azure/login@v2\n        with:\n          client-id: ${{ secrets.AZURE_CLIENT_ID }}\n          tenant-id: ${{ secrets.AZURE_TENANT_ID }}\n          subscription-id: ${{ secrets.AZURE_SUBSCRIPTION_ID }}\n";

fn audit_json(dir: &std::path::Path) -> serde_json::Value {
    let out = bin()
        .current_dir(dir)
        .args(["audit", "--format", "json", "--repo", "acme/app", "."])
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
fn audit_and_check_agree_on_azure_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow(&format!(
        "  branch:\n    runs-on: x\n    steps:\n{LOGIN}  prod:\n    runs-on: x\n    environment: prod\n    steps:\n{LOGIN}  dispatch-only:\n    runs-on: x\n    if: false\n    steps:\n      - uses: azure/login@v2\n        with:\n          creds: ${{{{ secrets.AZURE_CREDENTIALS }}}}\n"
    ));
    write_files(
        dir.path(),
        &files(&[
            ("infra/main.tf", IDENTITY_TF),
            (".github/workflows/d.yml", &wf),
        ]),
    );
    let v = audit_json(dir.path());
    let jobs = v["repositories"][0]["jobs"].as_array().unwrap();
    let row = |job: &str, access: &str| {
        jobs.iter()
            .find(|j| j["job"] == job && j["access"] == access)
            .unwrap_or_else(|| panic!("{job} {access}: {v:#}"))
    };
    assert_eq!(row("branch", "azure-oidc")["verdict"], "rejected");
    assert_eq!(
        row("branch", "azure-oidc")["subjects"],
        serde_json::json!(["repo:acme/app:ref:refs/heads/main"])
    );
    assert_eq!(row("prod", "azure-oidc")["verdict"], "admitted");
    assert_eq!(
        row("prod", "azure-oidc")["role"]["name"],
        "azurerm_user_assigned_identity.deploy"
    );
    assert_eq!(
        row("dispatch-only", "azure-secret")["verdict"],
        "static-keys"
    );
    // the check reports exactly the rejected job
    let (code, c) = run_json(
        dir.path(),
        &[
            "--repo",
            "acme/app",
            "--select",
            "azure-fic-subject-mismatch",
            ".",
        ],
    );
    assert_eq!(code, 1);
    let h = hits(&c);
    assert_eq!(h.len(), 1, "{c:#}");
    assert_eq!(h[0].1, ".github/workflows/d.yml");
    assert!(
        c["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("job `branch`")
    );
}

#[test]
fn repository_of_another_name_is_judged_with_its_own_name() {
    // the credential names acme/app; a scan of acme/other presents acme/other: rejected
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow(&format!(
        "  prod:\n    runs-on: x\n    environment: prod\n    steps:\n{LOGIN}"
    ));
    write_files(
        dir.path(),
        &files(&[
            ("infra/main.tf", IDENTITY_TF),
            (".github/workflows/d.yml", &wf),
        ]),
    );
    let (_, same) = run_json(
        dir.path(),
        &[
            "--repo",
            "acme/app",
            "--select",
            "azure-fic-subject-mismatch",
            ".",
        ],
    );
    assert!(hits(&same).is_empty(), "{same:#}");
    // the secret is set on `app`: in `acme/other` the client id is not known, nothing is judged
    let (_, other) = run_json(
        dir.path(),
        &[
            "--repo",
            "acme/other",
            "--select",
            "azure-fic-subject-mismatch",
            ".",
        ],
    );
    assert!(hits(&other).is_empty(), "{other:#}");
    // an organisation's secret reaches every repository: `acme/other` presents its own name
    let org_tf = IDENTITY_TF.replace(
        "resource \"github_actions_secret\" \"client_id\" {\n  repository      = \"app\"\n",
        "resource \"github_actions_organization_secret\" \"client_id\" {\n  visibility      = \"all\"\n",
    );
    assert_ne!(org_tf, IDENTITY_TF);
    write_files(dir.path(), &files(&[("infra/main.tf", &org_tf)]));
    let (_, other) = run_json(
        dir.path(),
        &[
            "--repo",
            "acme/other",
            "--select",
            "azure-fic-subject-mismatch",
            ".",
        ],
    );
    assert_eq!(hits(&other).len(), 1, "{other:#}");
    let msg = other["findings"][0]["message"].as_str().unwrap();
    assert!(msg.contains("`repo:acme/other:environment:prod`"), "{msg}");
    // unknown repository: the one the credentials name is taken as this one
    let (_, unknown) = run_json(dir.path(), &["--select", "azure-fic-subject-mismatch", "."]);
    assert!(hits(&unknown).is_empty(), "{unknown:#}");
}

#[test]
fn dump_model_and_custom_rules_see_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let branch = IDENTITY_TF
        .replace("\"prod\" {", "\"main\" {")
        .replace("environment:prod", "ref:refs/heads/main");
    let tf = format!(
        "{IDENTITY_TF}\n{}",
        &branch[branch.find("resource \"azurerm_federated").unwrap()
            ..branch.find("resource \"github").unwrap()]
    );
    write_files(dir.path(), &files(&[("infra/main.tf", &tf)]));
    let out = bin()
        .current_dir(dir.path())
        .args(["dump-model", "."])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let docs = v["documents"].as_array().unwrap();
    let cred = docs
        .iter()
        .find(|d| d["kind"] == "azure-credential")
        .expect("credential document");
    assert_eq!(
        docs.iter()
            .filter(|d| d["kind"] == "azure-credential")
            .count(),
        2
    );
    assert_eq!(cred["subject"], "repo:acme/app:environment:prod");
    assert_eq!(cred["identity"], "azurerm_user_assigned_identity.deploy");
    assert_eq!(
        cred["audiences"],
        serde_json::json!(["api://AzureADTokenExchange"])
    );
    let ident = docs
        .iter()
        .find(|d| d["kind"] == "azure-identity")
        .expect("identity document");
    assert_eq!(ident["credentials"][0]["owner"], cred["owner"]);

    // a custom rule selecting credentials by kind
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("env-only.yml"),
        "id: acme/azure-env-only\nseverity: warning\nsummary: Azure credentials must be environment-scoped\nmessage: \"credential `{$.owner}` is not environment-scoped\"\napplies-to: [azure-credential]\nselect: \"$\"\npath: \"$.subject\"\nmatches: \"^repo:[^:]+:environment:\"\n",
    )
    .unwrap();
    let (_, v) = run_json(
        dir.path(),
        &[
            "--rules",
            rules.path().to_str().unwrap(),
            "--select",
            "acme/azure-env-only",
            ".",
        ],
    );
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v:#}");
    let h = hits(&v);
    assert_eq!(h.len(), 1, "{v:#}");
    assert_eq!(h[0].0, "acme/azure-env-only");
    let msg = v["findings"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains("azurerm_federated_identity_credential.main"),
        "{msg}"
    );
}

#[test]
fn a_local_set_reused_by_many_blocks_is_expanded_within_a_bound() {
    // 256 instances × 200 blocks would be 51,200 credentials: the directory's expansion stops at
    // its bound and the rest stay single credentials with `each.*` unknown (never a guess).
    let dir = tempfile::tempdir().unwrap();
    let set: Vec<String> = (0..256).map(|i| format!("\"e{i}\"")).collect();
    let mut tf = format!(
        "locals {{\n  envs = toset([{}])\n}}\nresource \"azurerm_user_assigned_identity\" \"u\" {{\n  name = \"u\"\n}}\n",
        set.join(", ")
    );
    for i in 0..200 {
        tf.push_str(&format!(
            "resource \"azurerm_federated_identity_credential\" \"c{i}\" {{\n  for_each  = local.envs\n  parent_id = azurerm_user_assigned_identity.u.id\n  issuer    = \"https://token.actions.githubusercontent.com\"\n  subject   = \"repo:acme/app:environment:${{each.value}}\"\n  audience  = [\"api://AzureADTokenExchange\"]\n}}\n"
        ));
    }
    write_files(dir.path(), &files(&[("infra/main.tf", &tf)]));
    let out = bin()
        .current_dir(dir.path())
        .args(["dump-model", "."])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let creds = v["documents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "azure-credential")
        .count();
    // 16 blocks expanded (4,096 instances), 184 left as one credential each
    assert_eq!(creds, 4096 + 184);
}
