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
        return web_identity_role(step, job, w);
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

/// Long-lived AWS keys given in one `env:` or `with:` mapping (`workflow-long-lived-keys`).
pub struct StaticKey<'a> {
    /// The key id entry, else (given alone) the secret access key's.
    pub primary: &'a KeyValue,
    /// The matching secret access key, when the primary is the id.
    pub other: Option<&'a KeyValue>,
    /// Where the value comes from: `a literal`, `a secret`, `a configuration variable`.
    pub origin: &'static str,
}

/// Where a key value comes from; `None` when it is not a long-lived source (step outputs,
/// inputs, env and other expressions).
fn key_source(value: &str) -> Option<&'static str> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if !v.contains("${{") {
        return Some("a literal");
    }
    let inner = v.replace(' ', "");
    if inner.contains("secrets.") {
        Some("a secret")
    } else if inner.contains("vars.") {
        Some("a configuration variable")
    } else {
        None
    }
}

/// Could a literal key be a credential? A key id must be one access key id (`AKIA…`, 20
/// characters) that is no placeholder; without an id, the secret must have a secret access
/// key's shape (40 characters of base64). `AWSACCESSKEYID`, `test` or `minioadmin` are test
/// doubles for local emulators, never keys.
fn literal_may_be_key(id: Option<&KeyValue>, secret: Option<&KeyValue>) -> bool {
    use crate::analysis::secrets::{is_key_id, is_placeholder_id};
    match (id, secret) {
        (Some(i), _) => is_key_id(&i.value.value) && !is_placeholder_id(&i.value.value),
        (None, Some(s)) => {
            let v = s.value.value.trim().trim_matches(['"', '\'']);
            v.len() == 40
                && v.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'/' || c == b'+')
        }
        (None, None) => false,
    }
}

/// The long-lived keys one mapping passes (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` in an
/// `env:`, `aws-access-key-id`/`aws-secret-access-key` in configure-aws-credentials' `with:`):
/// not with a session token (temporary credentials), not beside an endpoint outside AWS (keys
/// for R2, MinIO…), not a placeholder literal key id (documentation example, test double).
pub fn static_key<'a>(
    entries: &'a [KeyValue],
    id_key: &str,
    secret_key: &str,
    session_key: &str,
) -> Option<StaticKey<'a>> {
    if entries.iter().any(|e| e.key == session_key) {
        return None;
    }
    if entries
        .iter()
        .any(|e| e.key.starts_with("AWS_ENDPOINT_URL") && !e.value.value.contains("amazonaws.com"))
    {
        return None;
    }
    let id = entries.iter().rev().find(|e| e.key == id_key);
    let secret = entries.iter().rev().find(|e| e.key == secret_key);
    let (primary, other) = match (id, secret) {
        (Some(i), s) => (i, s),
        (None, Some(s)) => (s, None),
        (None, None) => return None,
    };
    let origin = key_source(&primary.value.value)?;
    if origin == "a literal" && !literal_may_be_key(id, secret) {
        return None;
    }
    Some(StaticKey {
        primary,
        other,
        origin,
    })
}

/// Whether a job fetches its OIDC token itself: a script using the runner's
/// `ACTIONS_ID_TOKEN_REQUEST_URL`/`_TOKEN` or `core.getIDToken()`.
fn fetches_token(job: &Job) -> bool {
    job.steps.iter().any(|s| {
        s.run.as_ref().is_some_and(|r| {
            r.value.contains("ACTIONS_ID_TOKEN_REQUEST_") || r.value.contains("getIDToken(")
        }) || s
            .with
            .iter()
            .any(|kv| kv.value.value.contains("getIDToken("))
    })
}

