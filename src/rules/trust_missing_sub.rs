use super::{Ctx, Rule, RuleMeta};
use crate::analysis::issuers::Kind;
use crate::analysis::trust::{CiTrust, repository_pinned};
use crate::diag::{Finding, Severity};

pub struct TrustMissingSub;
pub static RULE: TrustMissingSub = TrustMissingSub;
static META: RuleMeta = crate::rule_meta!(
    "trust-missing-sub",
    Error,
    "A trust statement for a CI issuer's OIDC provider does not scope the `sub` claim, so any repository (GitHub), organization (HCP Terraform, GitLab, Buildkite) or project of the organization (CircleCI, Bitbucket) can assume the role",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

impl Rule for TrustMissingSub {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for t in ctx.ci_trusts() {
            if !t.can_admit() {
                continue;
            }
            if !t.ci.is_github() {
                other_issuer(t, out);
                continue;
            }
            if t.scopes("sub") || !t.positive("job_workflow_ref").is_empty() {
                continue;
            }
            let s = t.statement;
            let span = t
                .principal
                .map(|p| p.span)
                .or(s.principal_span)
                .unwrap_or(s.span);
            let other_scope = repository_pinned(t, true);
            let message = if other_scope {
                format!(
                    "trust policy of {} scopes GitHub's token by other claims but not by `{}:sub`; AWS rejects such a policy when it is created or updated",
                    t.policy.owner, t.issuer
                )
            } else {
                format!(
                    "trust policy of {} lets any GitHub repository assume the role: no condition on `{}:sub`",
                    t.policy.owner, t.issuer
                )
            };
            let mut f = Finding::new(META.id, META.severity, t.policy.file, span)
                .message(message)
                .label("GitHub's OIDC provider is trusted here with no `sub` condition")
                .help(format!(
                    "add `{}` (or `…:environment:NAME`) naming the repositories that may assume this role; oidc-lint cannot know which, so it offers no automatic edit",
                    super::snippet::condition(
                        ctx,
                        t.policy.file,
                        s,
                        "StringEquals",
                        &format!("{}:sub", t.issuer),
                        "repo:OWNER/REPO:ref:refs/heads/main"
                    )
                ));
            if let Some(c) = t.claim_conditions("sub").next() {
                f = f.related(
                    t.policy.file,
                    c.operator.span,
                    format!(
                        "`{}` does not scope the claim (only StringEquals, StringLike and StringEqualsIgnoreCase do)",
                        c.operator.value
                    ),
                );
            }
            out.push(f);
        }
    }
}

/// Session tags a CI issuer copies from its claims (Buildkite's `organization_slug`,
/// `pipeline_slug`): a positive condition on one scopes the caller as `sub` would.
fn tag_scoped(t: &CiTrust<'_>) -> bool {
    t.statement.conditions.iter().any(|c| {
        let k = c.key.value.to_ascii_lowercase();
        k.strip_prefix("aws:requesttag/").is_some_and(|tag| {
            [
                "organization",
                "pipeline",
                "project",
                "workspace",
                "repository",
            ]
            .iter()
            .any(|w| tag.contains(w))
        }) && c.op().is_positive_string_match()
            && !c.values.is_empty()
            && c.values.iter().all(|v| {
                v.value
                    .known()
                    .is_some_and(|k| !k.is_empty() && !k.contains(['*', '?']))
            })
    })
}

/// The finding for an issuer other than GitHub: a shared issuer admits every customer, an
/// organization's own issuer (CircleCI, Bitbucket) every project of the organization.
fn other_issuer(t: &CiTrust<'_>, out: &mut Vec<Finding>) {
    if t.scopes("sub") || tag_scoped(t) {
        return;
    }
    let s = t.statement;
    let span = t
        .principal
        .map(|p| p.span)
        .or(s.principal_span)
        .unwrap_or(s.span);
    let ci = &t.ci;
    let (severity, who) = if ci.shared {
        (
            Severity::Error,
            format!(
                "any {} customer (every organization shares this issuer)",
                ci.name
            ),
        )
    } else {
        (
            Severity::Warning,
            format!(
                "every {} of the {} {} this issuer belongs to",
                ci.unit_word(),
                ci.name,
                ci.tenant_word()
            ),
        )
    };
    let mut message = format!(
        "trust policy of {} lets {who} assume the role: no condition on `{}:sub`, whose values read `{}`",
        t.policy.owner,
        t.issuer,
        ci.grammar()
    );
    if ci.kind == Kind::Circleci && t.claim_conditions("aud").next().is_some() {
        message.push_str(
            "; the `aud` condition only repeats the organization id the provider already enforces",
        );
    }
    let mut f = Finding::new(META.id, severity, t.policy.file, span)
        .message(message)
        .label(format!(
            "{} is trusted here with no `sub` condition",
            t.provider_words()
        ))
        .help(format!(
            "add a `StringEquals` (or `StringLike`) condition on `{}:sub` naming what may assume the role, in {}'s subject format `{}`{}; oidc-lint cannot know which, so it offers no automatic edit",
            t.issuer,
            ci.name,
            ci.grammar(),
            ci.docs_ref()
        ));
    if let Some(c) = t.claim_conditions("sub").next() {
        f = f.related(
            t.policy.file,
            c.operator.span,
            format!(
                "`{}` does not scope the claim (only StringEquals, StringLike and StringEqualsIgnoreCase do)",
                c.operator.value
            ),
        );
    }
    out.push(f);
}
