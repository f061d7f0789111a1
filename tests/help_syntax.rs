//! Help texts and fix descriptions show what to add in the syntax of the file it goes into:
//! JSON in JSON, YAML in CloudFormation YAML, `key = value` in a Terraform `jsonencode` object,
//! a `condition` block in an `aws_iam_policy_document`.

mod common;
use common::*;

const PROVIDER: &str =
    "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";

#[test]
fn help_is_written_in_the_files_own_syntax() {
    let d = tempfile::tempdir().unwrap();
    write_files(
        d.path(),
        &[
            (
                "iam/trust.json".into(),
                format!(
                    "{{\"Version\": \"2012-10-17\", \"Statement\": [{{\"Effect\": \"Allow\", \"Principal\": {{\"Federated\": \"{PROVIDER}\"}}, \"Action\": \"sts:AssumeRoleWithWebIdentity\"}}]}}\n"
                ),
            ),
            (
                "cfn/template.yaml".into(),
                format!(
                    "AWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument:\n        Statement:\n          - Effect: Allow\n            Principal:\n              Federated: {PROVIDER}\n            Action: sts:AssumeRoleWithWebIdentity\n"
                ),
            ),
            (
                "tf/object/main.tf".into(),
                format!(
                    "resource \"aws_iam_role\" \"r\" {{\n  assume_role_policy = jsonencode({{\n    Statement = [{{\n      Effect = \"Allow\"\n      Principal = {{ Federated = \"{PROVIDER}\" }}\n      Action = \"sts:AssumeRoleWithWebIdentity\"\n    }}]\n  }})\n}}\n"
                ),
            ),
            (
                "tf/document/main.tf".into(),
                format!(
                    "data \"aws_iam_policy_document\" \"trust\" {{\n  statement {{\n    actions = [\"sts:AssumeRoleWithWebIdentity\"]\n    principals {{\n      type        = \"Federated\"\n      identifiers = [\"{PROVIDER}\"]\n    }}\n  }}\n}}\nresource \"aws_iam_role\" \"r\" {{\n  assume_role_policy = data.aws_iam_policy_document.trust.json\n}}\n"
                ),
            ),
        ],
    );
    let (code, v) = run_json(d.path(), &["."]);
    assert_eq!(code, 1, "{v}");
    let help = |path: &str, rule: &str| -> (String, Option<String>) {
        let f = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path && f["rule"] == rule)
            .unwrap_or_else(|| panic!("no {rule} in {path}: {v}"));
        (
            f["help"].as_str().unwrap().to_string(),
            f["fix"]["description"].as_str().map(String::from),
        )
    };
    let sub = "repo:OWNER/REPO:ref:refs/heads/main";
    let key = "token.actions.githubusercontent.com";
    for (path, snippet) in [
        (
            "iam/trust.json",
            format!("`\"StringEquals\": {{\"{key}:sub\": \"{sub}\"}}`"),
        ),
        (
            "cfn/template.yaml",
            format!("`StringEquals: {{\"{key}:sub\": \"{sub}\"}}`"),
        ),
        (
            "tf/object/main.tf",
            format!("`StringEquals = {{ \"{key}:sub\" = \"{sub}\" }}`"),
        ),
        (
            "tf/document/main.tf",
            format!(
                "`condition {{ test = \"StringEquals\"  variable = \"{key}:sub\"  values = [\"{sub}\"] }}`"
            ),
        ),
    ] {
        let (h, _) = help(path, "trust-missing-sub");
        assert!(h.starts_with(&format!("add {snippet}")), "{path}: {h}");
    }
    // the audience fix says what it writes, as it writes it
    for (path, snippet) in [
        (
            "iam/trust.json",
            format!("`\"StringEquals\": {{\"{key}:aud\": \"sts.amazonaws.com\"}}`"),
        ),
        (
            "cfn/template.yaml",
            format!("`StringEquals: {{\"{key}:aud\": sts.amazonaws.com}}`"),
        ),
        (
            "tf/object/main.tf",
            format!("`StringEquals = {{ \"{key}:aud\" = \"sts.amazonaws.com\" }}`"),
        ),
    ] {
        let (h, fix) = help(path, "trust-missing-aud");
        assert!(h.starts_with(&format!("add {snippet}")), "{path}: {h}");
        assert_eq!(fix, Some(format!("add {snippet}")), "{path}");
    }
}
