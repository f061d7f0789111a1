//! GitLab CI configuration files (`.gitlab-ci.yml` and the files it includes), as written: one
//! [`GitlabFile`] per file, its job definitions unmerged. Assembling a pipeline (includes,
//! `extends:`, `default:`, `!reference`) is knowledge of the analysis layer
//! (`analysis::gitlab`), which reads these across files.

use super::{KeyValue, Spanned};
use crate::source::{FileId, Span};

/// Most files one GitLab pipeline includes, nested ones counted (GitLab's own limit).
pub const MAX_INCLUDES: usize = 150;
/// Deepest nesting of GitLab includes followed (GitLab's own limit).
pub const MAX_INCLUDE_DEPTH: usize = 100;

/// One GitLab CI YAML file.
#[derive(Clone, Debug, Default)]
pub struct GitlabFile {
    pub file: FileId,
    /// Named `.gitlab-ci.yml` (a pipeline's root file); else a file some root includes.
    pub root: bool,
    pub includes: Vec<Include>,
    /// The `default:` section, as a job definition.
    pub default: Option<JobDef>,
    /// Top-level `variables:`.
    pub variables: Vec<KeyValue>,
    /// Every job definition, hidden (`.name`) ones included, in file order.
    pub jobs: Vec<JobDef>,
}

/// One `include:` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Include {
    pub kind: IncludeKind,
    /// The entry (its path's scalar for the string form).
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IncludeKind {
    /// `include: local:` or the string form with a path: a file of the same project, relative
    /// to the project's root (a leading `/` names that root too).
    Local(String),
    /// `remote:`, `project:`, `template:`, `component:` or a string URL: never fetched.
    External(String),
    /// An entry the scan cannot read (an expression, an unknown form).
    Unknown(String),
}

/// A `!reference [job, key, …]` or a literal value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptItem {
    Line(Spanned<String>),
    /// `!reference [.job, key…]`: the path, and where it is written.
    Reference(Vec<String>, Span),
}

/// One `id_tokens:` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdTokenDef {
    pub name: Spanned<String>,
    /// The `aud:` values (a string or a list); empty when missing or not literal.
    pub aud: Vec<Spanned<String>>,
    /// The `aud:` value (the whole list), or the entry when `aud:` is missing.
    pub aud_span: Span,
    /// `aud:` holds a variable or is not a string or list of strings.
    pub aud_unknown: bool,
}

/// One `rules:` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleDef {
    pub span: Span,
    /// The `if:` expression, as written.
    pub condition: Option<Spanned<String>>,
    /// `when:` (`never`, `manual`, `on_success`, …).
    pub when: Option<String>,
    /// The entry is a `!reference` or not a map: the scan cannot read it.
    pub opaque: bool,
}

/// A job definition (or `default:`) as written in one file; `None`/empty fields are not set
/// here (inherited through `extends:` or `default:` when the pipeline is assembled).
#[derive(Clone, Debug)]
pub struct JobDef {
    pub name: Spanned<String>,
    /// The whole definition.
    pub span: Span,
    pub hidden: bool,
    pub extends: Vec<Spanned<String>>,
    /// `id_tokens:`; `Some(None)` when written but not readable (a `!reference`).
    pub id_tokens: Option<Option<Vec<IdTokenDef>>>,
    pub rules: Option<Vec<RuleDef>>,
    /// `only:` (the list, or its `refs:`); `except:` only narrows, which a static superset of
    /// the refs can ignore.
    pub only: Option<Vec<Spanned<String>>>,
    pub environment: Option<Spanned<String>>,
    pub variables: Vec<KeyValue>,
    pub before_script: Option<Vec<ScriptItem>>,
    pub script: Option<Vec<ScriptItem>>,
    /// A `trigger:` job (a downstream pipeline): it runs no script.
    pub trigger: bool,
}

impl JobDef {
    /// A definition with nothing set.
    pub fn empty(name: Spanned<String>, span: Span) -> JobDef {
        JobDef {
            hidden: name.value.starts_with('.'),
            name,
            span,
            extends: vec![],
            id_tokens: None,
            rules: None,
            only: None,
            environment: None,
            variables: vec![],
            before_script: None,
            script: None,
            trigger: false,
        }
    }
}
