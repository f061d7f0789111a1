//! Terraform HCL inputs: every trust-policy rule fires at the exact line on each way a trust
//! policy is written in Terraform (jsonencode, heredoc, aws_iam_policy_document, the
//! GitHub-OIDC modules) and stays quiet on the correct configurations beside them.

mod common;
use common::*;
use oidc_lint::scan::{ScanOptions, Settings, scan};
use std::path::{Path, PathBuf};

fn tf_fixtures() -> PathBuf {
    fixtures().join("iac/terraform")
}

fn lib_scan(root: &Path) -> (oidc_lint::scan::Scan, Vec<oidc_lint::diag::Finding>) {
    let s = scan(&ScanOptions {
        root: root.to_path_buf(),
        paths: vec![root.to_path_buf()],
        max_file_size: 10 * 1024 * 1024,
        settings: Settings::default(),
    });
    let f = oidc_lint::check(&s, &oidc_lint::Selection::default());
    (s, f)
}

#[test]
fn every_rule_fires_at_the_right_line_and_only_there() {
    let (code, v) = run_json(&tf_fixtures(), &["."]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["errors"].as_array().unwrap().len(), 0, "{v}");
    let mut got = hits(&v);
    got.sort();
    let mut want: Vec<(String, String, u64)> = [
        // `"repo:${var.github_org}/*"` is org-wide whatever the variable holds
        ("trust-sub-org-wide", "deploy-roles/main.tf", 16),
        // the Federated principal from a local built from a variable default
        ("trust-missing-aud", "deploy-roles/main.tf", 53),
        // `<<-EOF` heredoc JSON
        ("trust-sub-any-repo", "heredoc/main.tf", 19),
        // terraform-aws-modules v5: `subjects = ["*"]` becomes `repo:*`
        ("trust-sub-any-repo", "modules/main.tf", 6),
        // v6 iam-role: `oidc_wildcard_subjects = ["acme/*"]`
        ("trust-sub-org-wide", "modules/main.tf", 27),
        // v6 iam-role without subjects renders no `sub` condition
        ("trust-missing-sub", "modules/main.tf", 31),
        // unfunco v2 appends `:*` to bare entries: `repo:acme/*:*`
        ("trust-sub-org-wide", "modules/main.tf", 54),
        // repeated test+variable condition blocks are merged (OR): the loose value counts
        ("trust-sub-org-wide", "policy-document/main.tf", 29),
        // principal is `aws_iam_openid_connect_provider.github.arn`
        ("trust-missing-sub", "provider/main.tf", 14),
        // duplicate HCL object key: the last `sub` entry is the one Terraform keeps
        ("trust-sub-any-repo", "provider/main.tf", 35),
        // AdministratorAccess attached to the org-wide role
        ("perm-admin-access", "deploy-roles/main.tf", 67),
        // ...and the first one, silently dropped, is reported where it is written
        ("trust-duplicate-key", "provider/main.tf", 34),
        // unfunco v3: `acme/docs:pull_request` shares the role with `acme/site`'s main branch
        ("trust-sub-admits-pull-request", "modules/main.tf", 45),
    ]
    .iter()
    .map(|(r, p, l)| (r.to_string(), p.to_string(), *l))
    .collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn spans_slice_back_to_the_offending_text() {
    let (s, findings) = lib_scan(&tf_fixtures());
    let mut seen = Vec::new();
    for f in &findings {
        let src = s.file(f.file);
        seen.push((f.rule, src.rel.clone(), src.slice(f.span).to_string()));
    }
    seen.sort();
    let mut want: Vec<(&str, String, String)> = [
        (
            "perm-admin-access",
            "deploy-roles/main.tf",
            "\"arn:aws:iam::aws:policy/AdministratorAccess\"",
        ),
        (
            "trust-missing-aud",
            "deploy-roles/main.tf",
            "local.provider_arn",
        ),
        (
            "trust-missing-sub",
            "modules/main.tf",
            "module \"deploy_role_v6_nosub\"",
        ),
        (
            "trust-missing-sub",
            "provider/main.tf",
            "aws_iam_openid_connect_provider.github.arn",
        ),
        (
            "trust-sub-any-repo",
            "heredoc/main.tf",
            "\"repo:*/legacy-app:*\"",
        ),
        ("trust-sub-any-repo", "modules/main.tf", "\"*\""),
        ("trust-sub-any-repo", "provider/main.tf", "\"repo:*\""),
        (
            "trust-duplicate-key",
            "provider/main.tf",
            "\"token.actions.githubusercontent.com:sub\"",
        ),
        (
            "trust-sub-admits-pull-request",
            "modules/main.tf",
            "\"acme/docs:pull_request\"",
        ),
        (
            "trust-sub-org-wide",
            "deploy-roles/main.tf",
            "\"repo:${var.github_org}/*\"",
        ),
        ("trust-sub-org-wide", "modules/main.tf", "\"acme/*\""),
        ("trust-sub-org-wide", "modules/main.tf", "\"acme/*\""),
        (
            "trust-sub-org-wide",
            "policy-document/main.tf",
            "\"repo:acme/*\"",
        ),
    ]
    .iter()
    .map(|(r, p, t)| (*r, p.to_string(), t.to_string()))
    .collect();
    want.sort();
    assert_eq!(seen, want);
}

#[test]
fn human_output_points_into_the_tf_file() {
    let out = bin()
        .current_dir(tf_fixtures().join("heredoc"))
        .args(["--color", "never", "."])
        .output()
        .unwrap();
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

const SEED_LIKE: &str = r#"locals {
  oidc_arn = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
  oidc_url = "token.actions.githubusercontent.com"
}

resource "aws_iam_role" "app" {
  name = "app-${var.env}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect = "Allow"
        Principal = {
          Federated = local.oidc_arn
        }
        Action = "sts:AssumeRoleWithWebIdentity"
        Condition = {
          StringLike = {
            "${local.oidc_url}:sub" : "repo:acme/app:ref:refs/heads/main"
          }
        }
      }
    ]
  })
}

