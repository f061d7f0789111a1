//! The migration change for one static-key job: a workflow patch, and a least-privilege trust
//! policy (IAM JSON and Terraform) for the subjects that job presents.

use crate::analysis::eval::Val;
use crate::analysis::subjects::{Access, Assumption, DEFAULT_AUDIENCE};

use super::Migration;

pub(super) fn role_name_for(repo: Option<&str>, job: &str) -> String {
    let base = match repo.and_then(|r| r.split('/').nth(1)) {
        Some(name) => format!("github-{name}-{job}"),
        None => format!("github-actions-{job}"),
    };
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+=,.@_-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    clean.chars().take(64).collect()
}

/// Byte range of the whole line holding `offset` (newline included).
fn line_range(text: &str, offset: usize) -> (usize, usize) {
    let start = text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let end = text[offset..]
        .find('\n')
        .map(|i| offset + i + 1)
        .unwrap_or(text.len());
    (start, end)
}

fn indent_of(text: &str, offset: usize) -> String {
    let (start, _) = line_range(text, offset);
    text[start..].chars().take_while(|c| *c == ' ').collect()
}

pub(super) type Edits = Vec<(usize, usize, String)>;

pub(super) fn migrate(
    scan: &crate::model::Scan,
    role_name: String,
    a: &Assumption,
    subs: &[Val],
) -> (Migration, Edits) {
    let arn = format!("arn:aws:iam::${{{{ vars.AWS_ACCOUNT_ID }}}}:role/{role_name}");
    let src = scan.file(a.file);
    let text = &src.text;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let key_span = match a.access {
        Access::StaticKeys(s) => s,
        Access::Oidc => a.role_span,
    };
    let step = a.step;
    if a.through.is_some() {
        // The keys are passed inside the local action the job runs: that file is changed by
        // hand (the action may serve other jobs); the job only needs `id-token: write`.
    } else if step.is_configure_aws_credentials() && step.input("aws-access-key-id").is_some() {
        // replace the key id input with role-to-assume, drop the secret
        let (ls, le) = line_range(text, key_span.start as usize);
        let ind = indent_of(text, key_span.start as usize);
        edits.push((ls, le, format!("{ind}role-to-assume: {arn}\n")));
        for k in ["aws-secret-access-key", "aws-session-token"] {
            if let Some(kv) = step.input(k) {
                let (s, e) = line_range(text, kv.key_span.start as usize);
                edits.push((s, e, String::new()));
            }
        }
    } else {
        // keys in `env`: drop them, and configure credentials in a first step
        let mut envs: Vec<&crate::model::KeyValue> = Vec::new();
        for kvs in [&step.env, &a.job.env, &a.workflow.env] {
            envs.extend(
                kvs.iter().filter(|kv| {
                    kv.key == "AWS_ACCESS_KEY_ID" || kv.key == "AWS_SECRET_ACCESS_KEY"
                }),
            );
        }
        for kv in envs {
            let (s, e) = line_range(text, kv.key_span.start as usize);
            edits.push((s, e, String::new()));
        }
        if let Some(first) = a.job.steps.first() {
            let (ls, _) = line_range(text, first.span.start as usize);
            let col = first.span.start as usize - ls;
            let dash = " ".repeat(col.saturating_sub(2));
            let body = " ".repeat(col);
            let region = [&step.env, &a.job.env, &a.workflow.env]
                .iter()
                .find_map(|kvs| {
                    kvs.iter()
                        .find(|kv| kv.key == "AWS_REGION" || kv.key == "AWS_DEFAULT_REGION")
                        .map(|kv| kv.value.value.clone())
                })
                .unwrap_or_else(|| "${{ vars.AWS_REGION }}".into());
            edits.push((
                ls,
                ls,
                format!(
                    "{dash}- uses: aws-actions/configure-aws-credentials@v6\n{body}with:\n{body}  role-to-assume: {arn}\n{body}  aws-region: {region}\n"
                ),
            ));
        }
    }
    // permissions: the job needs `id-token: write`
    let perms = a.workflow.effective_permissions(a.job);
    let has_id_token = perms.is_some_and(|p| p.id_token() == crate::model::IdToken::Write);
    if !has_id_token {
        match &a.job.permissions {
            Some(p) if matches!(p.spec, crate::model::PermSpec::Map(ref m) if !m.is_empty()) => {
                let crate::model::PermSpec::Map(scopes) = &p.spec else {
                    unreachable!()
                };
                if let Some((_, v)) = scopes.iter().find(|(k, _)| k == "id-token") {
                    edits.push((v.span.start as usize, v.span.end as usize, "write".into()));
                } else {
                    let first = &scopes[0].1;
                    let (ls, _) = line_range(text, first.span.start as usize);
                    let ind = indent_of(text, first.span.start as usize);
                    edits.push((ls, ls, format!("{ind}id-token: write\n")));
                }
            }
            _ => {
                // a job-level block replaces the workflow's: keep its scopes
                let mut scopes: Vec<(String, String)> =
                    match a.workflow.permissions.as_ref().map(|p| &p.spec) {
                        Some(crate::model::PermSpec::Map(m)) => m
                            .iter()
                            .filter(|(k, _)| k != "id-token")
                            .map(|(k, v)| (k.clone(), v.value.clone()))
                            .collect(),
                        _ => vec![("contents".into(), "read".into())],
                    };
                scopes.push(("id-token".into(), "write".into()));
                if let Some(old) = &a.job.permissions {
                    let (s, e) = line_range(text, old.key_span.start as usize);
                    let (_, e2) =
                        line_range(text, (old.span.end as usize).max(e).saturating_sub(1));
                    edits.push((s, e2.max(e), String::new()));
                }
                let (ls, le) = line_range(text, a.job.id.span.start as usize);
                let ind = indent_of(text, a.job.id.span.start as usize) + "  ";
                let mut block = format!("{ind}permissions:\n");
                for (k, v) in scopes {
                    block.push_str(&format!("{ind}  {k}: {v}\n"));
                }
                let _ = ls;
                edits.push((le, le, block));
            }
        }
    }
    let (trust_policy, terraform) = trust_documents(&role_name, subs);
    (
        Migration {
            role_name,
            reuse: None,
            workflow_patch: String::new(),
            trust_policy,
            terraform,
        },
        edits,
    )
}

