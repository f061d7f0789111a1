//! Plans, CloudFormation templates and account exports: every rule fires at the right line and
//! stays quiet where it should, spans slice back to the offending text (inside plan-JSON strings
//! with escapes and URL-encoded export documents), and big minified plans stay linear.

mod common;
use common::*;
use oidc_lint::scan::{ScanOptions, Settings, scan};
use std::path::PathBuf;

fn run(dir: &str) -> (Vec<(String, String, u64)>, serde_json::Value) {
    let root = fixtures().join("iac").join(dir);
    let (code, v) = run_json(&root, &["."]);
    assert!(v["errors"].as_array().unwrap().is_empty(), "{dir}: {v:#}");
    assert_ne!(code, 2);
    let mut h = hits(&v);
    h.sort();
    (h, v)
}

fn expect(list: &[(&str, &str, u64)]) -> Vec<(String, String, u64)> {
    let mut v: Vec<_> = list
        .iter()
        .map(|(r, p, l)| (r.to_string(), p.to_string(), *l))
        .collect();
    v.sort();
    v
}

#[test]
fn plan_findings() {
    let (h, v) = run("plan");
    assert_eq!(
        h,
        expect(&[
            // the access key (in planned_values and resource_changes: reported once)
            ("iac-access-key", "plans/deploy.tfplan.json", 8),
            ("trust-sub-org-wide", "plans/deploy.tfplan.json", 78),
            // nested child module, no `sub` condition
            ("trust-missing-sub", "plans/deploy.tfplan.json", 108),
            ("trust-missing-aud", "plans/deploy.tfplan.json", 108),
            // the aws provider's `access_key` in `configuration`
            ("hardcoded-aws-key", "plans/deploy.tfplan.json", 215),
            ("trust-sub-any-repo", "plans/minified.json", 1),
            // AdministratorAccess attached to the org-wide GitHub role
            ("perm-admin-access", "plans/deploy.tfplan.json", 65),
        ])
    );
    // quiet.tfstate.json (state output, scoped trust) is analysed and has nothing to report
    assert_eq!(v["summary"]["files_scanned"], 3);
}

#[test]
fn cloudformation_findings() {
    let (h, v) = run("cloudformation");
    assert_eq!(
        h,
        expect(&[
            // CDK output: `Fn::GetAtt` of the provider in the same template resolves to GitHub
            (
                "trust-sub-any-repo",
                "cdk.out/PipelineStack.template.json",
                24
            ),
            // `Federated: !Ref GitHubOidc`; no aud condition (a note: the provider only accepts STS)
            ("trust-missing-aud", "templates/github-role.yaml", 34),
            // `!Sub "repo:${GitHubOrg}/*"` is org-wide whatever the parameter is
            ("trust-sub-org-wide", "templates/github-role.yaml", 37),
            // `Federated: !If [CreateProvider, …]`: `ProviderArn` left blank (its default), the
            // stack creates the provider and the role trusts it: the branch taken
            ("trust-missing-sub", "templates/github-role.yaml", 51),
            ("iac-access-key", "templates/github-role.yaml", 73),
            // AdministratorAccess on the org-wide GitHub role
            ("perm-admin-access", "templates/github-role.yaml", 39),
        ])
    );
    // quiet-role.yml is analysed; config/*.yml (a Helm file that does not even parse, a compose
    // file) are not templates: skipped silently, no error
    assert_eq!(v["summary"]["files_scanned"], 3);
}

#[test]
fn export_findings() {
    let (h, v) = run("export");
    assert_eq!(
        h,
        expect(&[
            (
                "trust-missing-sub",
                "audit/account-authorization-details.json",
                41
            ),
            // URL-encoded AssumeRolePolicyDocument
            (
                "trust-sub-org-wide",
                "audit/account-authorization-details.json",
                82
            ),
            ("trust-missing-aud", "audit/get-role-GitHubActions.json", 14),
            // AdministratorAccess attached to the role with no `sub` condition
            (
                "perm-admin-access",
                "audit/account-authorization-details.json",
                71
            ),
            (
                "trust-sub-any-repo",
                "audit/get-role-GitHubActions.json",
                19
            ),
        ])
    );
    let msgs: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    // findings name the role
    assert!(msgs.iter().any(|m| m.contains("github-legacy-deploy")));
    assert!(msgs.iter().any(|m| m.contains("github-org-wide")));
    assert!(msgs.iter().all(|m| !m.contains("lambda-exec")));
    // list-open-id-connect-providers has nothing to analyse: three files only
    assert_eq!(v["summary"]["files_scanned"], 3);
}