resource "aws_iam_role" "flat" {
  name = "flat"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Federated = local.oidc_arn }, Action = "sts:AssumeRoleWithWebIdentity", Condition = { StringLike = { "${local.oidc_url}:sub" = "repo:acme/app:*" } } }]
  })
}

resource "aws_iam_role" "nocond" {
  name = "nocond"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Federated = local.oidc_arn }
        Action    = "sts:AssumeRoleWithWebIdentity"
      }
    ]
  })
}
"#;

#[test]
fn missing_aud_fix_writes_valid_hcl_that_rescans_clean() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("main.tf".into(), SEED_LIKE.into())]);
    let (s, findings) = lib_scan(dir.path());
    let aud: Vec<_> = findings
        .iter()
        .filter(|f| f.rule == "trust-missing-aud")
        .collect();
    assert_eq!(aud.len(), 3, "one per role");
    let edits: Vec<&oidc_lint::diag::Edit> = aud
        .iter()
        .flat_map(|f| {
            &f.fix
                .as_ref()
                .expect("jsonencode policies are fixable")
                .edits
        })
        .collect();
    let text = &s.file(0).text;
    let fixed = oidc_lint::fix::apply_edits(text, &edits);
    std::fs::write(dir.path().join("main.tf"), &fixed).unwrap();
    // still HCL, and the audience check is now present in every role
    hcl_edit::parser::parse_body(&fixed).unwrap_or_else(|e| panic!("{e}\n{fixed}"));
    let (s2, findings2) = lib_scan(dir.path());
    assert!(s2.errors.is_empty());
    assert!(
        !findings2.iter().any(|f| f.rule == "trust-missing-aud"),
        "{fixed}"
    );
    assert!(
        fixed.contains("\"token.actions.githubusercontent.com:aud\" = \"sts.amazonaws.com\""),
        "{fixed}"
    );
    // the role without conditions still lacks `sub`
    assert!(findings2.iter().any(|f| f.rule == "trust-missing-sub"));
}

