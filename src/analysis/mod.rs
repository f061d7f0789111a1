//! The knowledge layer between the model and the rules: what GitHub OIDC tokens present, what
//! an IAM trust policy admits, which documents belong to a role, how a job reaches AWS. Rules,
//! the engine and `audit` ask here; nothing here knows a rule.

pub mod access;
pub mod azure;
pub mod eval;
pub mod expr;
pub mod gcp;
pub mod gcp_cel;
pub mod gitlab;
pub mod issuers;
pub mod managed_policies;
pub mod permissions;
pub mod repo;
pub mod roles;
pub mod secrets;
pub mod subjects;
pub mod tfe;
pub mod trust;
pub mod wildcard;

/// The notes the command line prints (on stderr) when an analysis of one check hit a work
/// limit and left some results unknown: the wildcard matcher's (the largest comparison given
/// up since [`wildcard::take_over_limit`] last reset it) and the job judging's (`judge_skipped`:
/// [`subjects::RoleAnalysis::over_budget`] of the check).
pub fn notes(wildcard_over_limit: Option<u64>, judge_skipped: Option<u64>) -> Vec<String> {
    [
        wildcard_over_limit.map(wildcard::over_limit_note),
        judge_skipped.map(subjects::over_budget_note),
    ]
    .into_iter()
    .flatten()
    .collect()
}
