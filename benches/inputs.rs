//! Deterministic inputs shared by the benchmarks (written here, not copied from any corpus).
#![allow(dead_code)] // each bench uses a part

pub fn trust_json(i: usize) -> String {
    let sub = match i % 3 {
        0 => format!("repo:acme/app-{i}:ref:refs/heads/main"),
        1 => "repo:acme/*".to_string(),
        _ => "repo:*".to_string(),
    };
    format!(
        r#"{{
  "Version": "2012-10-17",
  "Statement": [
    {{
      "Sid": "GitHubOidc{i}",
      "Effect": "Allow",
      "Principal": {{"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}},
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {{
        "StringEquals": {{"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}},
        "StringLike": {{"token.actions.githubusercontent.com:sub": ["{sub}", "repo:acme/tools:environment:prod"]}}
      }}
    }},
    {{
      "Effect": "Allow",
      "Principal": {{"Service": "ec2.amazonaws.com"}},
      "Action": "sts:AssumeRole"
    }}
  ]
}}
"#
    )
}

pub fn workflow_yaml(i: usize) -> String {
    let perms = if i.is_multiple_of(4) {
        ""
    } else {
        "permissions:\n  id-token: write\n  contents: read\n"
    };
    let creds = if i.is_multiple_of(5) {
        "          aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}\n          aws-secret-access-key: ${{ secrets.AWS_SECRET_ACCESS_KEY }}\n"
    } else {
        "          role-to-assume: arn:aws:iam::111122223333:role/deploy\n"
    };
    format!(
        "name: deploy-{i}\non:\n  push:\n    branches: [main]\n  pull_request:\n{perms}jobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: |\n          make build\n          make test\n  deploy:\n    needs: build\n    runs-on: ubuntu-latest\n    environment: production\n    steps:\n      - uses: actions/checkout@v4\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          aws-region: eu-west-1\n{creds}      - run: aws s3 sync dist/ s3://bucket-{i}/\n"
    )
}

/// A directory laid out like a repository with `n` workflows and `n` trust policies.
pub fn repo(n: usize) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let wf = d.path().join(".github/workflows");
    let iam = d.path().join("iam");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::create_dir_all(&iam).unwrap();
    for i in 0..n {
        std::fs::write(wf.join(format!("wf-{i:04}.yml")), workflow_yaml(i)).unwrap();
        std::fs::write(iam.join(format!("trust-{i:04}.json")), trust_json(i)).unwrap();
    }
    d
}
