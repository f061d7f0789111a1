//! GitHub Actions workflows and composite actions from their YAML tree.

use super::iam_json::{Family, handle};
use crate::model::*;
use crate::source::FileId;
use crate::source::tree::{Node, Value};

fn scalar_string(n: &Node) -> Option<String> {
    match &n.value {
        Value::Tagged(_, inner) => scalar_string(inner),
        _ => n.scalar_text(),
    }
}

fn key_values(n: Option<&Node>) -> Vec<KeyValue> {
    let Some(n) = n else { return vec![] };
    n.entries()
        .iter()
        .filter_map(|e| {
            let v = scalar_string(&e.value)?;
            Some(KeyValue {
                key: e.key.clone(),
                key_span: e.key_span,
                value: Spanned::new(v, e.value.span),
            })
        })
        .collect()
}

fn permissions(file: FileId, entry: Option<&crate::source::tree::Entry>) -> Option<Permissions> {
    let e = entry?;
    let n = &e.value;
    let spec = match &n.value {
        Value::Map(entries) => PermSpec::Map(
            entries
                .iter()
                .map(|s| {
                    (
                        s.key.clone(),
                        Spanned::new(scalar_string(&s.value).unwrap_or_default(), s.value.span),
                    )
                })
                .collect(),
        ),
        Value::Str(t) => match t.display().as_str() {
            "write-all" => PermSpec::WriteAll,
            "read-all" => PermSpec::ReadAll,
            other => PermSpec::Unknown(other.to_string()),
        },
        // `permissions:` with nothing is an empty block: every scope none
        Value::Null => PermSpec::Map(vec![]),
        _ => PermSpec::Unknown(String::new()),
    };
    Some(Permissions {
        key_span: e.key_span,
        span: n.span,
        block: n.is_map().then(|| handle(file, Family::Yaml, n)),
        spec,
    })
}

fn string_list(n: Option<&Node>) -> Option<Vec<Spanned<String>>> {
    let n = n?;
    Some(
        n.items()
            .into_iter()
            .filter_map(|i| Some(Spanned::new(scalar_string(i)?, i.span)))
            .collect(),
    )
}

fn triggers(on: &Node) -> Vec<Trigger> {
    match &on.value {
        Value::Str(_) => vec![Trigger {
            event: on.scalar_text().unwrap_or_default(),
            span: on.span,
            branches: None,
            tags: None,
            workflows: None,
        }],
        Value::Seq(items) => items
            .iter()
            .filter_map(|i| {
                Some(Trigger {
                    event: i.scalar_text()?,
                    span: i.span,
                    branches: None,
                    tags: None,
                    workflows: None,
                })
            })
            .collect(),
        Value::Map(entries) => entries
            .iter()
            .map(|e| Trigger {
                event: e.key.clone(),
                span: e.key_span,
                branches: string_list(e.value.get("branches")),
                tags: string_list(e.value.get("tags")),
                workflows: string_list(e.value.get("workflows"))
                    .map(|v| v.into_iter().map(|s| s.value).collect()),
            })
            .collect(),
        _ => vec![],
    }
}

fn steps(n: Option<&Node>) -> Vec<Step> {
    let Some(n) = n else { return vec![] };
    n.items()
        .into_iter()
        .filter(|s| s.is_map())
        .map(|s| Step {
            span: s.span,
            id: s.get("id").and_then(scalar_string),
            condition: s
                .get("if")
                .and_then(|c| Some(Spanned::new(scalar_string(c)?, c.span))),
            name: s.get("name").and_then(scalar_string),
            uses: s
                .get("uses")
                .and_then(|u| Some(Spanned::new(scalar_string(u)?, u.span))),
            with: key_values(s.get("with")),
            env: key_values(s.get("env")),
            run: s
                .get("run")
                .and_then(|u| Some(Spanned::new(scalar_string(u)?, u.span))),
        })
        .collect::<Vec<_>>()
        .into_boxed_slice()
        .into_vec()
}

/// Workflow from the root node of `.github/workflows/*.yml`.
pub fn workflow_from_tree(file: FileId, root: &Node) -> Workflow {
    let mut jobs = Vec::new();
    if let Some(js) = root.get("jobs") {
        for e in js.entries() {
            let j = &e.value;
            let environment = j.get("environment").and_then(|env| {
                let n = if env.is_map() { env.get("name")? } else { env };
                Some(Spanned::new(scalar_string(n)?, n.span))
            });
            let secrets = j.get("secrets").and_then(|n| {
                if n.is_map() {
                    Some(CallSecrets::Map(key_values(Some(n))))
                } else {
                    (scalar_string(n)?.trim() == "inherit").then_some(CallSecrets::Inherit)
                }
            });
            jobs.push(Job {
                with: key_values(j.get("with")),
                secrets,
                matrix: j.get("strategy").and_then(|s| s.get("matrix")).cloned(),
                id: Spanned::new(e.key.clone(), e.key_span),
                span: j.span,
                permissions: permissions(file, j.get_entry("permissions")),
                environment,
                env: key_values(j.get("env")),
                steps: steps(j.get("steps")),
                uses: j
                    .get("uses")
                    .and_then(|u| Some(Spanned::new(scalar_string(u)?, u.span))),
                block: j.is_map().then(|| handle(file, Family::Yaml, j)),
                condition: j
                    .get("if")
                    .and_then(|c| Some(Spanned::new(scalar_string(c)?, c.span))),
            });
        }
    }
    jobs.shrink_to_fit();
    Workflow {
        file,
        kind: WorkflowKind::Workflow,
        name: root.get("name").and_then(scalar_string),
        triggers: root
            .get_entry("on")
            .or_else(|| root.get_entry("true"))
            .map(|e| triggers(&e.value))
            .unwrap_or_default(),
        permissions: permissions(file, root.get_entry("permissions")),
        env: key_values(root.get("env")),
        jobs,
    }
}

/// An action's metadata file: composite steps become one pseudo-job named `runs`.
pub fn action_from_tree(file: FileId, root: &Node) -> Workflow {
    let mut jobs = Vec::new();
    if let Some(runs) = root.get_entry("runs") {
        jobs.push(Job {
            with: vec![],
            secrets: None,
            matrix: None,
            id: Spanned::new("runs".into(), runs.key_span),
            span: runs.value.span,
            permissions: None,
            environment: None,
            env: vec![],
            steps: steps(runs.value.get("steps")),
            uses: None,
            block: None,
            condition: None,
        });
    }
    Workflow {
        file,
        kind: WorkflowKind::Action,
        name: root.get("name").and_then(scalar_string),
        triggers: vec![],
        permissions: None,
        env: vec![],
        jobs,
    }
}
