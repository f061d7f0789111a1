//! The normalized model rules see. Every value keeps the span it came from; nothing here knows
//! which input format produced it.

pub mod azure;
pub mod gcp;
pub mod gitlab;
pub mod glob;
pub mod iam;
pub mod tfe;
pub mod workflow;
pub mod workspace;

pub use gcp::{GcpCondition, GcpMember, GcpModel, GcpPool, GcpProvider, GcpTarget};
pub use glob::glob_match;
pub use iam::*;
pub use workflow::*;
pub use workspace::{CustomIssuerSpec, Scan, Settings, Shown, Skipped, SubjectFormat, clean_path};

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
    /// Customized OIDC subject templates declared in IaC
    /// (`github_actions_*_oidc_subject_claim_customization_template`).
    pub subject_templates: Vec<SubjectTemplate>,
    /// IaC blocks created only when a switch is on, off by default (`count = var.enable_x ? 1 : 0`
    /// with `default = false`): findings inside them are judged "when enabled".
    pub switches: Vec<Switch>,
    /// Azure managed identities, applications and their federated identity credentials (boxed:
    /// most files have none, and the model stays small to move).
    pub azure: Box<azure::AzureModel>,
    /// A GitLab CI configuration file (`.gitlab-ci.yml` or a file one includes).
    pub gitlab: Option<Box<gitlab::GitlabFile>>,
    /// HCP Terraform workspaces' dynamic AWS credentials (`tfe_variable` `TFC_AWS_*_ROLE_ARN`).
    pub tfe_runs: Vec<tfe::TfeRun>,
    /// Policies of this file (a template) rendered by IaC elsewhere: where each was rendered,
    /// the related location of every finding in it.
    pub rendered_by: Vec<RenderedBy>,
    /// GitHub Actions secrets and variables IaC sets (`github_actions_secret`,
    /// `github_actions_variable` and their environment and organization forms).
    pub ci_values: Vec<CiValue>,
    /// Google Cloud workload identity pools, providers and IAM members ([`gcp`]), boxed so
    /// that a file model stays small.
    pub gcp: Box<GcpModel>,
    /// Attachments naming a role by a name no role of their own module has: joined by the scan
    /// with the role of that name in the same deployment.
    pub named_attachments: Vec<NamedAttachment>,
    /// CloudFormation `Outputs` exporting a role (`Export: Name`, `Value: !Ref Role`): the export
    /// name and the role's index in [`FileModel::roles`], for policies of other stacks naming
    /// it with `Fn::ImportValue` (a [`NamedAttachment`] to [`CFN_EXPORT`] + the name).
    pub exports: Vec<(String, usize)>,
    /// Customer-managed policies of known name (`aws_iam_policy` `name`): what an attachment
    /// by name or ARN in another module instance of the same deployment designates.
    pub named_policies: Vec<NamedPolicy>,
}

/// A customer-managed policy and its name, for attachments that designate it by name
/// (`data "aws_iam_policy" { name = … }`) or by ARN (`arn:aws:iam::ACCOUNT:policy/NAME`) from
/// another module instance of the same deployment ([`NamedAttachment::scope`]).
#[derive(Clone, Debug)]
pub struct NamedPolicy {
    pub name: String,
    pub policy: PolicyRef,
}

/// An attachment whose role is named, not referenced, and not created in its own module
/// (`role = dependency.role.outputs.role_name`, `role = "deploy"` with the role in another
/// module instance): the scan attaches its policies to the one role of that known name in the
/// same deployment ([`NamedAttachment::scope`]).
/// The prefix of a [`NamedAttachment::role`] that names a CloudFormation export holding the role
/// (`Roles: [!ImportValue deploy-role-name]`), joined across the scan's stacks.
pub const CFN_EXPORT: &str = "\u{1}export:";

/// The prefix of a [`NamedAttachment::role`] that names a module call, not a role: the one role
/// the module's instance creates (`role = module.oidc.role.name`, an output of the whole role),
/// followed by the call's address from the root (`module.outer.module.oidc`).
pub const MODULE_ROLE: &str = "\u{1}module:";

#[derive(Clone, Debug)]
pub struct NamedAttachment {
    pub file: FileId,
    pub span: Span,
    /// The role's name, or [`MODULE_ROLE`] + the name of the module call creating it.
    pub role: String,
    /// The deployment: what the owners of its module instance end with (`(in live/prod)`),
    /// empty for a directory linked as itself.
    pub scope: String,
    pub managed: Vec<Attached>,
    pub policies: Vec<PolicyRef>,
}

