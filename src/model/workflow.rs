//! GitHub workflows and composite actions.

use super::{MapHandle, Spanned};
use crate::source::tree::Node;
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
    /// `workflow_run`'s `workflows:`: the names of the workflows whose runs start this one.
    pub workflows: Option<Vec<String>>,
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
    /// The step's `id:` (for `steps.<id>.outputs`).
    pub id: Option<String>,
    /// The step's `if:` expression, as written.
    pub condition: Option<Spanned<String>>,
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
    /// `secrets:` of a reusable-workflow call.
    pub secrets: Option<CallSecrets>,
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

/// The secrets a reusable-workflow call passes.
#[derive(Clone, Debug)]
pub enum CallSecrets {
    /// `secrets: inherit`: every secret of the caller, under its own name.
    Inherit,
    /// `secrets: {NAME: value}` (scalar values, as written).
    Map(Vec<KeyValue>),
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
    /// The workflow's `name:` (what `workflow_run: workflows:` names it by).
    pub name: Option<String>,
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
