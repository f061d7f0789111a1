//! HCP Terraform runs (`model::tfe::TfeRun`: a workspace's dynamic AWS credentials) judged
//! against the trust of the role they name. HCP Terraform's token `sub` is
//! `organization:ORG:project:PROJECT:workspace:WORKSPACE:run_phase:plan|apply`
//! (<https://developer.hashicorp.com/terraform/cloud-docs/dynamic-provider-credentials/workload-identity-tokens>);
//! its issuer is `app.terraform.io` (or a Terraform Enterprise host). A name the scan does not
//! know is a hole, never a guess; the audience (`aws.workload.identity` unless
//! `TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE` changes it) is left unknown: this judges the subject.

use crate::analysis::eval::{Hole, Tri, Val};
use crate::analysis::gitlab::{admits_any, provider_issuer, resolve_name};
use crate::analysis::roles::RoleDef;
use crate::model::tfe::TfeRun;
use crate::model::{PolicyDoc, SStr, Scan};
use crate::source::tree::Part;

/// HCP Terraform's issuer.
pub const HCP_TERRAFORM: &str = "app.terraform.io";

/// One run judged against its role's trust.
pub struct TfeJudgement<'a> {
    pub run: &'a TfeRun,
    pub role: usize,
    pub trust: &'a PolicyDoc,
    /// The trust as judged.
    pub view: PolicyDoc,
    pub issuer: String,
    pub subjects: Vec<(Val, Tri)>,
}

impl TfeJudgement<'_> {
    pub fn rejects_all(&self) -> bool {
        !self.subjects.is_empty() && self.subjects.iter().all(|(_, t)| *t == Tri::False)
    }
    /// `workspace `W``, or what is known of the workspaces, for messages.
    pub fn describe(&self) -> String {
        let name = |s: &Option<SStr>| s.as_ref().and_then(|x| x.value.known());
        match name(&self.run.workspace) {
            Some(w) => format!("HCP Terraform workspace `{w}`"),
            None => "HCP Terraform workspaces".to_string(),
        }
    }
}

fn val(s: &Option<SStr>) -> Val {
    match s.as_ref().and_then(|x| x.value.known()) {
        Some(v) => Val::lit(v),
        None => Val::hole(Hole::NoColon),
    }
}

/// The issuer of the trust: a `Federated` provider or condition-key prefix whose `sub` values
/// have HCP Terraform's shape, else `app.terraform.io`.
fn issuer_of(trust: &PolicyDoc) -> String {
    for s in &trust.statements {
        for c in &s.conditions {
            if let Some((iss, claim)) = c.key.value.rsplit_once(':')
                && claim.eq_ignore_ascii_case("sub")
                && !iss.contains("${")
                && c.values
                    .iter()
                    .any(|v| v.value.known_prefix().starts_with("organization:"))
            {
                return iss.to_ascii_lowercase();
            }
        }
        for p in &s.principals {
            if p.kind == "Federated"
                && let Some(i) = provider_issuer(&p.value.value)
                && i == HCP_TERRAFORM
            {
                return i;
            }
        }
    }
    HCP_TERRAFORM.to_string()
}

/// The role a run names: a literal ARN's name, or `aws_iam_role.NAME.arn` in the same module.
fn role_of(roles: &[RoleDef<'_>], run: &TfeRun) -> Option<usize> {
    let t = &run.role_arn.value;
    if let Some(arn) = t.known() {
        let name = arn.split_once(":role/")?.1.rsplit('/').next()?;
        return resolve_name(roles, name);
    }
    let [Part::Unknown(e)] = t.parts.as_slice() else {
        return None;
    };
    let owner = e.trim().strip_suffix(".arn")?;
    let mut it = roles.iter().enumerate().filter(|(_, r)| r.owner == owner);
    match (it.next(), it.next()) {
        (Some((i, _)), None) => Some(i),
        _ => None,
    }
}

/// Every run of the scan judged against its role's trust (runs with no single role in the
/// scan, or whose role has no trust, are left out).
pub fn judge<'a>(scan: &'a Scan, roles: &[RoleDef<'a>]) -> Vec<TfeJudgement<'a>> {
    let mut out = Vec::new();
    let mut spent = 0usize;
    for m in &scan.models {
        for run in &m.tfe_runs {
            let Some(role) = role_of(roles, run) else {
                continue;
            };
            let Some(trust) = roles[role].trust else {
                continue;
            };
            spent = spent.saturating_add(trust.statements.len().max(1) * run.phases.len());
            if spent > crate::analysis::gitlab::JUDGE_BUDGET {
                return out;
            }
            let issuer = issuer_of(trust);
            let view = trust.clone();
            let subjects = run
                .phases
                .iter()
                .map(|phase| {
                    let sub = Val::concat(&[
                        &Val::lit("organization:"),
                        &val(&run.organization),
                        &Val::lit(":project:"),
                        &val(&run.project),
                        &Val::lit(":workspace:"),
                        &val(&run.workspace),
                        &Val::lit(format!(":run_phase:{phase}")),
                    ]);
                    let t = admits_any(&view, &issuer, &sub, &None);
                    (sub, t)
                })
                .collect();
            out.push(TfeJudgement {
                run,
                role,
                trust,
                view,
                issuer,
                subjects,
            });
        }
    }
    out
}