#[test]
fn unknown_values_are_never_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let role = |name: &str, sub: &str| {
        format!(
            r#"resource "aws_iam_role" "{name}" {{
  assume_role_policy = jsonencode({{
    Statement = [{{
      Effect    = "Allow"
      Principal = {{ Federated = "arn:aws:iam::${{var.account}}:oidc-provider/token.actions.githubusercontent.com" }}
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {{
        StringEquals = {{ "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com" }}
        StringLike   = {{ "token.actions.githubusercontent.com:sub" = {sub} }}
      }}
    }}]
  }})
}}
"#
        )
    };
    let text = [
        role("a", r#""repo:${var.org}/${var.repo}:ref:refs/heads/main""#),
        role("b", "var.subject"),
        role("c", r#"["repo:${var.org}/app:*", var.extra]"#),
        role("d", r#""repo:${var.org}/*""#),
        role("e", r#""repo:${var.org}/app-${var.env}:*""#),
    ]
    .concat();
    write_files(dir.path(), &[("main.tf".into(), text)]);
    let (_, v) = run_json(dir.path(), &["."]);
    let got = hits(&v);
    // only what is bad whatever the variables hold: `repo:${var.org}/*` (org-wide) and
    // `repo:…/…:*` (every context of one repository, whichever it is); a pinned branch with an
    // unknown repository, and a whole unknown subject, get no verdict
    let mut got: Vec<(String, u64)> = got.into_iter().map(|(r, _, l)| (r, l)).collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("trust-sub-org-wide".to_string(), 48),
            ("trust-sub-repo-wide".to_string(), 35),
            ("trust-sub-repo-wide".to_string(), 61),
        ],
        "{v}"
    );
    for f in v["findings"].as_array().unwrap() {
        if f["rule"] == "trust-sub-repo-wide" {
            let m = f["message"].as_str().unwrap();
            assert!(m.contains("the scan cannot resolve"), "{m}");
        }
    }
}

#[test]
fn variables_and_policies_resolve_across_files_of_a_module() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            (
                "infra/variables.tf".into(),
                "variable \"subjects\" {\n  default = [\"repo:acme/*\"]\n}\n".into(),
            ),
            (
                "infra/trust.tf".into(),
                r#"data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.gh.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:sub"
      values   = var.subjects
    }
  }
}
"#
                .into(),
            ),
            (
                "infra/main.tf".into(),
                r#"resource "aws_iam_openid_connect_provider" "gh" {
  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

resource "aws_iam_role" "r" {
  name               = "r"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}
"#
                .into(),
            ),
            // another directory is another module: its variable does not leak
            (
                "other/main.tf".into(),
                r#"data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = ["arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:sub"
      values   = var.subjects
    }
  }
}
"#
                .into(),
            ),
        ],
    );
    let (_, v) = run_json(dir.path(), &["."]);
    assert_eq!(
        hits(&v),
        vec![(
            "trust-sub-org-wide".to_string(),
            "infra/trust.tf".to_string(),
            16
        )],
        "{v}"
    );
}

#[test]
fn invalid_hcl_is_an_error_with_position() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[(
            "main.tf".into(),
            "resource \"aws_iam_role\" \"r\" {\n  name = \"x\"\n  assume_role_policy = jsonencode({\n}\n"
                .into(),
        )],
    );
    let (code, v) = run_json(dir.path(), &["."]);
    assert_eq!(code, 2, "{v}");
    let e = &v["errors"][0];
    assert_eq!(e["path"], "main.tf");
    assert!(e["line"].as_u64().unwrap() >= 3, "{e}");
    assert!(e["message"].as_str().unwrap().contains("HCL"), "{e}");
}

#[test]
fn the_dot_terraform_directory_is_not_scanned() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[(
            ".terraform/modules/x/main.tf".into(),
            "this is { not hcl".into(),
        )],
    );
    let (code, v) = run_json(dir.path(), &["."]);
    assert_eq!(code, 0, "{v}");
}

