//! Cross-file scenarios: a workflow and the role it assumes, in different files and formats.
//! Every finding is pinned by (rule, path, line); the quiet scenarios have none.

mod common;
use common::*;

fn scenario(name: &str, extra: &[&str]) -> Vec<(String, String, u64)> {
    let dir = fixtures().join("scenarios").join(name);
    let mut args = vec!["."];
    args.extend_from_slice(extra);
    let (_, v) = run_json(&dir, &args);
    assert!(v["errors"].as_array().unwrap().is_empty(), "{name}: {v}");
    hits(&v)
}

fn h(rule: &str, path: &str, line: u64) -> (String, String, u64) {
    (rule.into(), path.into(), line)
}

#[test]
fn environment_vs_branch_pin() {
    assert_eq!(
        scenario("env-vs-branch", &[]),
        vec![h(
            "role-trust-rejects-job",
            ".github/workflows/deploy.yml",
            16
        )]
    );
    // the same with the identity given, and with the role in Terraform
    assert_eq!(
        scenario("env-vs-branch", &["--repo", "acme/app"]),
        vec![h(
            "role-trust-rejects-job",
            ".github/workflows/deploy.yml",
            16
        )]
    );
    assert_eq!(
        scenario("tf-environment-vs-branch", &[]),
        vec![h(
            "role-trust-rejects-job",
            ".github/workflows/deploy.yml",
            16
        )]
    );
}

#[test]
fn another_repository_is_not_this_one() {
    // With --repo naming another repository, the trust (pinned to acme/app) rejects every job
    // of this one, including the environment subject.
    assert_eq!(
        scenario("quiet-environments", &["--repo", "acme/other"]),
        vec![h(
            "role-trust-rejects-job",
            ".github/workflows/deploy.yml",
            18
        )]
    );
}

#[test]
fn pull_request_vs_branch_pin() {
    assert_eq!(
        scenario("pr-vs-branch", &[]),
        vec![h(
            "role-trust-rejects-job",
            ".github/workflows/plan.yml",
            15
        )]
    );
}

#[test]
fn tag_vs_branch() {
    assert_eq!(
        scenario("tag-vs-branch", &[]),
        vec![h(
            "role-trust-rejects-job",
            ".github/workflows/release.yml",
            15
        )]
    );
}

#[test]
fn custom_audience() {
    assert_eq!(
        scenario("custom-audience", &[]),
        vec![h(
            "role-audience-mismatch",
            ".github/workflows/deploy.yml",
            15
        )]
    );
    assert_eq!(
        scenario("tf-custom-audience-provider", &[]),
        vec![
            h("role-audience-mismatch", ".github/workflows/deploy.yml", 15),
            // the provider itself lacks the audience the job requests
            h("provider-missing-audience", "infra/github.tf", 3),
            h("trust-missing-aud", "infra/github.tf", 11),
        ]
    );
}

#[test]
fn reusable_workflow_called_from_another() {
    // the callee's `environment: ${{ inputs.environment }}` resolves through both callers
    assert_eq!(
        scenario("reusable-caller", &[]),
        vec![h(
            "role-trust-rejects-job",
            ".github/workflows/deploy.yml",
            15
        )]
    );
}

#[test]
fn matrix_jobs() {
    // deploy-dev admits the dev instance; deploy-prod pins `production`, the job says `prod`
    assert_eq!(
        scenario("matrix-roles", &[]),
        vec![h(
            "role-trust-rejects-job",
            ".github/workflows/deploy.yml",
            18
        )]
    );
}

#[test]
fn quiet_scenarios() {
    assert_eq!(scenario("quiet-split-roles", &[]), vec![]);
    assert_eq!(
        scenario("quiet-split-roles", &["--repo", "acme/app"]),
        vec![]
    );
    assert_eq!(scenario("quiet-environments", &[]), vec![]);
    assert_eq!(
        scenario("quiet-environments", &["--repo", "acme/app"]),
        vec![]
    );
}

