//! Attached AWS-managed policies judged by their contents (the vendored snapshot in
//! `data/aws-managed-policies/`): the `fixtures/rules/<rule>/{bad,good}-managed-<case>/`
//! repositories through the binary, partitions and paths of managed-policy ARNs, and the
//! read-only judgement other rules rest on.

mod common;
use common::*;

/// `(rule, path, line)` of a finding.
type Hit = (&'static str, &'static str, u64);

/// `IAMFullAccess` (`iam:*` on `*`): as good as administrator access, and the escalations it
/// grants, as the same statement written inline.
const IAM_FULL_ACCESS: &[Hit] = &[
    ("perm-admin-access", "infra/github-iam.tf", 31),
    ("perm-passrole-wildcard", "infra/github-iam.tf", 31),
    ("perm-role-self-modification", "infra/github-iam.tf", 31),
];

/// Every `*-managed-*` fixture and the permission findings it must produce, exactly.
const CASES: &[(&str, &str, &[Hit])] = &[
    (
        "perm-admin-access",
        "bad-managed-iam-full-access",
        IAM_FULL_ACCESS,
    ),
    (
        "perm-admin-access",
        "bad-managed-amplify-admin",
        &[
            (
                "perm-admin-access",
                "cloudformation/amplify-deploy.yaml",
                19,
            ),
            (
                "perm-passrole-wildcard",
                "cloudformation/amplify-deploy.yaml",
                19,
            ),
            (
                "perm-role-self-modification",
                "cloudformation/amplify-deploy.yaml",
                19,
            ),
        ],
    ),
    (
        "perm-role-self-modification",
        "bad-managed-iam-full-access",
        IAM_FULL_ACCESS,
    ),
    (
        "perm-passrole-wildcard",
        "bad-managed-iam-full-access",
        IAM_FULL_ACCESS,
    ),
    // every action: perm-admin-access alone
    (
        "perm-role-self-modification",
        "good-managed-administrator-access",
        &[("perm-admin-access", "infra/github-iam.tf", 31)],
    ),
    ("perm-admin-access", "good-managed-power-user", &[]),
    ("perm-admin-access", "good-managed-readonly", &[]),
    (
        "perm-role-self-modification",
        "bad-managed-emr-full-access",
        &[
            ("perm-passrole-wildcard", "terraform/emr.tf", 30),
            ("perm-role-self-modification", "terraform/emr.tf", 30),
        ],
    ),
    (
        "perm-role-self-modification",
        "bad-managed-cloudformation-with-passrole",
        &[
            (
                "perm-passrole-wildcard",
                "cloudformation/deploy-role.yaml",
                20,
            ),
            (
                "perm-role-self-modification",
                "cloudformation/deploy-role.yaml",
                20,
            ),
        ],
    ),
    (
        "perm-role-self-modification",
        "good-managed-cloudformation-alone",
        &[],
    ),
    (
        "perm-role-self-modification",
        "good-managed-power-user-and-cloudformation",
        &[],
    ),
    (
        "perm-passrole-wildcard",
        "bad-managed-beanstalk-service",
        &[("perm-passrole-wildcard", "terraform/beanstalk.tf", 30)],
    ),
    (
        "perm-passrole-wildcard",
        "bad-managed-dynamodb-datapipeline",
        &[("perm-passrole-wildcard", "terraform/backup.tf", 28)],
    ),
    (
        "perm-passrole-wildcard",
        "good-managed-ecs-full-access",
        &[],
    ),
    ("perm-passrole-wildcard", "good-managed-appsync-admin", &[]),
    (
        "perm-ecr-wildcard-resource",
        "bad-managed-registry-power-user",
        &[("perm-ecr-wildcard-resource", "infra/policy.tf", 3)],
    ),
    (
        "perm-ecr-wildcard-resource",
        "good-managed-power-user-access",
        &[],
    ),
];

fn perm_hits(v: &serde_json::Value) -> Vec<(String, String, u64)> {
    let mut h: Vec<_> = hits(v)
        .into_iter()
        .filter(|(r, _, _)| r.starts_with("perm-"))
        .collect();
    h.sort();
    h
}

