//! The knowledge layer between the model and the rules: what GitHub OIDC tokens present, what
//! an IAM trust policy admits, which documents belong to a role, how a job reaches AWS. Rules,
//! the engine and `audit` ask here; nothing here knows a rule.

pub mod access;
pub mod eval;
pub mod expr;
pub mod gcp;
pub mod gcp_cel;
pub mod managed_policies;
pub mod permissions;
pub mod repo;
pub mod roles;
pub mod secrets;
pub mod subjects;
pub mod trust;
pub mod wildcard;

/// The notes the command line prints (on stderr) when an analysis hit a work limit and left
/// some results unknown: the wildcard matcher's and the job judging's.
pub fn notes() -> Vec<String> {
    [wildcard::over_limit_note(), subjects::over_budget_note()]
        .into_iter()
        .flatten()
        .collect()
}