const TPL_TRUST: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": { "Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" },
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {
        "StringEquals": { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
        "StringLike": { "token.actions.githubusercontent.com:sub": "${subject}" }
      }
    }
  ]
}
"#;

fn templatefile_role(name: &str, path: &str, subject: &str) -> String {
    format!(
        "resource \"aws_iam_role\" \"{name}\" {{\n  assume_role_policy = templatefile(\"{path}\", {{\n    subject = \"{subject}\"\n  }})\n}}\n"
    )
}

#[test]
fn a_template_is_rendered_with_each_callers_values_at_its_own_lines() {
    let dir = tempfile::tempdir().unwrap();
    // Two roles render one template: each is judged on its own subject, reported in the
    // template; the template alone (holes) is not reported a second time.
    let tf = templatefile_role("org", "${path.module}/trust.json.tpl", "repo:acme/*")
        + &templatefile_role(
            "pinned",
            "./trust.json.tpl",
            "repo:acme/app:ref:refs/heads/main",
        )
        + &templatefile_role("wide", "trust.json.tpl", "repo:acme/app:*");
    write_files(
        dir.path(),
        &[
            ("iam/main.tf".into(), tf),
            ("iam/trust.json.tpl".into(), TPL_TRUST.into()),
        ],
    );
    let (code, v) = run_json(dir.path(), &["."]);
    assert_eq!(code, 1, "{v}");
    let mut got = hits(&v);
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "trust-sub-org-wide".to_string(),
                "iam/trust.json.tpl".to_string(),
                10
            ),
            (
                "trust-sub-repo-wide".to_string(),
                "iam/trust.json.tpl".to_string(),
                10
            ),
        ],
        "{v}"
    );
    let msgs: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        msgs.iter().any(|m| m.contains("aws_iam_role.org")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("aws_iam_role.wide")),
        "{msgs:?}"
    );
}

#[test]
fn templates_outside_the_tree_or_behind_links_are_never_read() {
    let outer = tempfile::tempdir().unwrap();
    let secret = outer.path().join("outside.json.tpl");
    std::fs::write(&secret, TPL_TRUST).unwrap();
    let root = outer.path().join("repo");
    std::fs::create_dir_all(root.join("iam")).unwrap();
    let tf = templatefile_role("up", "../../outside.json.tpl", "repo:*")
        + &templatefile_role("abs", &secret.to_string_lossy(), "repo:*")
        + &templatefile_role("link", "${path.module}/linked.json.tpl", "repo:*");
    std::fs::write(root.join("iam/main.tf"), tf).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&secret, root.join("iam/linked.json.tpl")).unwrap();
    let (code, v) = run_json(&root, &["."]);
    assert_eq!(code, 0, "{v}");
    assert!(hits(&v).is_empty(), "{v}");
}

const MODULE_ROLE: &str = r#"variable "subjects" {
  type = list(string)
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = ["arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:sub"
      values   = var.subjects
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "ci"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}
"#;

