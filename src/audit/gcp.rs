//! Google Cloud in the audit: every job authenticating through `google-github-actions/auth`
//! (workload identity federation or a key), with the verdict of the check's judgement
//! ([`crate::analysis::gcp::judge_auth`]) when the provider is defined in the scan.

use super::{JobAudit, RoleAudit};
use crate::analysis::eval::Tri;
use crate::analysis::gcp::{GcpAuth, judge_auth};
use crate::model::{Scan, WorkflowKind};
use crate::rules::Ctx;
use crate::source::FileId;

/// The Google Cloud jobs of the scan, each with its workflow file (its `workflow` field is the
/// path in the scan; the caller makes it checkout-relative).
pub(super) fn jobs(scan: &Scan, cx: &Ctx<'_>) -> Vec<(FileId, JobAudit)> {
    let an = cx.analysis();
    let repo_of = |f| an.repo_of(f).map(str::to_string);
    let judged: Vec<GcpAuth<'_>> = judge_auth(scan, cx.gcp(), cx.callers(), &repo_of);
    let mut out = Vec::new();
    for m in &scan.models {
        for w in &m.workflows {
            if w.kind != WorkflowKind::Workflow {
                continue;
            }
            let src = scan.file(w.file);
            for job in &w.jobs {
                for step in &job.steps {
                    if step.action().as_deref() != Some("google-github-actions/auth") {
                        continue;
                    }
                    let key = step
                        .input("credentials_json")
                        .filter(|v| !v.value.value.trim().is_empty());
                    let oidc = crate::analysis::access::gcp_oidc_step(step);
                    if key.is_none() && oidc.is_none() {
                        continue;
                    }
                    let subjects: Vec<String> = {
                        let repo = crate::analysis::gcp::repo_val(repo_of(w.file).as_deref());
                        let mut v: Vec<String> = crate::analysis::subjects::job_subjects(
                            scan,
                            &crate::analysis::subjects::WorkflowRuns::of(scan, cx.callers(), w),
                            w,
                            job,
                            step,
                        )
                        .iter()
                        .map(|s| s.sub(&repo).pattern())
                        .collect();
                        v.dedup();
                        v
                    };
                    let mut role = RoleAudit {
                        reference: oidc.as_ref().map(|((p, _), _)| p.clone()),
                        name: oidc.as_ref().and_then(|(_, sa)| sa.clone()),
                        account: oidc.as_ref().and_then(|((p, _), _)| project_number(p)),
                        defined_in: None,
                        note: None,
                    };
                    let (access, verdict) = match &oidc {
                        None => ("gcp-key", "static-keys"),
                        Some(((_, span), _)) => {
                            let g = judged
                                .iter()
                                .find(|g| g.file == w.file && g.provider_span == *span);
                            match g {
                                None => {
                                    role.note = Some(
                                        "no workload identity provider of this name is defined in the scan".into(),
                                    );
                                    ("gcp-oidc", "role-not-in-scan")
                                }
                                Some(g) => {
                                    role.defined_in = Some(scan.file(g.provider.file).rel.clone());
                                    let v = match g.verdict {
                                        Tri::True => "admitted",
                                        Tri::False => "rejected",
                                        Tri::Unknown => "unknown",
                                    };
                                    ("gcp-oidc", v)
                                }
                            }
                        }
                    };
                    let edge = match verdict {
                        "admitted" => "admitted",
                        "rejected" => "rejected",
                        _ => "unknown",
                    };
                    out.push((
                        w.file,
                        JobAudit {
                            workflow: src.rel.clone(),
                            via: None,
                            job: job.id.value.clone(),
                            line: src.pos(step.span.start).line,
                            access: access.into(),
                            role,
                            audience: None,
                            subjects,
                            verdict: verdict.into(),
                            edge: edge.into(),
                            migration: None,
                        },
                    ));
                }
            }
        }
    }
    out
}

/// The project number in `projects/N/locations/global/workloadIdentityPools/…`.
fn project_number(provider: &str) -> Option<String> {
    let rest = provider.trim().strip_prefix("projects/")?;
    let n = rest.split('/').next()?;
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then(|| format!("gcp:{n}"))
}
