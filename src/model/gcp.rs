//! Google Cloud workload identity federation: pools, their OIDC providers, and the IAM members
//! that name a pool (`principal://…/subject/S`, `principalSet://…/attribute.NAME/VALUE`,
//! `principalSet://…/*`), plus the roles service accounts hold (for reachability).

use super::{SStr, Spanned};
use crate::source::{FileId, Span};

/// The Google Cloud part of one file's model.
#[derive(Clone, Debug, Default)]
pub struct GcpModel {
    pub pools: Vec<GcpPool>,
    pub providers: Vec<GcpProvider>,
    pub members: Vec<GcpMember>,
    /// `google_service_account.NAME` → its literal `account_id` (the local part of its email),
    /// for matching a workflow's `service_account` input.
    pub service_accounts: Vec<(String, Option<String>)>,
}

impl GcpModel {
    /// Nothing a rule reads (service accounts alone are not).
    pub fn is_empty(&self) -> bool {
        self.pools.is_empty() && self.providers.is_empty() && self.members.is_empty()
    }
}

/// `google_iam_workload_identity_pool`.
#[derive(Clone, Debug)]
pub struct GcpPool {
    pub file: FileId,
    pub span: Span,
    /// `google_iam_workload_identity_pool.NAME` (or a module's address).
    pub owner: String,
    /// `workload_identity_pool_id`.
    pub id: Option<SStr>,
}

/// An `attribute_condition` as far as the scan knows it.
#[derive(Clone, Debug)]
pub enum GcpCondition {
    /// No condition: not written (`None`), or written as `null` or as a variable defaulting to
    /// null (the span of that value).
    Absent(Option<Span>),
    /// The CEL text and the span of the value.
    Known(Spanned<String>),
    /// Not statically known (a required variable, a computed expression).
    Unknown(Span),
}

/// `google_iam_workload_identity_pool_provider` with an `oidc` block (or a module rendering one).
#[derive(Clone, Debug)]
pub struct GcpProvider {
    pub file: FileId,
    /// The whole resource (module block).
    pub span: Span,
    /// Where the provider is named in messages (the block header).
    pub header: Span,
    pub owner: String,
    /// The pool's resource address when referenced (`google_iam_workload_identity_pool.NAME`).
    pub pool_ref: Option<String>,
    /// `workload_identity_pool_id` (resolved to the pool's id when referenced and known).
    pub pool_id: Option<SStr>,
    /// `workload_identity_pool_provider_id`.
    pub provider_id: Option<SStr>,
    /// `oidc.issuer_uri`; `None` when not written.
    pub issuer: Option<SStr>,
    /// `attribute_mapping` entries (key with its span, value); `None` when not a literal map.
    pub mapping: Option<Vec<(Spanned<String>, SStr)>>,
    /// The `attribute_mapping` value (or the block when absent).
    pub mapping_span: Span,
    pub condition: GcpCondition,
}

/// What an IAM member grant is attached to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GcpTarget {
    /// A service account (`google_service_account_iam_*`): its resource address
    /// (`google_service_account.NAME`) or its literal id/email/name.
    ServiceAccount(String),
    /// A project (`google_project_iam_*`).
    Project,
    /// Any other resource (`google_storage_bucket_iam_member`, …): the resource type.
    Resource(String),
}

/// One IAM member granted one role (`*_iam_member`, each member of `*_iam_binding`, of a
/// `google_iam_policy` binding, of a module's mapping).
#[derive(Clone, Debug)]
pub struct GcpMember {
    pub file: FileId,
    /// The whole resource.
    pub block: Span,
    pub owner: String,
    pub target: GcpTarget,
    /// `role`, when literal-ish.
    pub role: Option<SStr>,
    /// The member text (pool references substituted where known).
    pub member: SStr,
    /// The pool's resource address when the member names it by reference.
    pub pool_ref: Option<String>,
}
