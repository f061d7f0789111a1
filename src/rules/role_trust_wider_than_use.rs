use super::{Ctx, Rule, RuleMeta};
use crate::analysis::eval::{StrOp, Tri, Val, is_id_form, value_match};
use crate::analysis::subjects::{self, list_subjects};
use crate::diag::Finding;
use crate::model::PolicyDoc;
use crate::source::{FileId, Span};
use std::collections::BTreeMap;

/// A role's uses: name, trust, subjects in use, first use, whether some use is not fully known,
/// and the subjects `if:` conditions rule out.
type Use<'a> = (
    String,
    &'a PolicyDoc,
    Vec<Val>,
    Option<(FileId, Span)>,
    bool,
    Vec<Val>,
);

pub struct RoleTrustWiderThanUse;
pub static RULE: RoleTrustWiderThanUse = RoleTrustWiderThanUse;
static META: RuleMeta = crate::rule_meta!(
    "role-trust-wider-than-use",
    Note,
    "A role's trust policy admits subjects of this repository that no workflow in the scan presents",
    [
        "workflow",
        "gitlab-ci",
        "iam-json",
        "terraform",
        "cloudformation"
    ],
    false
);

impl Rule for RoleTrustWiderThanUse {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let an = ctx.analysis();
        // role (by trust) → (name, trust, subjects in use, first use)
        // (by trust and its owner: a local module's instances share the module's text)
        let mut uses: BTreeMap<(FileId, Span, String), Use> = BTreeMap::new();
        for (a, j) in an.assumptions.iter().zip(ctx.judged()) {
            let Some(j) = j else { continue };
            // a role that rejects a job, or its audience, has a bigger problem
            let broken = j.audience_rejection.is_some() || j.rejects_all();
            // A name defined several times (one role per account or environment): each
            // definition is used by at most the jobs naming it, so a trust wider than all of
            // their subjects is wider than its own use.
            for r in an.definitions(a) {
                let role = &an.roles[r];
                let Some(trust) = role.trust else { continue };
                let repo = if r == j.role {
                    j.repo.clone()
                } else {
                    an.repo_value(a.file, trust)
                };
                let key = (trust.file, trust.span, trust.owner.clone());
                let e = uses.entry(key).or_insert_with(|| {
                    (
                        role.name.clone(),
                        trust,
                        vec![],
                        Some((a.file, a.role_span)),
                        false,
                        vec![],
                    )
                });
                e.5.extend(a.ruled_out.iter().map(|s| s.sub(&repo)));
                e.4 |= broken;
                for s in &a.subjects {
                    if s.foreign || repo.known().is_none() {
                        e.4 = true; // some use is not fully known: no verdict
                    }
                    e.2.push(s.sub(&repo));
                }
            }
        }
        // A job whose role the scan cannot name (a secret with no mapping, a reusable workflow
        // of another repository given `id-token: write`) may be a user of any role: a value no
        // known job presents may be its, so "unused" is no verdict (wider-than-use still is).
        let unknown_users = an.assumptions.iter().any(|a| {
            a.access == crate::analysis::access::Access::Oidc && an.definitions(a).is_empty()
        }) || ctx.models.iter().flat_map(|m| &m.workflows).any(|w| {
            w.kind == crate::model::WorkflowKind::Workflow
                && w.jobs.iter().any(|j| {
                    j.uses.as_ref().is_some_and(|u| !u.value.starts_with("./"))
                        && w.effective_permissions(j)
                            .is_some_and(|p| p.id_token() == crate::model::IdToken::Write)
                })
        });
        for (name, trust, used, first_use, incomplete, ruled_out) in uses.into_values() {
            if incomplete || used.is_empty() {
                continue;
            }
            let repo = an.repo_for(trust).known().unwrap_or_default();
            let issuer = subjects::trust_issuer(trust);
            for st in &trust.statements {
                if !st.is_allow() {
                    continue;
                }
                for c in &st.conditions {
                    let op = c.op();
                    // (a key whose issuer is known only at apply time is the statement's)
                    if !c.is_claim_or_unresolved(&issuer, "sub") || !op.is_positive_string_match() {
                        continue;
                    }
                    let sop = if op.is_like() {
                        StrOp::Like
                    } else if op.base.eq_ignore_ascii_case("StringEqualsIgnoreCase") {
                        StrOp::EqualsIgnoreCase
                    } else {
                        StrOp::Equals
                    };
                    for v in &c.values {
                        // A value whose repository the scan cannot resolve
                        // (`repo:${GitHubOrg}/${RepositoryName}:*`, parameters without a
                        // default) while this repository's jobs assume the role: judged as
                        // naming this repository, only where it admits their subjects.
                        let (text, value, unresolved) = match v.value.known() {
                            Some(text) => (text, v.value.clone(), None),
                            None => match unresolved_repository(&v.value, &used) {
                                Some((text, shown)) => {
                                    let t = crate::source::tree::Template::lit(&text);
                                    (text, t, Some(shown))
                                }
                                None => continue,
                            },
                        };
                        if is_id_form(&value) {
                            continue;
                        }
                        let ours = unresolved.is_some()
                            || text
                                .strip_prefix("repo:")
                                .and_then(|r| r.split_once(':'))
                                .is_some_and(|(r, _)| {
                                    if sop == StrOp::EqualsIgnoreCase {
                                        r.eq_ignore_ascii_case(&repo)
                                    } else {
                                        r == repo
                                    }
                                });
                        if !ours {
                            continue;
                        }
                        let Some(unused) = breadth(sop, &value, &text, &used) else {
                            continue;
                        };
                        // (an entry only runs an `if:` rules out would present: the condition
                        // may be a guard, the entry not a mistake)
                        if unused
                            && ruled_out
                                .iter()
                                .any(|s| value_match(sop, &value, s) != Tri::False)
                        {
                            continue;
                        }
                        if unused && unknown_users {
                            continue;
                        }
                        if unused && unresolved.is_some() {
                            // (the unresolved repository may be another one)
                            continue;
                        }
                        let in_use = list_subjects(&used);
                        let msg = if let Some(shown) = &unresolved {
                            format!(
                                "the trust policy of role `{name}` admits `{shown}`, which is `{text}` for this repository's jobs that assume it, wider than the subjects they present (the scan cannot resolve the repository)"
                            )
                        } else if unused {
                            format!(
                                "the trust policy of role `{name}` admits `{text}`, which no workflow in this scan presents"
                            )
                        } else {
                            format!(
                                "the trust policy of role `{name}` admits `{text}`, wider than the subjects the workflows in this scan present"
                            )
                        };
                        let mut f = Finding::new(META.id, META.severity, trust.file, v.span)
                            .message(msg)
                            .label(if unused { "admits subjects no workflow presents" } else { "wider than the subjects in use" })
                            .help(format!(
                                "the workflows in this scan present {in_use}; list exactly these (with `StringEquals`) unless workflows outside this scan assume the role"
                            ));
                        if let Some((file, span)) = first_use {
                            f = f.related(file, span, format!("assumes role `{name}`"));
                        }
                        out.push(f);
                    }
                }
            }
        }
        check_gitlab(ctx, out);
    }
}

