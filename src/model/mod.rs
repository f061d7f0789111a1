//! The normalized model rules see. Every value keeps the span it came from; nothing here knows
//! which input format produced it.

pub mod glob;
pub mod iam;
pub mod workflow;
pub mod workspace;

pub use glob::glob_match;
pub use iam::*;
pub use workflow::*;
pub use workspace::{Scan, Settings, Skipped};

use crate::source::tree::Template;
use crate::source::{FileId, Span};

/// A value with the span of the text it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

pub type SStr = Spanned<Template>;

/// Where new text may be inserted into a mapping-like construct, and how it is written.
#[derive(Clone, Debug)]
pub struct MapHandle {
    pub file: FileId,
    pub syntax: Syntax,
    /// The whole mapping (braces included for flow/JSON/HCL objects).
    pub span: Span,
    /// Span of the last entry's key and value (key start .. value end), if any.
    pub last_entry: Option<Span>,
}

/// The concrete syntax of a mapping, for fixes that insert entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    Json,
    YamlBlock,
    YamlFlow,
    /// An HCL object constructor (`jsonencode({ ... })`), `key = value` entries.
    HclObject,
    /// Text that must not be edited (generated plans, exports, URL-encoded documents).
    ReadOnly,
}

/// Everything extracted from one file.
#[derive(Default, Debug)]
pub struct FileModel {
    pub policies: Vec<PolicyDoc>,
    pub providers: Vec<OidcProvider>,
    pub workflows: Vec<Workflow>,
    pub roles: Vec<Role>,
    /// Long-lived access keys created by IaC (`aws_iam_access_key`, `AWS::IAM::AccessKey`).
    pub access_keys: Vec<AccessKey>,
}

impl FileModel {
    /// Nothing any rule could read.
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
            && self.providers.is_empty()
            && self.workflows.is_empty()
            && self.roles.is_empty()
            && self.access_keys.is_empty()
    }
}

/// An IAM role defined in IaC or an account export.
#[derive(Clone, Debug)]
pub struct Role {
    pub file: FileId,
    /// The whole resource.
    pub span: Span,
    /// Where it is named in messages: `aws_iam_role.deploy`, a CFN logical id, a role name.
    pub owner: String,
    /// The role's name when known (`name`, `RoleName`), else `None`.
    pub name: Option<SStr>,
    /// Index into the same file's `policies` of its trust policy.
    pub trust: Option<usize>,
    /// Indices into the same file's `policies` of its inline/attached permission policies.
    pub permission_policies: Vec<usize>,
    /// Managed policy ARNs attached (`arn:aws:iam::aws:policy/AdministratorAccess`, …).
    pub managed_policy_arns: Vec<SStr>,
}

#[derive(Clone, Debug)]
pub struct AccessKey {
    pub file: FileId,
    pub span: Span,
    pub owner: String,
    /// The IAM user the key belongs to, when known.
    pub user: Option<SStr>,
}
