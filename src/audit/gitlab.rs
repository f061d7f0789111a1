//! GitLab CI jobs in the audit: each job calling AWS through OIDC (`assume-role-with-web-identity`
//! or `AWS_WEB_IDENTITY_TOKEN_FILE`), its role, the subjects it presents and the check's verdict
//! (the same judgement `role-trust-rejects-job` and `role-audience-mismatch` act on). No
//! migration is proposed for GitLab jobs.

use super::{JobAudit, RoleAudit, account_of};
use crate::analysis::eval::Tri;
use crate::analysis::gitlab::{RoleTarget, provider_rejection};
use crate::rules::Ctx;
use crate::source::FileId;
use std::collections::BTreeSet;

/// The audit rows of every GitLab job reaching AWS, with the file each row belongs to.
pub fn jobs(cx: &Ctx<'_>, wide: &[BTreeSet<&'static str>]) -> Vec<(FileId, JobAudit)> {
    let gl = cx.gitlab();
    let roles = &cx.analysis().roles;
    let mut out = Vec::new();
    for (a, j) in gl.assumptions.iter().zip(cx.gitlab_judged()) {
        let job = &gl.jobs[a.job];
        let (file, span) = a.role_at;
        let src = cx.file(file);
        let mut role = RoleAudit {
            reference: (!a.role_text.is_empty()).then(|| a.role_text.clone()),
            name: None,
            account: a.role_arn.as_deref().and_then(account_of),
            defined_in: None,
            note: None,
        };
        let project = gl.project.as_deref().unwrap_or("GROUP/PROJECT");
        let mut subjects: Vec<String> = job
            .refs
            .iter()
            .map(|r| r.sub(&crate::analysis::eval::Val::lit(project)).pattern())
            .collect();
        let auds = a.audiences();
        let mut too_wide = false;
        let verdict = match (&a.target, j) {
            (RoleTarget::Unresolved(why), _) => {
                role.note = Some(if why.is_empty() {
                    "no `--role-arn`".to_string()
                } else {
                    why.clone()
                });
                "role-unresolved"
            }
            (RoleTarget::Name(n), None) => {
                role.name = Some(n.clone());
                let count = roles.iter().filter(|r| &r.name == n).count();
                role.note = Some(match count {
                    0 => "no role of this name is defined in the scan".into(),
                    1 => "its trust policy is not known statically".into(),
                    _ => "several roles of this name are defined in the scan".into(),
                });
                if count == 0 {
                    "role-not-in-scan"
                } else {
                    "unknown"
                }
            }
            (RoleTarget::Name(n), Some(j)) => {
                role.name = Some(n.clone());
                role.defined_in = Some(cx.file(roles[j.role].file).rel.clone());
                too_wide = !wide[j.role].is_empty();
                subjects = j.subjects.iter().map(|(s, _)| s.pattern()).collect();
                let provider_rejects = auds
                    .as_ref()
                    .is_some_and(|l| provider_rejection(cx.providers(), &j.issuer, l).is_some());
                if j.audience_rejection().is_some() || provider_rejects {
                    "audience-rejected"
                } else {
                    let r: Vec<Tri> = j.subjects.iter().map(|(_, t)| *t).collect();
                    if r.is_empty() {
                        "unknown"
                    } else if r.iter().all(|t| *t == Tri::True) {
                        "admitted"
                    } else if r.iter().all(|t| *t == Tri::False) {
                        "rejected"
                    } else if r.contains(&Tri::True) {
                        "partly-admitted"
                    } else {
                        "unknown"
                    }
                }
            }
        };
        subjects.dedup();
        let edge = match verdict {
            "admitted" | "partly-admitted" if too_wide => "too-wide",
            "admitted" | "partly-admitted" => "admitted",
            "rejected" | "audience-rejected" => "rejected",
            _ => "unknown",
        };
        out.push((
            file,
            JobAudit {
                workflow: src.rel.clone(),
                via: None,
                job: job.name.value.clone(),
                line: src.pos(span.start).line,
                access: "oidc".into(),
                role,
                audience: auds.map(|l| l.join(", ")),
                subjects,
                verdict: verdict.into(),
                edge: edge.into(),
                migration: None,
            },
        ));
    }
    out
}
