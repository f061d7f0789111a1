//! How a job reaches AWS: the one classifier every workflow rule, the audience checks and
//! `audit` use. A configure-aws-credentials step assumes a role through OIDC or passes static
//! keys; any other step may be given long-lived keys through `env`.

use crate::model::{Job, KeyValue, Step, Workflow};
use crate::source::Span;

/// How a job reaches AWS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// Through OIDC, assuming a role.
    Oidc,
    /// With long-lived access keys; the span is the key id's value.
    StaticKeys(Span),
}

/// The role a configure-aws-credentials step assumes through OIDC (`role-to-assume`, or the
/// `ROLE_TO_ASSUME` env), with its span; `None` when the step does not request an OIDC token
/// (static keys, a web identity token file, role chaining, `force-skip-oidc`, no role).
pub fn oidc_step(step: &Step, job: &Job, w: &Workflow) -> Option<(String, Span)> {
    if !step.is_configure_aws_credentials() {
        return None;
    }
    let truthy = |k: &str| {
        step.input(k)
            .is_some_and(|v| v.value.value.trim() == "true")
    };
    let set = |k: &str| {
        step.input(k)
            .is_some_and(|v| !v.value.value.trim().is_empty())
    };
    if set("aws-access-key-id")
        || set("web-identity-token-file")
        || truthy("role-chaining")
        || truthy("force-skip-oidc")
    {
        return None;
    }
    step_value(step, job, w, "role-to-assume", "ROLE_TO_ASSUME")
}

/// A `google-github-actions/auth` step that requests an OIDC token for workload identity
/// federation: its `workload_identity_provider` (value and span) and `service_account`, when
/// given. `None` for a step using a key (`credentials_json`) or no provider.
pub fn gcp_oidc_step(step: &Step) -> Option<((String, Span), Option<String>)> {
    if step.action().as_deref() != Some("google-github-actions/auth") {
        return None;
    }
    let set = |k: &str| {
        step.input(k)
            .filter(|v| !v.value.value.trim().is_empty())
            .map(|v| (v.value.value.trim().to_string(), v.value.span))
    };
    if set("credentials_json").is_some() {
        return None;
    }
    let provider = set("workload_identity_provider")?;
    Some((provider, set("service_account").map(|(v, _)| v)))
}

/// How each step of a job reaches AWS: configure-aws-credentials steps (OIDC or keys), and
/// steps given long-lived keys through `env` (their own, the job's or the workflow's).
pub fn classify<'a>(w: &'a Workflow, job: &'a Job) -> Vec<(&'a Step, Access)> {
    let mut out = Vec::new();
    let env_key = |kvs: &[KeyValue]| {
        // temporary credentials, or keys for an S3-compatible service elsewhere (R2, MinIO…)
        let has_session = kvs.iter().any(|kv| {
            kv.key == "AWS_SESSION_TOKEN"
                || (kv.key.starts_with("AWS_ENDPOINT_URL")
                    && !kv.value.value.contains("amazonaws.com"))
        });
        kvs.iter()
            .rev()
            .find(|kv| kv.key == "AWS_ACCESS_KEY_ID" && long_lived(&kv.value.value))
            .filter(|_| !has_session)
            .map(|kv| kv.value.span)
    };
    for step in &job.steps {
        if step.is_configure_aws_credentials() {
            let set = |k: &str| {
                step.input(k)
                    .is_some_and(|v| !v.value.value.trim().is_empty())
            };
            if let Some(k) = step.input("aws-access-key-id")
                && long_lived(&k.value.value)
                && !set("aws-session-token")
            {
                out.push((step, Access::StaticKeys(k.value.span)));
            } else if oidc_step(step, job, w).is_some() {
                out.push((step, Access::Oidc));
            }
        } else if let Some(span) = env_key(&step.env) {
            out.push((step, Access::StaticKeys(span)));
        }
    }
    if out.is_empty()
        && let Some(span) = env_key(&job.env).or_else(|| env_key(&w.env))
        && let Some(first) = job.steps.first()
    {
        out.push((first, Access::StaticKeys(span)));
    }
    out
}

