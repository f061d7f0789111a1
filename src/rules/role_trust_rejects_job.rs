use super::{Ctx, Rule, RuleMeta};
use crate::analysis::eval::{self, Rejection, Val};
use crate::analysis::subjects::{self, describe_condition, list_subjects};
use crate::diag::Finding;

pub struct RoleTrustRejectsJob;
pub static RULE: RoleTrustRejectsJob = RoleTrustRejectsJob;
static META: RuleMeta = crate::rule_meta!(
    "role-trust-rejects-job",
    Error,
    "A job (GitHub Actions, GitLab CI, HCP Terraform run) assumes a role defined in the scan whose trust policy admits none of the OIDC subjects the job can present",
    [
        "workflow",
        "gitlab-ci",
        "iam-json",
        "terraform",
        "cloudformation"
    ],
    false
);

impl Rule for RoleTrustRejectsJob {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let an = ctx.analysis();
        for (a, j) in an.assumptions.iter().zip(ctx.judged()) {
            let Some(j) = j else { continue };
            // an audience the trust never admits is `role-audience-mismatch`
            if j.audience_rejection.is_some() || !j.rejects_all() {
                continue;
            }
            let (role, trust, repo) = (&an.roles[j.role], j.trust, &j.repo);
            let wf = &ctx.file(a.file).rel;
            let aud = a.audience.as_deref();
            let subs: Vec<Val> = a
                .subjects
                .iter()
                .map(|s| an.form.present(s.sub(repo)))
                .collect();
            let first = subs[0].pattern();
            let more = match subs.len() {
                1 => String::new(),
                2 => " (and 1 other subject)".to_string(),
                n => format!(" (and {} other subjects)", n - 1),
            };
            let issuer = subjects::trust_issuer(trust);
            let req = subjects::request(&issuer, repo, &a.subjects[0], aud, wf, an.form);
            let trust_rel = &ctx.file(trust.file).rel;
            let mut f = Finding::new(META.id, META.severity, a.file, a.role_span)
                .label(format!("assumes role `{}` ({trust_rel})", role.name));
            let to_add = list_subjects(&subs);
            let like = subs.iter().any(|s| s.known().is_none());
            match eval::explain(trust, &req, "sub") {
                Rejection::Condition(_, c) => {
                    f = f
                        .message(format!(
                            "job `{}` presents `{first}`{more}, which the trust policy of role `{}` rejects: {}",
                            a.job.id.value,
                            role.name,
                            describe_condition(c)
                        ))
                        .related(trust.file, c.values_span, format!("this condition rejects `{first}`"));
                    f = if c.claim_of(&issuer).as_deref() == Some("sub") {
                        f.help(format!(
                            "add {to_add} to the values of `{}`{}",
                            c.key.value,
                            if like { " (under `StringLike`)" } else { "" }
                        ))
                    } else {
                        f.help(format!(
                            "the job presents {to_add}; make `{}` admit what this job presents, or assume another role",
                            c.key.value
                        ))
                    };
                }
                Rejection::Deny(st) => {
                    f = f
                        .message(format!(
                            "job `{}` presents `{first}`{more}, which a `Deny` statement in the trust policy of role `{}` matches",
                            a.job.id.value, role.name
                        ))
                        .related(trust.file, st.span, format!("this `Deny` statement matches `{first}`"))
                        .help(format!("narrow the `Deny` statement so that it does not match {to_add}, or assume another role"));
                }
                Rejection::NoStatement => {
                    f = f
                        .message(format!(
                            "job `{}` presents `{first}`{more}, but the trust policy of role `{}` has no `Allow` statement for GitHub's OIDC provider and `sts:AssumeRoleWithWebIdentity`",
                            a.job.id.value, role.name
                        ))
                        .related(trust.file, trust.span, "this trust policy does not trust GitHub's OIDC provider")
                        .help(format!(
                            "add a statement trusting `arn:aws:iam::ACCOUNT:oidc-provider/{issuer}` for `sts:AssumeRoleWithWebIdentity` with `{issuer}:sub` admitting {to_add}"
                        ));
                }
            }
            // A trust naming the repository in another letter case: GitHub sends the canonical
            // case, which the scan cannot check; a warning, not a rejection.
            if let Some(named) = subjects::case_only_mismatch(an, trust)
                && a.subjects.iter().any(|s| {
                    subjects::admits(trust, &Val::lit(named.clone()), s, aud, wf, an.form)
                        != crate::analysis::eval::Tri::False
                })
            {
                let repo_name = an.repo.as_deref().unwrap_or_default();
                f.severity = crate::diag::Severity::Warning;
                f.message = format!(
                    "the trust policy of role `{}` names `{named}`, which differs from this repository `{repo_name}` only in letter case: GitHub sends the canonical case; check it ({})",
                    role.name, f.message
                );
            }
            if let Some(env) = a.environment_span {
                f = f.related(
                    a.file,
                    env,
                    "`environment:` makes the subject `…:environment:NAME` for every event",
                );
            }
            out.push(f);
        }
        check_gitlab(ctx, out);
        check_tfe(ctx, out);
        gcp_rejections(ctx, out);
    }
}

