//! The Azure part of the audit: every `azure/login` step, how it signs in (OIDC with a client
//! id, or a service principal secret in `creds`), the identity it names and whether that
//! identity's federated identity credentials admit the job — the verdict
//! `azure-fic-subject-mismatch` acts on.

use super::{JobAudit, RoleAudit};
use crate::analysis::azure::{self, Target};
use crate::analysis::eval::{Tri, Val};
use crate::model::{Scan, WorkflowKind};
use crate::rules::Ctx;
use crate::source::FileId;

/// One audit row per `azure/login` step of the scan, with the file of its workflow.
pub fn jobs(scan: &Scan, cx: &Ctx<'_>) -> Vec<(FileId, JobAudit)> {
    let an = azure::analyze(scan, cx.callers());
    let mut out = Vec::new();
    for l in &an.logins {
        let src = scan.file(l.file);
        let mut role = RoleAudit {
            reference: Some(l.client_id.clone()),
            name: None,
            account: None,
            defined_in: None,
            note: None,
        };
        let judged = an.judge(l);
        let judged_repo = judged.as_ref().map(|v| v.repo.clone());
        let verdict = match (&l.target, judged) {
            (Target::Unresolved(why), _) => {
                role.note = Some(why.clone());
                if why.starts_with("no identity") {
                    "role-not-in-scan"
                } else {
                    "role-unresolved"
                }
            }
            (Target::Identity(owner), v) => {
                role.name = Some(owner.clone());
                role.defined_in = an.identity(owner).map(|i| scan.file(i.file).rel.clone());
                match v {
                    None => {
                        role.note =
                            Some("a customized subject template makes the subject unknown".into());
                        "unknown"
                    }
                    Some(v) if v.credentials.is_empty() => {
                        role.note =
                            Some("no federated identity credential of it is in the scan".into());
                        "unknown"
                    }
                    Some(v) => {
                        let r = &v.admits;
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
            }
        };
        let repo = judged_repo
            .filter(|r| r.known().is_some())
            .or_else(|| an.repo.clone().map(Val::lit))
            .unwrap_or_else(|| Val::lit("OWNER/REPO"));
        let mut subjects: Vec<String> = l
            .subjects
            .iter()
            .map(|s| azure::show(s, &repo, an.form))
            .collect();
        subjects.dedup();
        let edge = match verdict {
            "admitted" | "partly-admitted" => "admitted",
            "rejected" => "rejected",
            _ => "unknown",
        };
        out.push((
            l.file,
            JobAudit {
                workflow: src.rel.clone(),
                via: None,
                job: l.job.id.value.clone(),
                line: src.pos(l.step.span.start).line,
                access: "azure-oidc".into(),
                role,
                audience: l.audience.clone(),
                subjects,
                verdict: verdict.into(),
                edge: edge.into(),
                migration: None,
            },
        ));
    }
    // Service principal secrets (`creds`): long-lived credentials to migrate.
    for m in &scan.models {
        for w in &m.workflows {
            if w.kind != WorkflowKind::Workflow {
                continue;
            }
            for job in &w.jobs {
                for step in &job.steps {
                    if !azure::is_azure_login(step)
                        || azure::oidc_login(step).is_some()
                        || step
                            .input("creds")
                            .is_none_or(|c| c.value.value.trim().is_empty())
                        || step
                            .input("auth-type")
                            .is_some_and(|t| t.value.value.trim().eq_ignore_ascii_case("identity"))
                    {
                        continue;
                    }
                    let src = scan.file(w.file);
                    out.push((
                        w.file,
                        JobAudit {
                            workflow: src.rel.clone(),
                            via: None,
                            job: job.id.value.clone(),
                            line: src.pos(step.span.start).line,
                            access: "azure-secret".into(),
                            role: RoleAudit {
                                reference: None,
                                name: None,
                                account: None,
                                defined_in: None,
                                note: Some(
                                    "a service principal secret (`creds`): replace it with a federated identity credential and `client-id`".into(),
                                ),
                            },
                            audience: None,
                            subjects: vec![],
                            verdict: "static-keys".into(),
                            edge: "unknown".into(),
                            migration: None,
                        },
                    ));
                }
            }
        }
    }
    out
}