/// A step input's value (`with:`), else the env variable `env` of the step, job or
/// workflow (configure-aws-credentials reads both), trimmed, with its span.
pub fn step_value<'s>(
    step: &'s Step,
    job: &'s Job,
    w: &'s Workflow,
    input: &str,
    env: &str,
) -> Option<(String, Span)> {
    if let Some(kv) = step.input(input)
        && !kv.value.value.trim().is_empty()
    {
        return Some((kv.value.value.trim().to_string(), kv.value.span));
    }
    [&step.env, &job.env, &w.env]
        .iter()
        .find_map(|kvs| kvs.iter().rev().find(|kv| kv.key == env))
        .map(|kv| (kv.value.value.trim().to_string(), kv.value.span))
}

/// Whether an access key id value is a long-lived key: a secret or variable (an expression
/// over anything else may be a temporary credential from an earlier step), or a literal shaped
/// like a key AWS issues. Any other literal (`test`, `dummy`, `AWSACCESSKEYID`, `fakeMyKeyId`,
/// AWS's `…EXAMPLE` ids) is a placeholder for a local emulator (LocalStack, DynamoDB Local,
/// MinIO): no AWS account accepts it, so there is nothing to migrate.
pub fn long_lived(value: &str) -> bool {
    let v = value.replace(' ', "");
    if v.is_empty() {
        return false;
    }
    if !v.contains("${{") {
        let t = value.trim();
        return t.len() == 20
            && crate::analysis::secrets::key_ids(t) == [0]
            && !crate::analysis::secrets::is_placeholder(t);
    }
    v.contains("secrets.") || v.contains("vars.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_literals_are_not_long_lived_keys() {
        for p in [
            "test",
            "dummy",
            "AWSACCESSKEYID",
            "fakeMyKeyId",
            "AKIAIOSFODNN7EXAMPLE",
            "minioadmin",
            "AKIAXXXXXXXXXXXXXXXX",
        ] {
            assert!(!long_lived(p), "{p}");
        }
        assert!(long_lived("AKIA2345ABCDEF67WXYZ"));
        assert!(long_lived("${{ secrets.AWS_ACCESS_KEY_ID }}"));
        assert!(long_lived("${{ vars.KEY }}"));
        assert!(!long_lived("${{ steps.creds.outputs.key }}"));
    }

    fn workflow(text: &str) -> Workflow {
        let docs = crate::source::yaml::parse(text).unwrap();
        crate::frontend::github_actions::workflow_from_tree(0, &docs[0])
    }

    fn oidc_roles(text: &str) -> Vec<Option<String>> {
        let w = workflow(text);
        let job = &w.jobs[0];
        job.steps
            .iter()
            .map(|s| oidc_step(s, job, &w).map(|(v, _)| v))
            .collect()
    }

    #[test]
    fn the_role_comes_from_the_input_or_the_role_to_assume_env() {
        let got = oidc_roles(
            "on: push\nenv:\n  ROLE_TO_ASSUME: arn:aws:iam::1:role/wf\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          role-to-assume: arn:aws:iam::1:role/input\n      - uses: aws-actions/configure-aws-credentials@v4\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          aws-access-key-id: ${{ secrets.K }}\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          role-chaining: true\n      - run: echo\n",
        );
        assert_eq!(
            got,
            [
                Some("arn:aws:iam::1:role/input".to_string()),
                Some("arn:aws:iam::1:role/wf".to_string()),
                None,
                None,
                None
            ]
        );
    }

    #[test]
    fn classify_agrees_with_oidc_step() {
        let w = workflow(
            "on: push\njobs:\n  a:\n    runs-on: x\n    env:\n      ROLE_TO_ASSUME: arn:aws:iam::1:role/r\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v4\n      - run: aws s3 ls\n        env:\n          AWS_ACCESS_KEY_ID: AKIA2345ABCDEF67WXYZ\n",
        );
        let job = &w.jobs[0];
        let kinds: Vec<bool> = classify(&w, job)
            .into_iter()
            .map(|(_, a)| a == Access::Oidc)
            .collect();
        assert_eq!(kinds, [true, false]);
    }
}