/// The role an `aws sts assume-role-with-web-identity --role-arn …` in a `run:` script
/// assumes with the job's own OIDC token ([`fetches_token`]): the `--role-arn` value (a
/// `$VAR`/`${VAR}` from the step, job or workflow `env`), with the span of the script.
pub fn web_identity_role(step: &Step, job: &Job, w: &Workflow) -> Option<(String, Span)> {
    let run = step.run.as_ref()?;
    let text = run.value.as_str();
    let at = text.find("assume-role-with-web-identity")?;
    if !fetches_token(job) {
        return None;
    }
    let rest = &text[at..];
    let arg = rest.find("--role-arn")?;
    let after = rest[arg + "--role-arn".len()..].trim_start_matches(['=', ' ', '\t', '\\', '\n']);
    let value = match after.chars().next()? {
        q @ ('"' | '\'') => after[1..].split(q).next()?,
        _ => after
            .split(|c: char| c.is_whitespace() || c == ';' || c == '\\')
            .next()?,
    };
    let value = value.trim();
    let var = Some(value)
        .filter(|v| !v.starts_with("${{"))
        .and_then(|v| v.strip_prefix("${"))
        .and_then(|v| v.strip_suffix('}'))
        .or_else(|| value.strip_prefix('$').filter(|v| !v.starts_with('{')));
    let value = match var {
        Some(name) => [&step.env, &job.env, &w.env]
            .iter()
            .find_map(|kvs| kvs.iter().rev().find(|kv| kv.key == name))
            .map(|kv| kv.value.value.trim().to_string())?,
        None => value.to_string(),
    };
    (!value.is_empty()).then_some((value, run.span))
}

/// The audience a job's own token request asks for (`…&audience=sts.amazonaws.com`, or
/// `getIDToken('…')`); `None` when not written (GitHub's default audience is the owner's URL).
pub fn web_identity_audience(job: &Job) -> Option<String> {
    job.steps.iter().find_map(|s| {
        let r = &s.run.as_ref()?.value;
        let i = r.find("audience=")?;
        let v: String = r[i + "audience=".len()..]
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '\'' | '&' | ')' | ';'))
            .collect();
        (!v.is_empty() && !v.contains('$')).then_some(v)
    })
}

/// What `${{ secrets.NAME }}`/`${{ vars.NAME }}` hold where the scan knows: the secrets and
/// variables IaC sets (a role ARN, or a reference to a role of the scan), then the
/// configuration's `role-mappings` for the names IaC does not set. A name IaC sets to
/// different values (several repositories or environments) is left out: which one a job sees
/// is not known.
pub fn role_mappings(scan: &crate::model::Scan) -> std::collections::BTreeMap<String, String> {
    let mut seen: std::collections::BTreeMap<String, Option<String>> = Default::default();
    for v in scan.models.iter().flat_map(|m| &m.ci_values) {
        let value = v.value.value.display();
        if !value.contains(":role/") {
            continue;
        }
        seen.entry(v.name.clone())
            .and_modify(|prev| {
                if prev.as_deref() != Some(value.as_str()) {
                    *prev = None;
                }
            })
            .or_insert(Some(value));
    }
    let mut out: std::collections::BTreeMap<String, String> = seen
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect();
    for (k, v) in &scan.settings.role_mappings {
        out.entry(k.clone()).or_insert_with(|| v.clone());
    }
    out
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
        } else if web_identity_role(step, job, w).is_some() {
            out.push((step, Access::Oidc));
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
    fn a_script_assuming_a_role_with_the_jobs_own_token_is_oidc() {
        let w = workflow(concat!(
            "on: push\njobs:\n  a:\n    runs-on: x\n    env:\n      ROLE: arn:aws:iam::1:role/env-role\n    steps:\n",
            "      - run: |\n          T=$(curl -sH \"Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN\" \"$ACTIONS_ID_TOKEN_REQUEST_URL&audience=sts.amazonaws.com\" | jq -r .value)\n          aws sts assume-role-with-web-identity --role-arn \"${{ secrets.DEPLOY_ROLE }}\" --role-session-name x --web-identity-token \"$T\"\n",
            "      - run: aws sts assume-role-with-web-identity --role-arn=$ROLE --web-identity-token $T\n",
            "      - run: aws sts get-caller-identity\n",
        ));
        let job = &w.jobs[0];
        let roles: Vec<Option<String>> = job
            .steps
            .iter()
            .map(|s| oidc_step(s, job, &w).map(|(v, _)| v))
            .collect();
        assert_eq!(
            roles,
            [
                Some("${{ secrets.DEPLOY_ROLE }}".to_string()),
                Some("arn:aws:iam::1:role/env-role".to_string()),
                None
            ]
        );
        assert_eq!(
            web_identity_audience(job).as_deref(),
            Some("sts.amazonaws.com")
        );
        // Without the job fetching its own token, the call uses some other token.
        let w = workflow(
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: aws sts assume-role-with-web-identity --role-arn arn:aws:iam::1:role/r --web-identity-token file://t\n",
        );
        assert!(oidc_step(&w.jobs[0].steps[0], &w.jobs[0], &w).is_none());
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