#[test]
fn each_caller_of_a_local_module_is_judged_on_its_own_values_at_its_own_argument() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("modules/role/main.tf".into(), MODULE_ROLE.into()),
            // a module passing its own input on: the value comes from the outermost caller
            (
                "modules/wrapper/main.tf".into(),
                "variable \"subs\" {}\nmodule \"inner\" {\n  source   = \"../role\"\n  subjects = var.subs\n}\n".into(),
            ),
            (
                "envs/dev/main.tf".into(),
                "module \"wide\" {\n  source   = \"../../modules/role\"\n  subjects = [\"repo:acme/app:*\"]\n}\n\nmodule \"pinned\" {\n  source   = \"../../modules/role\"\n  subjects = [\"repo:acme/app:ref:refs/heads/main\"]\n}\n".into(),
            ),
            (
                "envs/prod/main.tf".into(),
                "variable \"subs\" {}\nmodule \"wrapped\" {\n  source = \"../../modules/wrapper\"\n  subs   = var.subs\n}\n".into(),
            ),
            (
                "envs/prod/terraform.tfvars".into(),
                "subs = [\"repo:acme/*\"]\n".into(),
            ),
            // a module calling itself, and one outside the tree: never followed
            (
                "loop/main.tf".into(),
                "module \"again\" {\n  source = \"./\"\n}\nmodule \"up\" {\n  source = \"../../../../etc\"\n}\n".into(),
            ),
        ],
    );
    let (code, v) = run_json(dir.path(), &["."]);
    assert_eq!(code, 1, "{v}");
    let mut got = hits(&v);
    got.sort();
    assert_eq!(
        got,
        vec![
            // at the outermost caller's argument (its value comes from terraform.tfvars)
            (
                "trust-sub-org-wide".to_string(),
                "envs/prod/main.tf".to_string(),
                4
            ),
            (
                "trust-sub-repo-wide".to_string(),
                "envs/dev/main.tf".to_string(),
                3
            ),
        ],
        "{v}"
    );
    let msgs: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("module.wide.aws_iam_role.this (in envs/dev)")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("module.wrapped.module.inner.aws_iam_role.this (in envs/prod)")),
        "{msgs:?}"
    );
}

#[test]
fn what_a_caller_switches_off_is_not_created_and_other_switch_shapes_are_when_enabled() {
    let dir = tempfile::tempdir().unwrap();
    let module = r#"variable "attach_admin" {
  default = false
}
variable "enabled" {
  default = true
}
locals {
  create = var.enabled
}
resource "aws_iam_role" "ci" {
  name = "ci"
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com"
          "token.actions.githubusercontent.com:sub" = "repo:acme/app:ref:refs/heads/main"
        }
      }
    }]
  })
}
resource "aws_iam_role_policy_attachment" "admin" {
  count      = local.create && var.attach_admin ? 1 : 0
  role       = aws_iam_role.ci.name
  policy_arn = format("arn:%s:iam::aws:policy/AdministratorAccess", "aws")
}
"#;
    write_files(
        dir.path(),
        &[
            ("modules/ci/main.tf".into(), module.into()),
            // this caller attaches the admin policy, this one does not
            (
                "envs/a/main.tf".into(),
                "module \"on\" {\n  source       = \"../../modules/ci\"\n  attach_admin = true\n}\n".into(),
            ),
            (
                "envs/b/main.tf".into(),
                "module \"off\" {\n  source  = \"../../modules/ci\"\n  enabled = false\n  attach_admin = true\n}\n".into(),
            ),
        ],
    );
    let (code, v) = run_json(dir.path(), &["--select", "perm-admin-access", "."]);
    assert_eq!(code, 1, "{v}");
    let msgs: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert!(
        msgs[0].contains("module.on.aws_iam_role.ci (in envs/a)"),
        "{msgs:?}"
    );
    assert!(!msgs[0].starts_with("when enabled"), "{msgs:?}");
    // The module alone: the attachment is off by default, judged "when enabled".
    let (_, v) = run_json(
        &dir.path().join("modules/ci"),
        &["--select", "perm-admin-access", "."],
    );
    let m = v["findings"][0]["message"].as_str().unwrap().to_string();
    assert!(
        m.starts_with("when enabled (`local.create && var.attach_admin ? 1 : 0` creates nothing"),
        "{m}"
    );
}