/// HCP Terraform workspaces: every run phase using the role rejected, reported at the
/// `tfe_variable` naming the role.
fn check_tfe(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let roles = &ctx.analysis().roles;
    for j in ctx.tfe_judged() {
        if !j.rejects_all() {
            continue;
        }
        let role = &roles[j.role];
        let subs: Vec<Val> = j.subjects.iter().map(|(s, _)| s.clone()).collect();
        let first = subs[0].pattern();
        let more = match subs.len() {
            1 => String::new(),
            n => format!(
                " (and {} other subject{})",
                n - 1,
                if n == 2 { "" } else { "s" }
            ),
        };
        let to_add = list_subjects(&subs);
        let like = subs.iter().any(|s| s.known().is_none());
        let trust_rel = &ctx.file(j.trust.file).rel;
        let issuer = &j.issuer;
        let req = crate::analysis::gitlab::request(issuer, subs[0].clone(), None);
        let who = format!("{} (`{}`)", j.describe(), j.run.owner);
        let mut f = Finding::new(META.id, META.severity, j.run.file, j.run.span)
            .label(format!("names role `{}` ({trust_rel})", role.name));
        match eval::explain(&j.view, &req, "sub") {
            Rejection::Condition(_, c) => {
                f = f
                    .message(format!(
                        "{who} presents `{first}`{more}, which the trust policy of role `{}` rejects: {}",
                        role.name,
                        describe_condition(c)
                    ))
                    .related(j.trust.file, c.values_span, format!("this condition rejects `{first}`"))
                    .help(format!(
                        "add {to_add} to the values of `{}`{}, or name a role whose trust admits this workspace",
                        c.key.value,
                        if like { " (under `StringLike`)" } else { "" }
                    ));
            }
            Rejection::Deny(st) => {
                f = f
                    .message(format!(
                        "{who} presents `{first}`{more}, which a `Deny` statement in the trust policy of role `{}` matches",
                        role.name
                    ))
                    .related(j.trust.file, st.span, format!("this `Deny` statement matches `{first}`"))
                    .help(format!("narrow the `Deny` statement so that it does not match {to_add}"));
            }
            Rejection::NoStatement => {
                f = f
                    .message(format!(
                        "{who} presents `{first}`{more}, but the trust policy of role `{}` has no `Allow` statement for HCP Terraform's OIDC provider (`{issuer}`) and `sts:AssumeRoleWithWebIdentity`",
                        role.name
                    ))
                    .related(j.trust.file, j.trust.span, "this trust policy does not trust HCP Terraform's OIDC provider")
                    .help(format!(
                        "add a statement trusting `arn:aws:iam::ACCOUNT:oidc-provider/{issuer}` for `sts:AssumeRoleWithWebIdentity` with `{issuer}:sub` admitting {to_add}"
                    ));
            }
        }
        out.push(f);
    }
}