/// A GitHub Actions secret or variable whose value IaC sets: what `${{ secrets.NAME }}` /
/// `${{ vars.NAME }}` hold in the workflows.
#[derive(Clone, Debug)]
pub struct CiValue {
    pub file: FileId,
    /// The resource.
    pub span: Span,
    /// A secret (`secrets.NAME`), else a variable (`vars.NAME`).
    pub secret: bool,
    pub name: String,
    /// The value; a role reference (`aws_iam_role.x.arn`) becomes the role's ARN with the
    /// account and partition unknown.
    pub value: SStr,
}

/// Where a template's policy was rendered (`templatefile(…)` in a `.tf` file).
#[derive(Clone, Debug)]
pub struct RenderedBy {
    /// Index in this file's `policies`.
    pub policy: usize,
    pub file: FileId,
    pub span: Span,
    /// How it was rendered, as a phrase (`rendered by \`templatefile()\``).
    pub how: String,
    /// A local module's callers, innermost first: each `module` block's file and the
    /// arguments it passes.
    pub callers: Vec<(FileId, Vec<CallerArg>)>,
}

/// One argument a module call passes, in the caller's file.
#[derive(Clone, Debug)]
pub struct CallerArg {
    pub name: String,
    /// The value.
    pub span: Span,
    /// The known strings inside the value (a list's items), each with where it is written.
    pub strings: Vec<(String, Span)>,
}

impl CallerArg {
    /// The argument `name` with value `v`, remembering the known strings inside it that are
    /// written within it (at most 64: the ones a finding can be narrowed to).
    pub fn new(name: String, v: &crate::source::tree::Node) -> CallerArg {
        let mut strings = Vec::new();
        v.walk(&mut |n| {
            if strings.len() < 64
                && let crate::source::tree::Value::Str(t) = &n.value
                && let Some(k) = t.known()
                && v.span.start <= n.span.start
                && n.span.end <= v.span.end
            {
                strings.push((k, n.span));
            }
        });
        CallerArg {
            name,
            span: v.span,
            strings,
        }
    }
}

/// A block whose `count`/`for_each` is empty by default.
#[derive(Clone, Debug)]
pub struct Switch {
    /// The whole block.
    pub span: Span,
    /// The `count`/`for_each` value.
    pub at: Span,
    /// `var.enable_x` (default false).
    pub note: String,
}

impl FileModel {
    /// Nothing any rule could read.
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
            && self.providers.is_empty()
            && self.workflows.is_empty()
            && self.roles.is_empty()
            && self.access_keys.is_empty()
            && self.subject_templates.is_empty()
            && self.azure.is_empty()
            && self.gitlab.is_none()
            && self.tfe_runs.is_empty()
            && self.ci_values.is_empty()
            && self.gcp.is_empty()
            && self.named_attachments.is_empty()
            && self.named_policies.is_empty()
    }
}

/// An attached policy ARN and the file its span is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attached {
    pub file: FileId,
    pub arn: SStr,
}

impl Attached {
    pub fn new(file: FileId, arn: SStr) -> Attached {
        Attached { file, arn }
    }
    pub fn all(file: FileId, arns: Vec<SStr>) -> Vec<Attached> {
        arns.into_iter().map(|a| Attached::new(file, a)).collect()
    }
}

impl std::ops::Deref for Attached {
    type Target = SStr;
    fn deref(&self) -> &SStr {
        &self.arn
    }
}

/// A policy document of the scan: `models[file].policies[index]` ([`Scan::policy`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyRef {
    pub file: FileId,
    pub index: usize,
}

impl PolicyRef {
    pub fn new(file: FileId, index: usize) -> PolicyRef {
        PolicyRef { file, index }
    }
}

/// A customized GitHub OIDC subject template declared in IaC.
#[derive(Clone, Debug)]
pub struct SubjectTemplate {
    pub file: FileId,
    pub span: Span,
    /// For a whole organisation (`github_actions_organization_…`), else one repository.
    pub org_wide: bool,
    /// `use_default = true`: the repository keeps the default format.
    pub use_default: bool,
    /// `include_claim_keys` in order; `None` when not a literal list.
    pub keys: Option<Vec<String>>,
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
    /// Its trust policy (usually in the same file; in Terraform possibly in another file of
    /// the module).
    pub trust: Option<PolicyRef>,
    /// Its inline and attached permission policies, wherever in the module they are defined.
    pub permission_policies: Vec<PolicyRef>,
    /// Managed policy ARNs attached (`arn:aws:iam::aws:policy/AdministratorAccess`, …), each
    /// located where it is attached (possibly another file of the module than the role).
    pub managed_policy_arns: Vec<Attached>,
}

#[derive(Clone, Debug)]
pub struct AccessKey {
    pub file: FileId,
    pub span: Span,
    pub owner: String,
    /// The IAM user the key belongs to, when known.
    pub user: Option<SStr>,
}
