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

impl Rule for WorkflowLongLivedKeys {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn per_file(&self) -> bool {
        true
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let env_keys = (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
        );
        for m in &ctx.models {
            for w in m.workflows.iter().filter(|w| ctx.in_focus(w.file)) {
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