/// Every reported span, sliced from the original file, is the offending text.
#[test]
fn spans_slice_back_to_the_offending_text() {
    let mut seen = Vec::new();
    for dir in ["plan", "cloudformation", "export"] {
        let root = fixtures().join("iac").join(dir);
        let s = scan(&ScanOptions {
            root: root.clone(),
            paths: vec![root.clone()],
            max_file_size: 10 << 20,
            settings: Settings::default(),
        });
        for f in oidc_lint::check(&s, &Default::default()) {
            let src = s.file(f.file);
            let text = src.slice(f.span).to_string();
            let want = match (f.rule, src.rel.as_str()) {
                ("iac-access-key", "plans/deploy.tfplan.json") => "\"aws_iam_access_key.ci\"",
                ("hardcoded-aws-key", _) => "AKIA2345ABCDEF67WXYZ",
                // inside the plan's JSON string: the escaped quotes are the string's own
                ("trust-sub-org-wide", "plans/deploy.tfplan.json") => r#"\"repo:acme/*\""#,
                ("trust-missing-sub" | "trust-missing-aud", "plans/deploy.tfplan.json") => {
                    r#"\"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com\""#
                }
                // after `\u00dcn\u00efcode` escapes in the same string
                ("trust-sub-any-repo", "plans/minified.json") => r#"\"repo:*\""#,
                ("trust-sub-any-repo", "cdk.out/PipelineStack.template.json") => "\"repo:*\"",
                ("trust-missing-aud", "templates/github-role.yaml") => "!Ref GitHubOidc",
                ("trust-sub-org-wide", "templates/github-role.yaml") => "\"repo:${GitHubOrg}/*\"",
                ("trust-missing-sub", "templates/github-role.yaml") => "!GetAtt GitHubOidc.Arn",
                ("iac-access-key", "templates/github-role.yaml") => "CiUserKey",
                ("trust-missing-sub", "audit/account-authorization-details.json") => {
                    "\"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com\""
                }
                // URL-encoded document: the span covers the encoded bytes
                ("trust-sub-org-wide", "audit/account-authorization-details.json") => {
                    "%22repo%3Aacme%2F%2A%22"
                }
                ("trust-missing-aud", "audit/get-role-GitHubActions.json") => {
                    "\"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com\""
                }
                ("trust-sub-any-repo", "audit/get-role-GitHubActions.json") => "\"repo:*\"",
                ("perm-admin-access", "plans/deploy.tfplan.json") => {
                    "\"arn:aws:iam::aws:policy/AdministratorAccess\""
                }
                ("perm-admin-access", "templates/github-role.yaml") => {
                    "arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess"
                }
                ("perm-admin-access", "audit/account-authorization-details.json") => {
                    "\"arn:aws:iam::aws:policy/AdministratorAccess\""
                }
                other => panic!("unexpected finding {other:?}: {text}"),
            };
            assert_eq!(text, want, "{} in {}", f.rule, src.rel);
            seen.push((f.rule, src.rel.clone()));
        }
    }
    assert_eq!(seen.len(), 18);
}

#[test]
fn human_output_points_inside_plan_strings() {
    let root = fixtures().join("iac").join("plan");
    let out = bin()
        .current_dir(&root)
        .args([
            "--color",
            "never",
            "plans/minified.json",
            "plans/deploy.tfplan.json",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    insta::assert_snapshot!("iac-plan-human", text);
}

#[test]
fn cloudformation_fix_writes_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let src =
        std::fs::read_to_string(fixtures().join("iac/cloudformation/templates/github-role.yaml"))
            .unwrap();
    write_files(dir.path(), &[("t.yaml".into(), src)]);
    let (_, v) = run_json(dir.path(), &["--select", "trust-missing-aud", "."]);
    let edit = &v["findings"][0]["fix"]["edits"][0];
    assert_eq!(
        edit["replacement"].as_str().unwrap().trim(),
        "StringEquals:\n                \"token.actions.githubusercontent.com:aud\": sts.amazonaws.com"
    );
}

/// A 5+ MB minified plan with thousands of roles: every bad trust is found once, at line 1.
#[test]
fn big_minified_plan_is_linear() {
    let iss = "token.actions.githubusercontent.com";
    let mut resources = Vec::new();
    let n = 6000;
    for i in 0..n {
        let sub = if i % 500 == 0 {
            "repo:*".to_string()
        } else {
            format!("repo:acme/app-{i}:ref:refs/heads/main")
        };
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Sid": format!("R\u{e9}le{i}"), "Effect": "Allow",
                "Principal": {"Federated": format!("arn:aws:iam::123456789012:oidc-provider/{iss}")},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {format!("{iss}:aud"): "sts.amazonaws.com"},
                              "StringLike": {format!("{iss}:sub"): sub}}}]
        });
        resources.push(serde_json::json!({
            "address": format!("module.m{}.aws_iam_role.r{i}", i % 7),
            "mode": "managed", "type": "aws_iam_role", "name": format!("r{i}"),
            "values": {"name": format!("role-{i}"), "assume_role_policy": policy.to_string(),
                       "description": "x".repeat(400)}
        }));
    }
    let plan = serde_json::json!({
        "format_version": "1.2",
        "planned_values": {"root_module": {"child_modules": [{"address": "module.all", "resources": resources}]}}
    });
    // serde_json escapes nothing non-ASCII; use \u escapes like `ensure_ascii` encoders do
    let text = plan.to_string().replace('\u{e9}', "\\u00e9");
    assert!(text.len() > 5_000_000, "{}", text.len());
    assert!(!text.contains('\n'));
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("plan.json".into(), text)]);
    let (code, v) = run_json(dir.path(), &["."]);
    assert_eq!(code, 1);
    let h = hits(&v);
    assert_eq!(h.len(), n / 500);
    assert!(
        h.iter()
            .all(|(r, p, l)| r == "trust-sub-any-repo" && p == "plan.json" && *l == 1)
    );
    // the human renderer gets a bounded window of the one line
    let out = bin()
        .current_dir(dir.path())
        .args(["--color", "never", "."])
        .output()
        .unwrap();
    let human = String::from_utf8(out.stdout).unwrap();
    assert_eq!(human.matches("error[trust-sub-any-repo]").count(), n / 500);
    assert!(human.len() < 200_000, "{}", human.len());
}