#[test]
fn untrusted_events_and_wider_than_use() {
    assert_eq!(
        scenario("untrusted-events", &[]),
        vec![
            h(
                "role-trust-admits-untrusted-events",
                ".github/workflows/comment-deploy.yml",
                3
            ),
            // `issue_comment` is an event outsiders start: the grant is a warning of its own
            h(
                "workflow-oidc-untrusted-trigger",
                ".github/workflows/comment-deploy.yml",
                7
            ),
            // `repo:acme/app:*` (a note of its own); its `pull_request` subject is not a warning
            // of its own: every pushed branch gets the role already
            h("trust-sub-repo-wide", "iam/deploy-trust.json", 15),
        ]
    );
    assert_eq!(
        scenario("wider-than-use", &[]),
        vec![
            h("role-trust-wider-than-use", "iam/reader-trust.json", 15),
            // `repo:acme/app:*` (a note of its own)
            h("trust-sub-repo-wide", "iam/reader-trust.json", 15),
            h("role-trust-wider-than-use", "iam/reader-trust.json", 15),
        ]
    );
}

#[test]
fn repository_identity_from_git_config() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures().join("scenarios/quiet-environments");
    for rel in [
        ".github/workflows/deploy.yml",
        "iam/deploy-trust.json",
        "iam/deploy-policy.json",
    ] {
        let to = dir.path().join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(src.join(rel), to).unwrap();
    }
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    std::fs::write(
        dir.path().join(".git/config"),
        "[remote \"origin\"]\n\turl = git@github.com:acme/other.git\n",
    )
    .unwrap();
    let (_, v) = run_json(dir.path(), &["."]);
    assert_eq!(
        hits(&v),
        vec![h(
            "role-trust-rejects-job",
            ".github/workflows/deploy.yml",
            18
        )]
    );
    std::fs::write(
        dir.path().join(".git/config"),
        "[remote \"origin\"]\n\turl = https://github.com/acme/app.git\n",
    )
    .unwrap();
    let (_, v) = run_json(dir.path(), &["."]);
    assert_eq!(hits(&v), vec![]);
}

#[test]
fn human_output_snapshot() {
    let out = bin()
        .current_dir(fixtures().join("scenarios/env-vs-branch"))
        .args([".", "--color", "never"])
        .output()
        .unwrap();
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

#[test]
fn cloudformation_and_plan_roles() {
    // A pull_request job against a CloudFormation role pinned to main.
    assert_eq!(
        scenario("cfn-pr-vs-branch", &[]),
        vec![h(
            "role-trust-rejects-job",
            ".github/workflows/preview.yml",
            15
        )]
    );
    // A tag-triggered job against a role from a `terraform show -json` plan pinned to main.
    assert_eq!(
        scenario("plan-tag-vs-branch", &[]),
        vec![h(
            "role-trust-rejects-job",
            ".github/workflows/release.yml",
            15
        )]
    );
}

/// A local `uses: ./.github/workflows/x.yml` names a workflow of the caller's own repository:
/// scanning a directory of checkouts (an audit) must not pair a reusable workflow with a
/// caller in another checkout that happens to use the same file name.
#[test]
fn local_callers_stay_in_their_checkout() {
    let reusable = "on:\n  workflow_call: {}\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v6\n        with:\n          role-to-assume: arn:aws:iam::111122223333:role/deploy\n          aws-region: us-east-1\n";
    let caller = |perm: &str| {
        format!(
            "on:\n  push:\n    branches: [main]\npermissions:\n  contents: read\n{perm}jobs:\n  deploy:\n    uses: ./.github/workflows/_deploy.yml\n"
        )
    };
    let t = tempfile::tempdir().unwrap();
    write_files(
        t.path(),
        &[
            ("good/.github/workflows/_deploy.yml".into(), reusable.into()),
            (
                "good/.github/workflows/main.yml".into(),
                caller("  id-token: write\n"),
            ),
            ("bad/.github/workflows/_deploy.yml".into(), reusable.into()),
            ("bad/.github/workflows/main.yml".into(), caller("")),
            // a workflow at the scan root calling a file of that name: no such file there
            (".github/workflows/other.yml".into(), caller("")),
        ],
    );
    let (_, v) = run_json(t.path(), &["."]);
    let missing: Vec<_> = hits(&v)
        .into_iter()
        .filter(|h| h.0 == "workflow-missing-id-token")
        .collect();
    assert_eq!(
        missing,
        // reported at the calling job's `uses:`
        vec![h(
            "workflow-missing-id-token",
            "bad/.github/workflows/main.yml",
            8
        )]
    );
    let f = &v["findings"].as_array().unwrap()[0];
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("calls bad/.github/workflows/_deploy.yml"),
        "{f}"
    );
}