#[test]
fn local_module_outputs_are_values_in_the_caller_computed_with_its_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let trust = |sub: &str| {
        format!(
            "resource \"aws_iam_role\" \"{sub}\" {{\n  name = \"{sub}\"\n  assume_role_policy = jsonencode({{\n    Statement = [{{\n      Effect    = \"Allow\"\n      Action    = \"sts:AssumeRoleWithWebIdentity\"\n      Principal = {{ Federated = \"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com\" }}\n      Condition = {{\n        StringEquals = {{ \"token.actions.githubusercontent.com:aud\" = \"sts.amazonaws.com\" }}\n        StringLike   = {{ \"token.actions.githubusercontent.com:sub\" = module.{sub}.subject }}\n      }}\n    }}]\n  }})\n}}\n"
        )
    };
    write_files(
        dir.path(),
        &[
            // an output built from a nested module's output, with the caller's argument
            (
                "modules/naming/main.tf".into(),
                "variable \"repo\" {}\noutput \"full\" {\n  value = \"acme/${var.repo}\"\n}\n".into(),
            ),
            (
                "modules/subject/main.tf".into(),
                "variable \"repo\" {}\nvariable \"context\" {\n  default = \"*\"\n}\nmodule \"naming\" {\n  source = \"../naming\"\n  repo   = var.repo\n}\noutput \"subject\" {\n  value = \"repo:${module.naming.full}:${var.context}\"\n}\n".into(),
            ),
            (
                "live/main.tf".into(),
                format!(
                    "module \"wide\" {{\n  source = \"../modules/subject\"\n  repo   = \"app\"\n}}\n\nmodule \"pinned\" {{\n  source  = \"../modules/subject\"\n  repo    = \"app\"\n  context = \"environment:production\"\n}}\n\n{}\n{}",
                    trust("wide"),
                    trust("pinned")
                ),
            ),
            // two modules reading each other's outputs: neither is followed forever
            (
                "cycle/a/main.tf".into(),
                "module \"b\" {\n  source = \"../b\"\n}\noutput \"x\" {\n  value = module.b.y\n}\n".into(),
            ),
            (
                "cycle/b/main.tf".into(),
                "module \"a\" {\n  source = \"../a\"\n}\noutput \"y\" {\n  value = module.a.x\n}\n".into(),
            ),
        ],
    );
    let (code, v) = run_json(dir.path(), &["."]);
    // (a note does not fail the run)
    assert_eq!(code, 0, "{v}");
    let got = hits(&v);
    assert_eq!(
        got,
        vec![(
            "trust-sub-repo-wide".to_string(),
            "live/main.tf".to_string(),
            21
        )],
        "{v}"
    );
    let msg = v["findings"][0]["message"].as_str().unwrap();
    assert!(msg.contains("`repo:acme/app:*`"), "{msg}");
}

/// A `-var-file` deployment: a value from the automatic `terraform.tfvars` is never reported
/// inside the `-var-file` (whose text it is not), and a variables file Terraform does not load
/// by itself that cannot be parsed (`<YOUR_ID>` placeholders) is not an input error.
#[test]
fn var_file_deployment_keeps_automatic_values_in_place() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            (
                "infra/main.tf".into(),
                "variable \"subjects\" {}\nvariable \"region\" {}\nresource \"aws_iam_role\" \"r\" {\n  name = \"r\"\n  assume_role_policy = jsonencode({Statement = [{Effect = \"Allow\", Action = \"sts:AssumeRoleWithWebIdentity\", Principal = {Federated = \"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com\"}, Condition = {StringEquals = {\"token.actions.githubusercontent.com:aud\" = \"sts.amazonaws.com\"}, StringLike = {\"token.actions.githubusercontent.com:sub\" = var.subjects}}}]})\n}\n".into(),
            ),
            (
                "infra/terraform.tfvars".into(),
                "# automatic\n\n\nsubjects = [\"repo:org/*\"]\n".into(),
            ),
            ("infra/prod.tfvars".into(), "region = \"eu-west-1\"\n".into()),
            ("infra/example.tfvars".into(), "account_id = <YOUR_ID>\n".into()),
        ],
    );
    let (code, v) = run_json(dir.path(), &["."]);
    assert_eq!(code, 1, "{v}");
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v}");
    let got = hits(&v);
    assert!(
        got.iter()
            .any(|(r, p, _)| r == "trust-sub-org-wide" && p != "infra/prod.tfvars"),
        "{got:?}"
    );
    assert!(
        got.iter().all(|(_, p, _)| p != "infra/prod.tfvars"),
        "{got:?}"
    );
}
