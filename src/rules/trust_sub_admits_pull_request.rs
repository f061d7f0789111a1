use super::{Ctx, Rule, RuleMeta};
use crate::analysis::trust::{CiTrust, editable, remove_list_element, split_default_sub};
use crate::diag::{Finding, Fix};
use crate::model::{PolicyDoc, glob_match};

pub struct TrustSubAdmitsPullRequest;
pub static RULE: TrustSubAdmitsPullRequest = TrustSubAdmitsPullRequest;
static META: RuleMeta = crate::rule_meta!(
    "trust-sub-admits-pull-request",
    Warning,
    "A role that deploys from branches or environments also trusts `pull_request` runs (`repo:OWNER/REPO:pull_request`)",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    true
);

/// How a literal `sub` value relates to pull requests.
#[derive(Debug, PartialEq, Eq)]
enum Pr {
    /// Admits `…:pull_request` of one repository (exactly, or through a pattern).
    Admits { exact: bool },
    /// Admits only other contexts.
    Other,
    /// Not judged (unknown parts, custom templates, wildcards in the repository part, `:*`).
    Unknown,
}

fn classify(value: &str, like: bool, ignore_case: bool) -> Pr {
    let Some(sub) = split_default_sub(value) else {
        return Pr::Unknown;
    };
    let Some(context) = sub.context else {
        return Pr::Unknown;
    };
    let owner_repo = sub.repo;
    let repo_has_wild = owner_repo
        .split('/')
        .any(|seg| seg.split('@').next().unwrap_or("").contains(['*', '?']));
    if repo_has_wild || !owner_repo.contains('/') {
        return Pr::Unknown;
    }
    if like {
        if context == "*" {
            // Repository-wide: reported by trust-sub-repo-wide.
            return Pr::Unknown;
        }
        if glob_match(context, "pull_request") {
            return Pr::Admits {
                exact: context == "pull_request",
            };
        }
        return Pr::Other;
    }
    let is_pr = if ignore_case {
        context.eq_ignore_ascii_case("pull_request")
    } else {
        context == "pull_request"
    };
    if is_pr {
        Pr::Admits { exact: true }
    } else {
        Pr::Other
    }
}

/// A `StringLike` context admitting every branch (`ref:refs/heads/*`, `ref:*`): checked on
/// two branch names no narrower pattern would name both of.
fn admits_every_branch(context: &str) -> bool {
    glob_match(context, "ref:refs/heads/\u{7f}x") && glob_match(context, "ref:refs/heads/-/9")
}

/// What the positive GitHub `sub` values of each policy admit besides pull requests.
#[derive(Default)]
struct Others {
    /// Policies admitting some context other than pull requests.
    other: std::collections::HashSet<*const PolicyDoc>,
    /// (policy, lowercased `OWNER/REPO`) admitting every branch of the repository.
    every_branch: std::collections::HashSet<(*const PolicyDoc, String)>,
}

/// Computed once per policy (policies can hold thousands of statements).
fn others<'a>(all: &'a [CiTrust<'a>]) -> Others {
    let mut out = Others::default();
    let mut seen = std::collections::HashSet::new();
    for o in all {
        let key = o.policy as *const PolicyDoc;
        if !seen.insert(key) {
            continue;
        }
        for c in o.positive("sub") {
            let op = c.op();
            for v in &c.values {
                let Some(k) = v.value.known() else { continue };
                let ignore_case = op.base.eq_ignore_ascii_case("StringEqualsIgnoreCase");
                // `repo:acme/app:*` (repository-wide, trust-sub-repo-wide's) admits every
                // branch too: a pull-request entry beside it adds nothing.
                if let Some(sub) = split_default_sub(&k)
                    && op.is_like()
                    && !sub.repo.contains(['*', '?'])
                    && sub.context.is_some_and(admits_every_branch)
                {
                    out.other.insert(key);
                    out.every_branch
                        .insert((key, sub.repo.to_ascii_lowercase()));
                }
                if classify(&k, op.is_like(), ignore_case) != Pr::Other {
                    continue;
                }
                out.other.insert(key);
            }
        }
    }
    out
}

impl Rule for TrustSubAdmitsPullRequest {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let trusts = ctx.trusts();
        let others = others(trusts);
        let mut read_only: std::collections::HashMap<*const PolicyDoc, bool> = Default::default();
        for t in trusts {
            if !t.can_admit() {
                continue;
            }
            // A role trusted only by pull requests is the recommended read-only plan role;
            // the finding is about a role shared between pull requests and deployments.
            if !others.other.contains(&(t.policy as *const PolicyDoc)) {
                continue;
            }
            // Pull requests reading with a read-only role are the recommended setup.
            if *read_only
                .entry(t.policy as *const PolicyDoc)
                .or_insert_with(|| ctx.role_read_only(t.policy))
            {
                continue;
            }
            for c in t.positive("sub") {
                let op = c.op();
                let ignore_case = op.base.eq_ignore_ascii_case("StringEqualsIgnoreCase");
                for (i, v) in c.values.iter().enumerate() {
                    let Some(k) = v.value.known() else { continue };
                    let Pr::Admits { exact } = classify(&k, op.is_like(), ignore_case) else {
                        continue;
                    };
                    // A role every branch can assume gives a pull request nothing a pushed
                    // branch does not get (only who can push opens one from the repository).
                    if split_default_sub(&k).is_some_and(|sub| {
                        others.every_branch.contains(&(
                            t.policy as *const PolicyDoc,
                            sub.repo.to_ascii_lowercase(),
                        ))
                    }) {
                        continue;
                    }
                    let src = ctx.file(t.policy.file);
                    let fix = if exact && editable(c.operator_block.as_ref()) {
                        remove_list_element(src, t.policy.file, &c.values, c.values_span, i).map(
                            |e| Fix {
                                description: format!("remove `{k}`"),
                                // Pull-request jobs that use the role lose access.
                                safe: false,
                                edits: vec![e],
                            },
                        )
                    } else {
                        None
                    };
                    let what = if exact {
                        format!("`{k}`")
                    } else {
                        format!("`{k}` (it matches `…:pull_request`)")
                    };
                    out.push(
                        Finding::new(META.id, META.severity, t.policy.file, v.span)
                            .message(format!(
                                "{what} lets unreviewed pull-request code assume {}, the role that also deploys from branches or environments",
                                t.policy.owner
                            ))
                            .label("pull-request runs match this value")
                            .help("give pull requests a separate read-only role and keep this role for the protected branch or environment; any collaborator who can push a branch can open a pull request")
                            .fix(fix),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_values() {
        assert_eq!(
            classify("repo:acme/app:pull_request", false, false),
            Pr::Admits { exact: true }
        );
        assert_eq!(
            classify("repo:acme/app:pull_*", true, false),
            Pr::Admits { exact: false }
        );
        assert_eq!(classify("repo:acme/app:*", true, false), Pr::Unknown);
        assert_eq!(
            classify("repo:acme/*:pull_request", true, false),
            Pr::Unknown
        );
        assert_eq!(
            classify("repo:acme/app:ref:refs/heads/main", false, false),
            Pr::Other
        );
        assert_eq!(
            classify("repo:acme@1/app@2:pull_request", false, false),
            Pr::Admits { exact: true }
        );
    }

    #[test]
    fn every_branch() {
        assert!(admits_every_branch("ref:refs/heads/*"));
        assert!(admits_every_branch("ref:*"));
        assert!(!admits_every_branch("ref:refs/heads/feature/*"));
        assert!(!admits_every_branch("ref:refs/heads/main"));
        assert!(!admits_every_branch("environment:*"));
    }
}