#[test]
fn managed_fixtures_fire_exactly_where_expected() {
    // every managed-policy fixture on disk (`{bad,good}-managed-*`) is listed above
    let mut on_disk = Vec::new();
    for rule in std::fs::read_dir(fixtures().join("rules")).unwrap() {
        let rule = rule.unwrap();
        for case in std::fs::read_dir(rule.path()).unwrap() {
            let name = case.unwrap().file_name().to_string_lossy().into_owned();
            if name.starts_with("bad-managed-") || name.starts_with("good-managed-") {
                on_disk.push((rule.file_name().to_string_lossy().into_owned(), name));
            }
        }
    }
    on_disk.sort();
    let mut listed: Vec<_> = CASES
        .iter()
        .map(|(r, c, _)| (r.to_string(), c.to_string()))
        .collect();
    listed.sort();
    assert_eq!(on_disk, listed);

    for (rule, case, want) in CASES {
        let dir = fixtures().join("rules").join(rule).join(case);
        let (code, v) = run_json(&dir, &["."]);
        assert!(v["errors"].as_array().unwrap().is_empty(), "{case}: {v}");
        let mut want: Vec<(String, String, u64)> = want
            .iter()
            .map(|(r, p, l)| (r.to_string(), p.to_string(), *l))
            .collect();
        want.sort();
        assert_eq!(perm_hits(&v), want, "{rule}/{case}");
        if case.starts_with("bad") {
            assert_eq!(code, 1, "{case}");
            // the message names the managed policy and says why
            for f in v["findings"].as_array().unwrap() {
                if f["rule"] == *rule {
                    let m = f["message"].as_str().unwrap();
                    assert!(m.contains(":iam::aws:policy/"), "{m}");
                    assert!(m.contains("which "), "{m}");
                }
            }
        }
    }
}

fn tf_role(arns: &[&str], subs: &[&str]) -> Vec<(String, String)> {
    let arns: Vec<String> = arns.iter().map(|a| format!("{a:?}")).collect();
    let subs: Vec<String> = subs.iter().map(|s| format!("{s:?}")).collect();
    vec![(
        "iam/role.tf".to_string(),
        format!(
            r#"resource "aws_iam_role" "ci" {{
  name = "github-ci"
  assume_role_policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Principal = {{ Federated = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" }}
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {{
        StringEquals = {{ "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com" }}
        StringLike   = {{ "token.actions.githubusercontent.com:sub" = [{}] }}
      }}
    }}]
  }})
  managed_policy_arns = [{}]
}}
"#,
            subs.join(", "),
            arns.join(", ")
        ),
    )]
}

fn rules_for(arns: &[&str], subs: &[&str]) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    write_files(tmp.path(), &tf_role(arns, subs));
    let (_, v) = run_json(tmp.path(), &["."]);
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v}");
    let mut r: Vec<String> = hits(&v).into_iter().map(|(r, _, _)| r).collect();
    r.sort();
    r.dedup();
    r
}

const MAIN: &str = "repo:acme/app:ref:refs/heads/main";

#[test]
fn partitions_paths_and_customer_policies() {
    for arn in [
        "arn:aws:iam::aws:policy/IAMFullAccess",
        "arn:aws-us-gov:iam::aws:policy/IAMFullAccess",
        "arn:aws-cn:iam::aws:policy/IAMFullAccess",
    ] {
        assert!(
            rules_for(&[arn], &[MAIN]).contains(&"perm-admin-access".to_string()),
            "{arn}"
        );
    }
    // IAM rejects a wrong path; a customer policy of that name has unknown contents
    for arn in [
        "arn:aws:iam::aws:policy/service-role/IAMFullAccess",
        "arn:aws:iam::123456789012:policy/IAMFullAccess",
        "arn:aws:iam::aws:policy/iamfullaccess",
    ] {
        assert!(
            !rules_for(&[arn], &[MAIN]).contains(&"perm-admin-access".to_string()),
            "{arn}"
        );
    }
    // broad but unable to change its own permissions
    let r = rules_for(&["arn:aws:iam::aws:policy/PowerUserAccess"], &[MAIN]);
    assert!(!r.iter().any(|r| r.starts_with("perm-")), "{r:?}");
}

#[test]
fn read_only_is_judged_by_contents() {
    // A role shared by pull requests and main is reported unless it only reads.
    let pr = "repo:acme/app:pull_request";
    let fires = |arn: &str| {
        rules_for(&[arn], &[pr, MAIN]).contains(&"trust-sub-admits-pull-request".to_string())
    };
    for arn in [
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/ViewOnlyAccess",
        // read-only by contents (`aps:Get*`, `aps:QueryMetrics`) though its name does not say so
        "arn:aws:iam::aws:policy/AmazonPrometheusQueryAccess",
    ] {
        assert!(!fires(arn), "{arn} only reads");
    }
    for arn in [
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser",
        "arn:aws:iam::aws:policy/PowerUserAccess",
        // "pull only", but `ecr:BatchImportUpstreamImage` writes into the pull-through cache
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
    ] {
        assert!(fires(arn), "{arn} writes");
    }
}