/// `repo:<repository>:<context>` whose only unknown parts are in the repository, which may be
/// every repository the jobs in use present (one): the value with that repository, and the
/// value as written. `None` for any other shape, or when the jobs present several
/// repositories or none known.
fn unresolved_repository(
    value: &crate::source::tree::Template,
    used: &[Val],
) -> Option<(String, String)> {
    use crate::source::tree::Part;
    let mut repos = used.iter().map(|s| {
        let k = s.known()?;
        let sub = crate::analysis::trust::split_default_sub(&k)?;
        sub.context.map(|_| sub.repo.to_string())
    });
    let repo = repos.next()??;
    if repos.any(|r| r.as_deref() != Some(repo.as_str())) {
        return None;
    }
    // The repository segment as a pattern (unknowns as `*`), and the known context after it.
    let mut pattern = String::new();
    let mut context: Option<String> = None;
    for (i, p) in value.parts.iter().enumerate() {
        match (p, &mut context) {
            (Part::Lit(l), None) => {
                let l = if i == 0 { l.strip_prefix("repo:")? } else { l };
                match l.split_once(':') {
                    // (a wildcard written in the repository admits others: not this rule's)
                    _ if l.split(':').next().unwrap_or("").contains(['*', '?']) => return None,
                    Some((r, c)) => {
                        pattern.push_str(r);
                        context = Some(c.to_string());
                    }
                    None => pattern.push_str(l),
                }
            }
            (Part::Unknown(_), None) if i > 0 => pattern.push('*'),
            (Part::Lit(l), Some(c)) => c.push_str(l),
            _ => return None,
        }
    }
    let context = context?;
    if !crate::model::glob_match(&pattern, &repo) {
        return None;
    }
    Some((format!("repo:{repo}:{context}"), value.display()))
}