#[test]
fn not_every_yaml_or_json_is_an_input() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            // mentions Resources and AWS:: but is Helm templating, not YAML
            (
                "chart/values.yaml".into(),
                "Resources: {{ .Values.r }}\nkind: AWS::S3::Bucket: x: y\n".into(),
            ),
            // a YAML file with `Resources` that is no template
            (
                "ops/inventory.yml".into(),
                "Resources:\n  web:\n    Type: server\n    note: AWS::EC2 someday\n".into(),
            ),
            // JSON that is neither plan, template, export nor policy
            (
                "package.json".into(),
                "{\"name\": \"x\", \"version\": \"1.0.0\"}\n".into(),
            ),
            // a .template file of another tool
            (
                "nginx.conf.template".into(),
                "server { listen ${PORT}; }\n".into(),
            ),
            // a real template that does not parse: an error with a reason
            (
                "cfn/broken.yaml".into(),
                "AWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n  R: [unclosed\n".into(),
            ),
        ],
    );
    let (code, v) = run_json(dir.path(), &["."]);
    assert_eq!(code, 2);
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{v:#}");
    assert_eq!(errors[0]["path"], "cfn/broken.yaml");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid YAML")
    );
    assert_eq!(v["summary"]["files_scanned"], 1);
}

/// `OIDC_LINT_CORPUS=/path cargo test --release --test formats corpus -- --ignored --nocapture`:
/// files analysed per format, errors and findings per rule over a directory of real repositories.
/// Fails when a plan, template or export could not be analysed.
#[test]
#[ignore]
fn corpus() {
    let Ok(dir) = std::env::var("OIDC_LINT_CORPUS") else {
        return;
    };
    let root = PathBuf::from(dir);
    let t = std::time::Instant::now();
    let s = scan(&ScanOptions {
        root: root.clone(),
        paths: vec![root.clone()],
        max_file_size: 10 << 20,
        settings: Settings::default(),
    });
    let findings = oidc_lint::check(&s, &Default::default());
    let elapsed = t.elapsed();
    let mut per_format = std::collections::BTreeMap::new();
    for (_, f) in s.files() {
        *per_format.entry(f.format.name()).or_insert(0) += 1;
    }
    let mut per_rule = std::collections::BTreeMap::new();
    for f in &findings {
        *per_rule.entry(f.rule).or_insert(0) += 1;
        println!(
            "{} {}:{} {}",
            f.rule,
            s.file(f.file).rel,
            s.file(f.file).pos(f.span.start).line,
            f.message
        );
    }
    println!("files per format: {per_format:?}");
    println!("findings per rule: {per_rule:?}");
    for e in &s.errors {
        println!("error: {}:{}: {}", e.path, e.line, e.message);
    }
    println!("time: {elapsed:?}");
    let iac_errors: Vec<_> = s
        .errors
        .iter()
        .filter(|e| !e.path.contains("/.github/") && !e.path.ends_with("action.yml"))
        .collect();
    assert!(iac_errors.is_empty(), "{iac_errors:?}");
}
