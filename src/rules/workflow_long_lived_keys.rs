use super::{Ctx, Rule, RuleMeta};
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

/// Where a value comes from, for the message; `None` when it is not a long-lived source
/// (step outputs, inputs, env and other expressions).
fn source(value: &str) -> Option<&'static str> {
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

fn report(
    out: &mut Vec<Finding>,
    file: FileId,
    where_: &str,
    entries: &[KeyValue],
    id_key: &str,
    secret_key: &str,
    session_key: &str,
) {
    if entries.iter().any(|e| e.key == session_key) {
        return; // temporary credentials come with a session token
    }
    // Keys for an S3-compatible service elsewhere (Cloudflare R2, MinIO…) are not AWS keys.
    if entries
        .iter()
        .any(|e| e.key.starts_with("AWS_ENDPOINT_URL") && !e.value.value.contains("amazonaws.com"))
    {
        return;
    }
    let id = entries.iter().rev().find(|e| e.key == id_key);
    let secret = entries.iter().rev().find(|e| e.key == secret_key);
    let (primary, other) = match (id, secret) {
        (Some(i), s) => (i, s),
        (None, Some(s)) => (s, None),
        (None, None) => return,
    };
    let Some(origin) = source(&primary.value.value) else {
        return;
    };
    // A literal key id that cannot be a key (documentation example, placeholder, test double)
    // passes no credential; its secret is then a test value too.
    if origin == "a literal"
        && id.is_some_and(|i| crate::analysis::secrets::is_placeholder_id(&i.value.value))
    {
        return;
    }
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
        for m in &ctx.models {
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
                    }
                }
            }
        }
    }
}