/// GitLab jobs: `project_path:PROJECT:…` values of a trust that no job of the scan presents,
/// or wildcards wider than what they present. No verdict when some job using the role is not
/// fully known (a partial pipeline, an unknown project) or is rejected.
fn check_gitlab(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let gl = ctx.gitlab();
    let roles = &ctx.analysis().roles;
    // trust → (role name, view, issuer, project, subjects in use, first use, incomplete)
    type GlUse<'v> = (
        String,
        &'v PolicyDoc,
        String,
        Option<String>,
        Vec<Val>,
        (FileId, Span),
        bool,
    );
    let mut uses: BTreeMap<(FileId, Span), GlUse> = BTreeMap::new();
    for (a, j) in gl.assumptions.iter().zip(ctx.gitlab_judged()) {
        let Some(j) = j else { continue };
        let job = &gl.jobs[a.job];
        let e = uses.entry((j.trust.file, j.trust.span)).or_insert_with(|| {
            (
                roles[j.role].name.clone(),
                &j.view,
                j.issuer.clone(),
                j.project.known(),
                vec![],
                a.role_at,
                false,
            )
        });
        e.6 |= job.partial
            || j.project.known().is_none()
            || j.audience_rejection().is_some()
            || j.rejects_all();
        e.4.extend(j.subjects.iter().map(|(s, _)| s.clone()));
    }
    for (name, trust, issuer, project, used, (file, span), incomplete) in uses.into_values() {
        let Some(project) = project else { continue };
        if incomplete || used.is_empty() {
            continue;
        }
        let ours = format!("project_path:{project}:");
        for st in &trust.statements {
            if !st.is_allow() {
                continue;
            }
            for c in &st.conditions {
                let op = c.op();
                if c.claim_of(&issuer).as_deref() != Some("sub") || !op.is_positive_string_match() {
                    continue;
                }
                let sop = if op.is_like() {
                    StrOp::Like
                } else if op.base.eq_ignore_ascii_case("StringEqualsIgnoreCase") {
                    StrOp::EqualsIgnoreCase
                } else {
                    StrOp::Equals
                };
                for v in &c.values {
                    let Some(text) = v.value.known() else {
                        continue;
                    };
                    if !text.starts_with(&ours) {
                        continue;
                    }
                    let Some(unused) = breadth(sop, &v.value, &text, &used) else {
                        continue;
                    };
                    let in_use = list_subjects(&used);
                    let msg = if unused {
                        format!(
                            "the trust policy of role `{name}` admits `{text}`, which no GitLab job in this scan presents"
                        )
                    } else {
                        format!(
                            "the trust policy of role `{name}` admits `{text}`, wider than the subjects the GitLab jobs in this scan present"
                        )
                    };
                    out.push(
                        Finding::new(META.id, META.severity, trust.file, v.span)
                            .message(msg)
                            .label(if unused { "admits subjects no job presents" } else { "wider than the subjects in use" })
                            .help(format!(
                                "the GitLab jobs in this scan present {in_use}; list exactly these (with `StringEquals`) unless jobs outside this scan assume the role"
                            ))
                            .related(file, span, format!("assumes role `{name}`")),
                    );
                }
            }
        }
    }
}

/// How a trust value compares with the subjects the scan's jobs present: `Some(true)` when
/// none of them can match it (unused), `Some(false)` when it is a `StringLike` wildcard whose
/// matches are all known subjects (wider than what is used), `None` otherwise.
fn breadth(
    sop: StrOp,
    value: &crate::source::tree::Template,
    text: &str,
    used: &[Val],
) -> Option<bool> {
    let matched: Vec<&Val> = used
        .iter()
        .filter(|s| value_match(sop, value, s) != Tri::False)
        .collect();
    let wildcard = sop == StrOp::Like && text.contains(['*', '?']);
    let unused = matched.is_empty();
    let wider = wildcard && matched.iter().all(|s| s.known().is_some());
    (unused || wider).then_some(unused)
}
