use super::{Ctx, Rule, RuleMeta};
use crate::analysis::eval::{StrOp, Tri};
use crate::analysis::issuers::github::{RETIRED_ISSUER, is_retired_issuer};
use crate::analysis::issuers::{Registry, literal_federated_hosts, never_matches};
use crate::analysis::trust::{
    DEFAULT_ISSUER, SubjectGrammar, declared_templates, foreign_sub_issuer,
};
use crate::diag::{Finding, Severity};
use crate::model::{Condition, PolicyKind};

pub struct TrustSubNeverMatches;
pub static RULE: TrustSubNeverMatches = TrustSubNeverMatches;
static META: RuleMeta = crate::rule_meta!(
    "trust-sub-never-matches",
    Error,
    "A `sub` value no token of the trusted issuer can carry (`repo:O/R:refs/heads/main`, `repo:O/R:ref:main`, a GitHub subject under another issuer's key, an HCP Terraform subject without `run_phase` or with its segments out of order or an organization id where the name belongs), or a trust of GitHub's retired beta issuer `vstoken.actions.githubusercontent.com`: the role, or that entry, can never be used",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

fn str_op(c: &Condition) -> Option<StrOp> {
    match c.op().base.to_ascii_lowercase().as_str() {
        "stringlike" => Some(StrOp::Like),
        "stringequalsignorecase" => Some(StrOp::EqualsIgnoreCase),
        "stringequals" => Some(StrOp::Equals),
        _ => None,
    }
}

/// Positive string conditions only: a dead value under `StringNotLike` excludes nothing,
/// which is harmless.
fn positive(c: &Condition) -> bool {
    str_op(c).is_some()
}

impl Rule for TrustSubNeverMatches {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let grammar = SubjectGrammar::new(&declared_templates(ctx));
        retired_issuer(ctx, out);
        for t in ctx.trusts() {
            // A statement no token satisfies anyway (wrong action, another GitHub issuer's
            // keys) is trust-wrong-action's or trust-issuer-mismatch's.
            if !t.can_admit() {
                continue;
            }
            for c in t.claim_conditions("sub").filter(|c| positive(c)) {
                let Some(op) = str_op(c) else { continue };
                let dead: Vec<_> = c
                    .values
                    .iter()
                    .filter(|v| {
                        // `StringEquals` with `*`: trust-stringequals-wildcard's.
                        let literal_wildcard =
                            op != StrOp::Like && v.value.display().contains(['*', '?']);
                        !literal_wildcard && grammar.can_match(op, &v.value) == Tri::False
                    })
                    .collect();
                let all = dead.len() == c.values.len();
                for v in dead {
                    let shown = v.value.display();
                    let (severity, consequence) = if all {
                        (
                            Severity::Error,
                            format!(
                                "no value of this condition can match, so no GitHub workflow can assume {}",
                                t.policy.owner
                            ),
                        )
                    } else {
                        (
                            Severity::Warning,
                            "this entry is dead (the other values still match)".to_string(),
                        )
                    };
                    let issues = if grammar.open_custom {
                        "a subject GitHub ever issues"
                    } else {
                        "a subject GitHub issues in the default format or the declared subject template"
                    };
                    out.push(
                        Finding::new(META.id, severity, t.policy.file, v.span)
                            .message(format!("`{shown}` is not {issues}: {consequence}"))
                            .label("no GitHub token carries this subject")
                            .help(help(&shown, grammar.open_custom)),
                    );
                }
            }
        }
        // Another issuer's subject in a shape it never emits.
        for t in ctx.ci_trusts().iter().filter(|t| !t.ci.is_github()) {
            if !t.can_admit() {
                continue;
            }
            for c in t.claim_conditions("sub").filter(|c| positive(c)) {
                let Some(op) = str_op(c) else { continue };
                let dead: Vec<_> = c
                    .values
                    .iter()
                    .filter_map(|v| {
                        // GitHub subjects here are reported below; `StringEquals` with `*` is
                        // trust-stringequals-wildcard's.
                        if v.value.known_prefix().starts_with("repo:")
                            || (op != StrOp::Like && v.value.display().contains(['*', '?']))
                        {
                            return None;
                        }
                        never_matches(&t.ci, &t.issuer, op, &v.value).map(|why| (v, why))
                    })
                    .collect();
                let all = dead.len() == c.values.len();
                for (v, why) in dead {
                    let (severity, consequence) = if all {
                        (
                            Severity::Error,
                            format!(
                                "no value of this condition can match, so no {} run can assume {}",
                                t.ci.name, t.policy.owner
                            ),
                        )
                    } else {
                        (
                            Severity::Warning,
                            "this entry is dead (the other values still match)".to_string(),
                        )
                    };
                    out.push(
                        Finding::new(META.id, severity, t.policy.file, v.span)
                            .message(format!("`{}`: {why}: {consequence}", v.value.display()))
                            .label(format!("no {} token carries this subject", t.ci.name))
                            .help(format!(
                                "write the subject as {} emits it: `{}`{}",
                                t.ci.name,
                                t.ci.grammar(),
                                t.ci.docs_ref()
                            )),
                    );
                }
            }
        }
        // A GitHub subject under another CI's `sub` key.
        for m in &ctx.models {
            for p in m.policies.iter().filter(|p| p.kind == PolicyKind::Trust) {
                for s in p.statements.iter().filter(|s| s.is_allow()) {
                    for c in s.conditions.iter().filter(|c| positive(c)) {
                        let Some((iss, claim)) = c.key.value.rsplit_once(':') else {
                            continue;
                        };
                        if !claim.eq_ignore_ascii_case("sub") {
                            continue;
                        }
                        let Some(who) = foreign_sub_issuer(iss) else {
                            continue;
                        };
                        // A key of an issuer the statement does not trust at all is
                        // trust-issuer-mismatch's (the key is never in the request).
                        if literal_federated_hosts(s)
                            .is_some_and(|t| !t.contains(&iss.to_ascii_lowercase()))
                        {
                            continue;
                        }
                        let dead: Vec<_> = c
                            .values
                            .iter()
                            .filter(|v| v.value.known_prefix().starts_with("repo:"))
                            .collect();
                        let all = dead.len() == c.values.len();
                        for v in dead {
                            let severity = if all {
                                Severity::Error
                            } else {
                                Severity::Warning
                            };
                            out.push(
                                Finding::new(META.id, severity, p.file, v.span)
                                    .message(format!(
                                        "`{}` is a GitHub subject under `{}`, the `sub` of {who}: that issuer never sends it, so {}",
                                        v.value.display(),
                                        c.key.value,
                                        if all { format!("{} can never be assumed this way", p.owner) } else { "this entry is dead".to_string() }
                                    ))
                                    .label("GitHub subject under another issuer's key")
                                    .help("trust GitHub's issuer (`token.actions.githubusercontent.com`) in a statement of its own, or write the subject in this issuer's format"),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// GitHub's retired beta issuer: a statement trusting only it, or requiring one of its claims,
/// admits no token GitHub issues today (error); a retired provider listed beside a live one is
/// a dead entry (warning). No fix: moving the trust to the live issuer makes a role nobody can
/// assume usable by the subjects it lists, which someone must review first.
fn retired_issuer(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let registry = Registry::new(&ctx.settings.custom_issuers);
    let fact = format!(
        "`{RETIRED_ISSUER}` is GitHub's beta OIDC issuer, retired in October 2021: no token carries it"
    );
    for t in ctx.trusts() {
        // A statement without `sts:AssumeRoleWithWebIdentity` is trust-wrong-action's.
        if !t.allows_web_identity() {
            continue;
        }
        let Some(r) = t.retired_use() else {
            continue;
        };
        let owner = &t.policy.owner;
        if !r.dead {
            for p in &r.principals {
                out.push(
                    Finding::new(META.id, Severity::Warning, t.policy.file, p.span)
                        .message(format!(
                            "{fact}, so this provider entry is dead (the other providers still admit tokens)"
                        ))
                        .label("retired GitHub issuer")
                        .help(format!(
                            "remove this entry; GitHub's tokens come from `{DEFAULT_ISSUER}`"
                        )),
                );
            }
            continue;
        }
        if r.principals.is_empty() {
            // Its keys under providers that are all literal, known and live: keys of an issuer
            // the statement does not trust, trust-issuer-mismatch's.
            if literal_federated_hosts(t.statement).is_some_and(|hosts| {
                hosts
                    .iter()
                    .all(|h| registry.recognize(h).is_some() && !is_retired_issuer(h))
            }) {
                continue;
            }
            let c = r.keys[0];
            out.push(
                Finding::new(META.id, Severity::Error, t.policy.file, c.key.span)
                    .message(format!(
                        "{fact}, so no request holds `{}` and no GitHub workflow can assume {owner} through this statement",
                        c.key.value
                    ))
                    .label("key of the retired GitHub issuer")
                    .help(help_retired()),
            );
            continue;
        }
        let p = r.principals[0];
        let mut f = Finding::new(META.id, Severity::Error, t.policy.file, p.span)
            .message(format!(
                "{fact}, so no GitHub workflow can assume {owner} through this statement"
            ))
            .label("retired GitHub issuer")
            .help(help_retired());
        for c in &r.keys {
            f = f.related(t.policy.file, c.key.span, "a key of the retired issuer");
        }
        out.push(f);
    }
}

fn help_retired() -> String {
    format!(
        "trust `{DEFAULT_ISSUER}` (provider `arn:aws:iam::ACCOUNT:oidc-provider/{DEFAULT_ISSUER}`, keys `{DEFAULT_ISSUER}:sub` and `:aud`), after checking that the subjects listed are the ones meant to assume the role: today nobody can"
    )
}

/// A concrete correction for the usual mistakes.
fn help(shown: &str, open_custom: bool) -> String {
    if let Some(rest) = shown.strip_prefix("repo:")
        && let Some((repo, ctx)) = rest.split_once(':')
    {
        if ctx.starts_with("refs/") {
            return format!(
                "GitHub writes branches and tags as `ref:refs/…`: `repo:{repo}:ref:{ctx}`"
            );
        }
        if let Some(r) = ctx.strip_prefix("ref:")
            && !r.starts_with("refs/")
        {
            return format!(
                "the `ref` context is a full ref name: `repo:{repo}:ref:refs/heads/{r}` (or `refs/tags/{r}`)"
            );
        }
    }
    if let Some(repo) = shown.strip_prefix("repo:")
        && !repo.contains([':', '*', '?'])
        && repo.matches('/').count() == 1
    {
        return format!(
            "GitHub's subject always names the run's context after the repository: `repo:{repo}:ref:refs/heads/BRANCH`, `…:environment:NAME` or `…:pull_request`; only a subject template customized to `repo` alone emits `repo:{repo}` (declare it with `oidc-subject-template` in the configuration)"
        );
    }
    let custom = if open_custom {
        ""
    } else {
        " or the declared customized template"
    };
    format!(
        "GitHub subjects are `repo:OWNER/REPO:ref:refs/heads/BRANCH`, `…:ref:refs/tags/TAG`, `…:environment:NAME` or `…:pull_request`{custom}; if the owner uses another customized template, declare it with `oidc-subject-template` in the configuration"
    )
}
