//! GitHub workflows and composite actions.

use super::iam::{Family, handle};
use super::{MapHandle, Spanned};
use crate::source::tree::{Node, Value};
use crate::source::{FileId, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkflowKind {
    Workflow,
    /// `action.yml`: its steps run inside the caller's job.
    Action,
}

#[derive(Clone, Debug)]
pub struct Trigger {
    pub event: String,
    pub span: Span,
    pub branches: Option<Vec<Spanned<String>>>,
    pub tags: Option<Vec<Spanned<String>>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PermSpec {
    WriteAll,
    ReadAll,
    /// `{}` or a map of scopes.
    Map(Vec<(String, Spanned<String>)>),
    /// Anything else (an expression): unknown.
    Unknown(String),
}

#[derive(Clone, Debug)]
pub struct Permissions {
    /// The `permissions` key.
    pub key_span: Span,
    pub span: Span,
    pub spec: PermSpec,
    pub block: Option<MapHandle>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdToken {
    Write,
    Missing,
    Unknown,
}

impl Permissions {
    pub fn id_token(&self) -> IdToken {
        match &self.spec {
            PermSpec::WriteAll => IdToken::Write,
            PermSpec::ReadAll => IdToken::Missing,
            PermSpec::Unknown(_) => IdToken::Unknown,
            PermSpec::Map(scopes) => match scopes.iter().find(|(k, _)| k == "id-token") {
                Some((_, v)) if v.value == "write" => IdToken::Write,
                Some((_, v)) if v.value.contains("${{") => IdToken::Unknown,
                _ => IdToken::Missing,
            },
        }
    }
}

/// A `key: value` input or env entry with a scalar value.
#[derive(Clone, Debug)]
pub struct KeyValue {
    pub key: String,
    pub key_span: Span,
    /// The value's text (expressions kept verbatim).
    pub value: Spanned<String>,
}

#[derive(Clone, Debug)]
pub struct Step {
    pub span: Span,
    pub name: Option<String>,
    pub uses: Option<Spanned<String>>,
    pub with: Vec<KeyValue>,
    pub env: Vec<KeyValue>,
    pub run: Option<Spanned<String>>,
}

impl Step {
    pub fn input(&self, key: &str) -> Option<&KeyValue> {
        self.with.iter().rev().find(|kv| kv.key == key)
    }
    /// The `uses` action name without `@ref`, lower-cased (`aws-actions/configure-aws-credentials`).
    pub fn action(&self) -> Option<String> {
        let u = self.uses.as_ref()?;
        let name = u.value.split('@').next().unwrap_or("");
        Some(name.trim().to_ascii_lowercase())
    }
    pub fn is_configure_aws_credentials(&self) -> bool {
        self.action().as_deref() == Some("aws-actions/configure-aws-credentials")
    }
}

#[derive(Clone, Debug)]
pub struct Job {
    /// `with:` of a reusable-workflow call.
    pub with: Vec<KeyValue>,
    /// `strategy.matrix`, kept as written.
    pub matrix: Option<Node>,
    pub id: Spanned<String>,
    pub span: Span,
    pub permissions: Option<Permissions>,
    pub environment: Option<Spanned<String>>,
    pub env: Vec<KeyValue>,
    pub steps: Vec<Step>,
    /// A reusable-workflow call (`uses: ./.github/workflows/x.yml`).
    pub uses: Option<Spanned<String>>,
    pub block: Option<MapHandle>,
    /// The job's `if:` expression, as written.
    pub condition: Option<Spanned<String>>,
}

impl Job {
    /// The path in the scan of the reusable workflow this job calls through a local
    /// `uses: ./.github/workflows/x.yml` reference, given the calling workflow's own path.
    /// A local path is relative to the caller's repository, whose root is the directory above
    /// the caller's `.github/workflows/` (or, when the scan starts inside that directory, the
    /// callee sits beside the caller: GitHub keeps reusable workflows at its top level).
    pub fn local_callee(&self, caller_rel: &str) -> Option<String> {
        let u = self.uses.as_ref()?;
        let local = u.value.trim().strip_prefix("./")?;
        let local = local.split('@').next().unwrap_or(local);
        const DIR: &str = ".github/workflows/";
        let at_root = caller_rel.starts_with(DIR);
        match caller_rel.rfind(&format!("/{DIR}")) {
            Some(i) => Some(format!("{}{local}", &caller_rel[..i + 1])),
            None if at_root => Some(local.to_string()),
            None => {
                let dir = caller_rel.rsplit_once('/').map(|(d, _)| d);
                let name = local.strip_prefix(DIR)?;
                Some(match dir {
                    Some(d) => format!("{d}/{name}"),
                    None => name.to_string(),
                })
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct Workflow {
    pub file: FileId,
    pub kind: WorkflowKind,
    pub triggers: Vec<Trigger>,
    pub permissions: Option<Permissions>,
    pub env: Vec<KeyValue>,
    pub jobs: Vec<Job>,
}

impl Workflow {
    pub fn has_trigger(&self, event: &str) -> bool {
        self.triggers.iter().any(|t| t.event == event)
    }
    /// Effective permissions of a job: its own block replaces the workflow's.
    pub fn effective_permissions<'a>(&'a self, job: &'a Job) -> Option<&'a Permissions> {
        job.permissions.as_ref().or(self.permissions.as_ref())
    }
}

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
        }],
        Value::Seq(items) => items
            .iter()
            .filter_map(|i| {
                Some(Trigger {
                    event: i.scalar_text()?,
                    span: i.span,
                    branches: None,
                    tags: None,
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
            jobs.push(Job {
                with: key_values(j.get("with")),
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
        triggers: vec![],
        permissions: None,
        env: vec![],
        jobs,
    }
}
