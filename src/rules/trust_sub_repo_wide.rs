use super::{Ctx, Rule, RuleMeta};
use crate::analysis::trust::split_default_sub;
use crate::diag::Finding;
use crate::source::tree::Template;

pub struct TrustSubRepoWide;
pub static RULE: TrustSubRepoWide = TrustSubRepoWide;
static META: RuleMeta = crate::rule_meta!(
    "trust-sub-repo-wide",
    Note,
    "A `sub` pattern `repo:OWNER/REPO:*` admits every branch, tag, environment and pull request of one repository",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

/// A `repo:<owner>/<repo>:*` pattern: the repository as written, and whether its owner or name
/// comes from a value the scan cannot resolve.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RepoWide {
    pub repo: String,
    pub unresolved: bool,
}

/// `Some` when the pattern is exactly `repo:<owner>/<repo>:*` with a literal context `*`, and an
/// owner and repository name with no wildcard (IDs of the immutable form may be `*`). An owner
/// or name from an unknown value (`repo:${var.org}/${var.repo}:*`) is reported as unresolved:
/// whatever they hold, every context of that repository matches (a wildcard in them would be
/// wider still, which the scan cannot see).
pub(crate) fn repo_wide(pattern: &Template) -> Option<RepoWide> {
    const UNKNOWN: char = crate::source::tree::HOLE;
    let s = pattern.flat();
    let sub = split_default_sub(&s)?;
    if sub.context != Some("*") || sub.repo.is_empty() {
        return None;
    }
    // The repository as written (`acme/app`, `${var.org}/${var.repo}`).
    let shown = || {
        let shown = pattern.display();
        shown
            .strip_prefix("repo:")
            .and_then(|x| x.strip_suffix(":*"))
            .unwrap_or(&shown)
            .to_string()
    };
    // A whole `OWNER/REPO` from one value (`repo:${var.github_repository}:*`): every context
    // of whichever repository it names.
    if sub.repo.chars().all(|c| c == UNKNOWN) {
        return Some(RepoWide {
            repo: shown(),
            unresolved: true,
        });
    }
    // `repo:acme/app:*` or `repo:acme@1/app@2:*`; `@*` in an ID position is still one repo.
    let (owner, repo) = sub.repo.split_once('/')?;
    if repo.contains('/') {
        return None;
    }
    let name = |seg: &str| seg.split('@').next().unwrap_or("").to_string();
    let (o, r) = (name(owner), name(repo));
    let bad = |n: &str| n.is_empty() || n.contains(['*', '?']);
    if bad(&o) || bad(&r) {
        return None;
    }
    let id_ok = |seg: &str| {
        seg.split_once('@')
            .is_none_or(|(_, id)| !id.contains(['?', UNKNOWN]) && (id == "*" || !id.contains('*')))
    };
    if !id_ok(owner) || !id_ok(repo) {
        return None;
    }
    Some(RepoWide {
        repo: shown(),
        unresolved: o.contains(UNKNOWN) || r.contains(UNKNOWN),
    })
}

impl Rule for TrustSubRepoWide {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for t in ctx.trusts() {
            if !t.can_admit() {
                continue;
            }
            for (_, v) in t.like_sub_values() {
                let Some(RepoWide { repo, unresolved }) = repo_wide(&v.value) else {
                    continue;
                };
                let unresolved = if unresolved {
                    format!(
                        " (the scan cannot resolve `{repo}`: whichever repository it names, every context of it matches, and a wildcard in it would admit more)"
                    )
                } else {
                    String::new()
                };
                out.push(
                    Finding::new(META.id, META.severity, t.policy.file, v.span)
                        .message(format!(
                            "`{}` lets every branch, tag, environment and `pull_request` run of `{repo}` assume {}{unresolved}",
                            v.value.display(),
                            t.policy.owner
                        ))
                        .label("any context of this repository matches")
                        .help(format!(
                            "if the role deploys, pin it to a protected environment or branch (`repo:{repo}:environment:production`, `repo:{repo}:ref:refs/heads/main`) and give pull requests a separate read-only role"
                        )),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::tree::Part;

    #[test]
    fn shapes() {
        let r = |s: &str| repo_wide(&Template::lit(s)).map(|w| w.repo);
        assert_eq!(r("repo:acme/app:*"), Some("acme/app".into()));
        assert_eq!(r("repo:acme@1/app@2:*"), Some("acme@1/app@2".into()));
        assert_eq!(r("repo:acme@*/app@*:*"), Some("acme@*/app@*".into()));
        assert_eq!(r("repo:acme/app/x:*"), None);
        assert_eq!(r("repo:acme/*:*"), None);
        assert_eq!(r("repo:acme/app*:*"), None);
        assert_eq!(r("repo:*/app:*"), None);
        assert_eq!(r("repo:acme/app:ref:*"), None);
        assert_eq!(r("repo:acme/app"), None);
        assert_eq!(r("repo:acme:*"), None);
        let tpl = Template {
            parts: vec![
                Part::Lit("repo:".into()),
                Part::Unknown("var.org".into()),
                Part::Lit("/app:*".into()),
            ],
        };
        let w = repo_wide(&tpl).unwrap();
        assert!(w.unresolved);
        // a whole `owner/repo` from one value
        let whole = Template {
            parts: vec![
                Part::Lit("repo:".into()),
                Part::Unknown("var.repository".into()),
                Part::Lit(":*".into()),
            ],
        };
        assert!(repo_wide(&whole).unwrap().unresolved);
        let partial = Template {
            parts: vec![
                Part::Lit("repo:".into()),
                Part::Unknown("var.org".into()),
                Part::Lit("/app*:*".into()),
            ],
        };
        assert_eq!(repo_wide(&partial), None);
    }
}
