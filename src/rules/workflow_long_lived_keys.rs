use super::{Ctx, Rule, RuleMeta};
use crate::analysis::access::{StaticKey, static_key};
use crate::diag::Finding;
use crate::model::KeyValue;
use crate::source::FileId;

pub struct WorkflowLongLivedKeys;
pub static RULE: WorkflowLongLivedKeys = WorkflowLongLivedKeys;
static META: RuleMeta = crate::rule_meta!(
    "workflow-long-lived-keys",
    Error,
    "A workflow passes long-lived AWS access keys (from secrets, variables or literals) instead of using OIDC",
    ["workflow", "action"],
    false
);

fn report(
    out: &mut Vec<Finding>,
    file: FileId,
    where_: &str,
    entries: &[KeyValue],
    id_key: &str,
    secret_key: &str,
    session_key: &str,
) {
    let Some(StaticKey {
        primary,
        other,
        origin,
    }) = static_key(entries, id_key, secret_key, session_key)
    else {
        return;
    };
    let mut f = Finding::new(META.id, META.severity, file, primary.value.span)
        .message(format!(
            "{where_} passes a long-lived AWS access key (`{}` from {origin}) instead of assuming a role through OIDC",
            primary.key
        ))
        .label("long-lived access key")
        .help("switch to OIDC: grant `id-token: write`, pass `role-to-assume: arn:aws:iam::ACCOUNT:role/NAME` to aws-actions/configure-aws-credentials, then delete the key and its IAM user (`oidc-lint audit` prints the patch and a trust policy)");
    if origin == "a literal" {
        f = f.redacted();
    }
    if let Some(o) = other {
        f = f.related(file, o.value.span, "the matching secret access key");
    }
    out.push(f);
}

/// The `env`/`with` entries of a local action's step as the calling step gives them: each
/// `${{ inputs.NAME }}` value replaced by the caller's `with: NAME` (located there), the
/// action's own values located at the caller's `uses`. `None` unless the key the report names
/// (the key id, else the secret) comes from an input: a key written in the action is judged
/// where it is written.
fn through_inputs(
    inner: &[KeyValue],
    caller: &crate::model::Step,
    (id_key, secret_key): (&str, &str),
) -> Option<Vec<KeyValue>> {
    let at = caller.uses.as_ref().map(|u| u.span).unwrap_or(caller.span);
    let mut from_input: Vec<&str> = Vec::new();
    let out: Vec<KeyValue> = inner
        .iter()
        .filter_map(|kv| {
            match crate::analysis::subjects::input_reference(&kv.value.value) {
                Some(name) => {
                    let given = caller.input(name)?;
                    from_input.push(kv.key.as_str());
                    Some(KeyValue {
                        key: kv.key.clone(),
                        key_span: given.key_span,
                        value: given.value.clone(),
                    })
                }
                // (a value of the action's own: an endpoint, a session token)
                None => Some(KeyValue {
                    key: kv.key.clone(),
                    key_span: at,
                    value: crate::model::Spanned::new(kv.value.value.clone(), at),
                }),
            }
        })
        .collect();
    let named = if out.iter().any(|e| e.key == id_key) {
        id_key
    } else {
        secret_key
    };
    from_input.contains(&named).then_some(out)
}

impl Rule for WorkflowLongLivedKeys {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let env_keys = (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
        );
        let actions = crate::analysis::subjects::LocalActions::index(ctx);
        for m in &ctx.models {
            // (every workflow: a change to a local action changes its callers' findings)
            for w in &m.workflows {
                let f = w.file;
                report(
                    out,
                    f,
                    "the workflow's `env`",
                    &w.env,
                    env_keys.0,
                    env_keys.1,
                    env_keys.2,
                );
                for j in &w.jobs {
                    let jname = format!("job `{}`", j.id.value);
                    report(
                        out,
                        f,
                        &format!("{jname}'s `env`"),
                        &j.env,
                        env_keys.0,
                        env_keys.1,
                        env_keys.2,
                    );
                    for (n, s) in j.steps.iter().enumerate() {
                        let sname = match &s.name {
                            Some(name) => format!("step `{name}` of {jname}"),
                            None => format!("step {} of {jname}", n + 1),
                        };
                        report(
                            out,
                            f,
                            &format!("{sname}'s `env`"),
                            &s.env,
                            env_keys.0,
                            env_keys.1,
                            env_keys.2,
                        );
                        if s.is_configure_aws_credentials() {
                            report(
                                out,
                                f,
                                &sname,
                                &s.with,
                                "aws-access-key-id",
                                "aws-secret-access-key",
                                "aws-session-token",
                            );
                        }
                        // (a local composite action given the keys as inputs: reported at the
                        // caller's `with:`, where the secret is read)
                        let Some(uses) = s.uses.as_ref() else {
                            continue;
                        };
                        let Some(action) = actions.resolve(&ctx.file(f).rel, &uses.value) else {
                            continue;
                        };
                        let via = format!("{sname} (through `{}`)", uses.value.trim());
                        // (one finding per calling step, however many of the action's steps
                        // read the keys)
                        let before = out.len();
                        for inner in action.jobs.iter().flat_map(|j| &j.steps) {
                            if out.len() > before {
                                break;
                            }
                            if let Some(env) =
                                through_inputs(&inner.env, s, (env_keys.0, env_keys.1))
                            {
                                report(
                                    out,
                                    f,
                                    &format!("{via}'s `env`"),
                                    &env,
                                    env_keys.0,
                                    env_keys.1,
                                    env_keys.2,
                                );
                            }
                            if inner.is_configure_aws_credentials()
                                && let Some(with) = through_inputs(
                                    &inner.with,
                                    s,
                                    ("aws-access-key-id", "aws-secret-access-key"),
                                )
                            {
                                report(
                                    out,
                                    f,
                                    &via,
                                    &with,
                                    "aws-access-key-id",
                                    "aws-secret-access-key",
                                    "aws-session-token",
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
