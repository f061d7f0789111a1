//! HCP Terraform (and Terraform Enterprise) workspaces described with the `tfe` provider, as far
//! as they reach AWS through dynamic provider credentials: `tfe_variable` (on a workspace or a
//! variable set) `TFC_AWS_PROVIDER_AUTH = true` with `TFC_AWS_RUN_ROLE_ARN` (or the per-phase
//! `TFC_AWS_PLAN_ROLE_ARN` / `TFC_AWS_APPLY_ROLE_ARN`).

use super::SStr;
use crate::source::{FileId, Span};

/// The runs of one workspace (or of every workspace a variable set reaches) assuming one role.
#[derive(Clone, Debug)]
pub struct TfeRun {
    pub file: FileId,
    /// The `tfe_variable` naming the role (`value`): where findings point.
    pub span: Span,
    /// `tfe_variable.run_role` (for messages).
    pub owner: String,
    /// The role ARN as written.
    pub role_arn: SStr,
    /// `organization` (`None`: unknown).
    pub organization: Option<SStr>,
    /// The workspace's project name (`None`: unknown; HCP Terraform's `Default Project` when
    /// the workspace names none).
    pub project: Option<SStr>,
    /// The workspace name (`None`: unknown, or every workspace of a variable set).
    pub workspace: Option<SStr>,
    /// The run phases using this role (`plan`, `apply`).
    pub phases: Vec<&'static str>,
}
