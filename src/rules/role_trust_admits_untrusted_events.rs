use super::{Ctx, Rule, RuleMeta};
use crate::analysis::eval::{Hole, Tri, Val};
use crate::analysis::subjects::{self, Access, OUTSIDER_EVENTS, admits};
use crate::diag::Finding;
use std::collections::BTreeSet;

pub struct RoleTrustAdmitsUntrustedEvents;
pub static RULE: RoleTrustAdmitsUntrustedEvents = RoleTrustAdmitsUntrustedEvents;
static META: RuleMeta = crate::rule_meta!(
    "role-trust-admits-untrusted-events",
    Warning,
    "A role with write permissions trusts the subject of events that people outside the team can trigger (pull requests, comments, pull_request_target)",
    ["workflow", "iam-json", "terraform", "cloudformation"],
    false
);

impl Rule for RoleTrustAdmitsUntrustedEvents {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let an = ctx.analysis();
        let mut reported_roles = BTreeSet::new();
        for (a, judged) in an.assumptions.iter().zip(ctx.judged()) {
            if a.access != Access::Oidc {
                continue;
            }
            let Some(role) = an.resolve(a) else { continue };
            let Some(trust) = role.trust else { continue };
            let Some(Some(write)) = &role.write else {
                continue;
            };
            let repo = an.repo_for(trust);
            if repo.known().is_none() {
                continue;
            }
            let repo_name = repo.known().unwrap_or_default();
            let aud = a.audience.as_deref();
            // (a) the pull_request subject, once per role
            if reported_roles.insert((trust.file, trust.span)) {
                let pr = subjects::pr_subject("pull_request");
                // Every pushed branch of the repository (`repo:O/R:*`, `ref:refs/heads/*`) can
                // assume the role already: a pull request run (same-repository only, fork runs
                // get no token) gains nothing more; `trust-sub-repo-wide` reports the breadth.
                let mut any_branch = Val::lit("refs/heads/");
                any_branch.push_hole(Hole::Any);
                let branch = subjects::ref_subject("push", any_branch);
                if admits(trust, &repo, &pr, aud, "", an.form) == Tri::True
                    && admits(trust, &repo, &branch, aud, "", an.form) != Tri::True
                {
                    let issuer = subjects::trust_issuer(trust);
                    let sub = format!("repo:{repo_name}:pull_request");
                    // point at the `sub` value that admits it
                    let span = trust
                        .statements
                        .iter()
                        .flat_map(|s| &s.conditions)
                        .filter(|c| c.claim_of(&issuer).as_deref() == Some("sub"))
                        .flat_map(|c| c.values.iter())
                        .find(|v| {
                            v.value
                                .known()
                                .is_some_and(|k| crate::model::glob_match(&k, &sub))
                        })
                        .map(|v| v.span)
                        .unwrap_or(trust.span);
                    out.push(
                        Finding::new(META.id, META.severity, trust.file, span)
                            .message(format!(
                                "the trust policy of role `{}` admits `{sub}`, the subject of every pull request run, and the role can write ({})",
                                role.name, write.what
                            ))
                            .label(format!("admits `{sub}`"))
                            .related(write.file, write.span, "the role's write permission")
                            .help(format!(
                                "trust only the subjects that deploy (`repo:{repo_name}:ref:refs/heads/main` or `repo:{repo_name}:environment:NAME`), and give pull-request jobs a separate read-only role"
                            )),
                    );
                }
            }
            // (b) jobs on events outsiders can start, whose subject the trust admits
            if a.environment_span.is_some() {
                continue; // environments can require reviewers
            }
            // the subjects' verdicts, judged once per distinct request within the work budget
            let Some(judged) = judged else { continue };
            // (whether this workflow's `workflow_run` is only insiders', asked once)
            let insiders = std::cell::OnceCell::new();
            for (s, &verdict) in a.subjects.iter().zip(&judged.admits) {
                let event = s.event.split(' ').next().unwrap_or("");
                if !OUTSIDER_EVENTS.contains(&event) || s.context == Val::lit("pull_request") {
                    continue;
                }
                // (a `workflow_run` of workflows only insiders can start is theirs)
                if event == "workflow_run"
                    && *insiders.get_or_init(|| {
                        crate::analysis::subjects::workflow_run_from_insiders(ctx, a.workflow)
                    })
                {
                    continue;
                }
                // (a job or step `if:` that rules out runs an outsider starts:
                // `github.event.workflow_run.event == 'push'`, an author association check)
                let outsider = |c: &Option<crate::model::Spanned<String>>| {
                    crate::analysis::expr::Cond::new(c.as_ref().map(|c| c.value.as_str()))
                        .may_run(event)
                };
                if !outsider(&a.job.condition) || !outsider(&a.step.condition) {
                    continue;
                }
                if verdict != Tri::True {
                    continue;
                }
                let Some(t) = a.workflow.triggers.iter().find(|t| t.event == event) else {
                    continue;
                };
                let sub = an.form.present(s.sub(&repo)).pattern();
                out.push(
                    Finding::new(META.id, META.severity, a.file, t.span)
                        .message(format!(
                            "job `{}` runs on `{event}`, which people outside the team can trigger, and the trust policy of role `{}` admits the subject it presents (`{sub}`); the role can write ({})",
                            a.job.id.value, role.name, write.what
                        ))
                        .label(format!("`{event}` can be triggered from outside the team"))
                        .related(a.file, a.role_span, format!("assumes role `{}`", role.name))
                        .related(write.file, write.span, "the role's write permission")
                        .help(format!(
                            "run the AWS step in a job with an `environment:` that requires reviewers (and trust `repo:{repo_name}:environment:NAME` only), or drop `{event}` from this workflow"
                        )),
                );
                break;
            }
        }
    }
}