/// GitLab jobs: the subjects of every ref the job can run on, all rejected.
fn check_gitlab(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let gl = ctx.gitlab();
    let roles = &ctx.analysis().roles;
    for (a, j) in gl.assumptions.iter().zip(ctx.gitlab_judged()) {
        let Some(j) = j else { continue };
        if j.audience_rejection().is_some() || !j.rejects_all() {
            continue;
        }
        let job = &gl.jobs[a.job];
        let role = &roles[j.role];
        let subs: Vec<Val> = j.subjects.iter().map(|(s, _)| s.clone()).collect();
        let first = subs[0].pattern();
        let more = match subs.len() {
            1 => String::new(),
            2 => " (and 1 other subject)".to_string(),
            n => format!(" (and {} other subjects)", n - 1),
        };
        let to_add = list_subjects(&subs);
        let like = subs.iter().any(|s| s.known().is_none());
        let trust = &j.view;
        let trust_rel = &ctx.file(trust.file).rel;
        let issuer = &j.issuer;
        let aud = a.audiences().and_then(|l| l.into_iter().next());
        let req = crate::analysis::gitlab::request(issuer, subs[0].clone(), aud.as_deref());
        let (file, span) = a.role_at;
        let mut f = Finding::new(META.id, META.severity, file, span)
            .label(format!("assumes role `{}` ({trust_rel})", role.name));
        let who = format!("GitLab job `{}`", job.name.value);
        match eval::explain(trust, &req, "sub") {
            Rejection::Condition(_, c) => {
                f = f
                    .message(format!(
                        "{who} presents `{first}`{more}, which the trust policy of role `{}` rejects: {}",
                        role.name,
                        describe_condition(c)
                    ))
                    .related(trust.file, c.values_span, format!("this condition rejects `{first}`"));
                f = if c.claim_of(issuer).as_deref() == Some("sub") {
                    f.help(format!(
                        "add {to_add} to the values of `{}`{}, or run the job only on refs the trust admits (`rules:`)",
                        c.key.value,
                        if like { " (under `StringLike`)" } else { "" }
                    ))
                } else {
                    f.help(format!(
                        "the job presents {to_add}; make `{}` admit what this job presents, or assume another role",
                        c.key.value
                    ))
                };
            }
            Rejection::Deny(st) => {
                f = f
                    .message(format!(
                        "{who} presents `{first}`{more}, which a `Deny` statement in the trust policy of role `{}` matches",
                        role.name
                    ))
                    .related(trust.file, st.span, format!("this `Deny` statement matches `{first}`"))
                    .help(format!("narrow the `Deny` statement so that it does not match {to_add}, or assume another role"));
            }
            Rejection::NoStatement => {
                f = f
                    .message(format!(
                        "{who} presents `{first}`{more}, but the trust policy of role `{}` has no `Allow` statement for GitLab's OIDC provider (`{issuer}`) and `sts:AssumeRoleWithWebIdentity`",
                        role.name
                    ))
                    .related(trust.file, trust.span, "this trust policy does not trust GitLab's OIDC provider")
                    .help(format!(
                        "add a statement trusting `arn:aws:iam::ACCOUNT:oidc-provider/{issuer}` for `sts:AssumeRoleWithWebIdentity` with `{issuer}:sub` admitting {to_add}"
                    ));
            }
        }
        out.push(f);
    }
}

/// Google Cloud: a `google-github-actions/auth` step whose job no provider condition and
/// member on the service account admits ([`crate::analysis::gcp::judge_auth`]).
fn gcp_rejections(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let an = ctx.analysis();
    let repo_of = |f| an.repo_of(f).map(str::to_string);
    for g in crate::analysis::gcp::judge_auth(ctx, ctx.gcp(), ctx.callers(), &repo_of) {
        if g.verdict != crate::analysis::eval::Tri::False {
            continue;
        }
        let more = match g.subjects {
            1 => String::new(),
            n => format!(" (and {} other subjects)", n - 1),
        };
        let why = g.why.unwrap_or_else(|| "nothing admits it".into());
        let mut f = Finding::new(META.id, META.severity, g.file, g.provider_span)
            .message(format!(
                "job `{}` presents `{}`{more} to Google Cloud workload identity provider `{}`, which cannot impersonate {}: {why}",
                g.job.id.value,
                g.first.pattern(),
                g.provider.owner,
                g.service_account.as_deref().map(|s| format!("`{s}`")).unwrap_or_else(|| "a service account".into())
            ))
            .label(format!("authenticates through `{}` ({})", g.provider.owner, ctx.file(g.provider.file).rel))
            .related(g.provider.file, g.provider.header, "this provider rejects what the job presents")
            .help("make the provider's `attribute_condition` and the `roles/iam.workloadIdentityUser` members on the service account admit what this job presents, or use another provider");
        if let Some(env) = &g.job.environment {
            f = f.related(
                g.file,
                env.span,
                "`environment:` makes the subject `…:environment:NAME` for every event",
            );
        }
        out.push(f);
    }
}