/// Apply edits (sorted, overlapping ones dropped) and render a unified diff.
pub(super) fn patch_for(rel: &str, text: &str, mut edits: Edits) -> String {
    edits.sort_by_key(|e| (e.0, e.1));
    edits.dedup();
    let mut patched = String::new();
    let mut at = 0;
    for (s, e, r) in &edits {
        if *s < at {
            continue;
        }
        patched.push_str(&text[at..*s]);
        patched.push_str(r);
        at = *e;
    }
    patched.push_str(&text[at..]);
    diffy::create_patch(text, &patched)
        .to_string()
        .replacen("--- original", &format!("--- a/{rel}"), 1)
        .replacen("+++ modified", &format!("+++ b/{rel}"), 1)
}

const ISSUER: &str = crate::analysis::trust::DEFAULT_ISSUER;

/// The least-privilege trust policy for these subjects (exact when every subject is known,
/// else `StringLike` with the unknown parts as `*`).
pub fn trust_documents(role_name: &str, subs: &[Val]) -> (serde_json::Value, String) {
    let mut values: Vec<String> = subs.iter().map(|s| s.pattern()).collect();
    values.sort();
    values.dedup();
    // drop values another (wildcard) value already admits
    let all = values.clone();
    values.retain(|v| {
        !all.iter()
            .any(|w| w != v && w.contains('*') && crate::model::glob_match(w, v))
    });
    let like = subs.iter().any(|s| s.known().is_none());
    let op = if like { "StringLike" } else { "StringEquals" };
    let sub_key = format!("{ISSUER}:sub");
    let aud_key = format!("{ISSUER}:aud");
    let sub_json = if values.len() == 1 {
        serde_json::Value::from(values[0].clone())
    } else {
        serde_json::Value::from(values.clone())
    };
    let mut cond = serde_json::Map::new();
    if like {
        cond.insert(
            "StringEquals".into(),
            serde_json::json!({ aud_key.clone(): DEFAULT_AUDIENCE }),
        );
        cond.insert(
            "StringLike".into(),
            serde_json::json!({ sub_key.clone(): sub_json }),
        );
    } else {
        cond.insert(
            "StringEquals".into(),
            serde_json::json!({ aud_key.clone(): DEFAULT_AUDIENCE, sub_key.clone(): sub_json }),
        );
    }
    let json = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws:iam::${{AWS_ACCOUNT_ID}}:oidc-provider/{ISSUER}")},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": cond,
        }]
    });
    let ident: String = role_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let hcl_list = values
        .iter()
        .map(|v| {
            format!(
                "\"{}\"",
                v.replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace("${", "$${")
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sub_line = format!("          \"{sub_key}\" = [{hcl_list}]\n");
    let conditions = if like {
        format!(
            "        StringEquals = {{\n          \"{aud_key}\" = \"{DEFAULT_AUDIENCE}\"\n        }}\n        StringLike = {{\n{sub_line}        }}\n"
        )
    } else {
        format!(
            "        StringEquals = {{\n          \"{aud_key}\" = \"{DEFAULT_AUDIENCE}\"\n{sub_line}        }}\n"
        )
    };
    let _ = op;
    let tf = format!(
        "data \"aws_iam_openid_connect_provider\" \"github\" {{\n  url = \"https://{ISSUER}\"\n}}\n\nresource \"aws_iam_role\" \"{ident}\" {{\n  name = \"{role_name}\"\n  assume_role_policy = jsonencode({{\n    Version = \"2012-10-17\"\n    Statement = [{{\n      Effect    = \"Allow\"\n      Principal = {{ Federated = data.aws_iam_openid_connect_provider.github.arn }}\n      Action    = \"sts:AssumeRoleWithWebIdentity\"\n      Condition = {{\n{conditions}      }}\n    }}]\n  }})\n}}\n"
    );
    (json, tf)
}
