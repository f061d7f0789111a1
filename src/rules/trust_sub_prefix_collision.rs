use super::{Ctx, Rule, RuleMeta};
use crate::analysis::trust::{SubReach, repository_pinned, split_default_sub, sub_reach};
use crate::diag::{Finding, Severity};
use crate::source::tree::Template;

pub struct TrustSubPrefixCollision;
pub static RULE: TrustSubPrefixCollision = TrustSubPrefixCollision;
static META: RuleMeta = crate::rule_meta!(
    "trust-sub-prefix-collision",
    Error,
    "A `StringLike` wildcard glued to a name (`repo:acme/app*`, `refs/heads/main*`) admits siblings that share the prefix",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

/// Where a glued wildcard sits in a default-format subject.
#[derive(Debug, PartialEq, Eq)]
enum Collision {
    /// In the repository name: `repo:acme/app*`.
    Repository { prefix: String },
    /// In a tag: `…:ref:refs/tags/v*` (usually intended).
    Tag { prefix: String },
    /// In a branch, environment or other context value.
    Context { prefix: String },
}

const UNKNOWN: char = crate::source::tree::HOLE;

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// The first wildcard glued to a name after the owner part, judged on literal text only.
fn glued_wildcard(pattern: &Template) -> Option<Collision> {
    let s = pattern.flat();
    let sub = split_default_sub(&s)?;
    let repo_start = "repo:".len();
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    for (k, &(i, c)) in chars.iter().enumerate() {
        if i < repo_start || !(c == '*' || c == '?') || k == 0 {
            continue;
        }
        let prev = chars[k - 1].1;
        if !is_name_char(prev) {
            continue;
        }
        // The run of name characters before the wildcard.
        let mut b = k;
        while b > 0 && is_name_char(chars[b - 1].1) {
            b -= 1;
        }
        if b > 0 && chars[b - 1].1 == UNKNOWN {
            // `${var.repo}-*`: the name is partly unknown; no verdict.
            return None;
        }
        let prefix = s[chars[b].0..i].to_string();
        let repo_end = repo_start + sub.repo.len();
        if i < repo_end {
            // The owner part is sub_reach's `OwnerPrefix`; here only the repository name.
            let slash = repo_start + sub.repo.find('/')?;
            if i < slash {
                return None;
            }
            return Some(Collision::Repository { prefix });
        }
        let context = &s[repo_end + 1..i];
        // `…:pull_*` only admits `pull_request`: trust-sub-admits-pull-request's finding.
        if sub
            .context
            .is_some_and(|c| crate::model::glob_match(c, "pull_request"))
        {
            return None;
        }
        // The name must follow a context GitHub issues (`ref:refs/heads/`, `ref:refs/tags/`,
        // `environment:`); `repo:acme/app:pr-*` admits no branch at all, a dead entry
        // (trust-sub-never-matches), not a sibling.
        let name_start = i - prefix.len();
        let after = |p: &str| context.starts_with(p) && repo_end + 1 + p.len() <= name_start;
        // (glued inside a context word, `:environment*`, `:ref:refs/heads*`: it admits every
        // environment or branch, a wide entry, as before)
        let inside_word = ["ref:refs/heads/", "ref:refs/tags/", "environment:"]
            .iter()
            .any(|w| w.starts_with(context) && w.len() > context.len());
        return if after("ref:refs/tags/") {
            Some(Collision::Tag { prefix })
        } else if after("ref:refs/heads/") || after("environment:") || inside_word {
            Some(Collision::Context { prefix })
        } else {
            None
        };
    }
    None
}

impl Rule for TrustSubPrefixCollision {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for t in ctx.trusts() {
            if !t.can_admit() {
                continue;
            }
            // Once per policy, not per value: a policy of 68k `sub` values must not rescan
            // its conditions for each one.
            let (pinned_owner, pinned_repo) =
                (std::cell::OnceCell::new(), std::cell::OnceCell::new());
            for (_, v) in t.like_sub_values() {
                let shown = v.value.display();
                let (severity, message, label, help) = match sub_reach(&v.value) {
                    SubReach::OwnerPrefix { prefix } => {
                        if *pinned_owner.get_or_init(|| repository_pinned(t, true)) {
                            continue;
                        }
                        (
                            Severity::Error,
                            format!(
                                "`{shown}` admits repositories of every owner whose name starts with `{prefix}` (`{prefix}-evil/…` is anyone's to register), so they can assume {}",
                                t.policy.owner
                            ),
                            "the owner name ends in a wildcard",
                            format!(
                                "end the owner with `/`: `repo:{}/REPO:…`, naming the repository; GitHub owner names are first come, first served",
                                prefix.trim_end_matches(['-', '_', '.'])
                            ),
                        )
                    }
                    SubReach::AnyRepo | SubReach::OrgWide { .. } => continue,
                    SubReach::Narrower => match glued_wildcard(&v.value) {
                        None => continue,
                        Some(Collision::Repository { prefix }) => {
                            if *pinned_repo.get_or_init(|| repository_pinned(t, false)) {
                                continue;
                            }
                            let name = prefix.trim_end_matches(['-', '_', '.']).to_string();
                            (
                                Severity::Warning,
                                format!(
                                    "`{shown}` admits every repository whose name starts with `{prefix}` (e.g. `{name}-sandbox`), not just `{name}`, to assume {}",
                                    t.policy.owner
                                ),
                                "a wildcard glued to the repository name",
                                format!(
                                    "put a delimiter before the wildcard (`…/{name}:*`) or list the repositories exactly; anyone who can create a repository in the owner can otherwise pick a matching name"
                                ),
                            )
                        }
                        Some(Collision::Tag { prefix }) => (
                            Severity::Note,
                            format!(
                                "`{shown}` admits every tag starting with `{prefix}` to assume {}; anyone who can push such a tag can use the role",
                                t.policy.owner
                            ),
                            "a wildcard glued to a tag prefix",
                            "protect the tag pattern with a ruleset, or pin exact tags or a protected environment".to_string(),
                        ),
                        Some(Collision::Context { prefix }) => (
                            Severity::Warning,
                            format!(
                                "`{shown}` admits every branch or environment whose name starts with `{prefix}` (e.g. `{prefix}-test`), not just `{prefix}`, to assume {}",
                                t.policy.owner
                            ),
                            "a wildcard glued to a branch or environment name",
                            format!(
                                "match the name exactly (`…{prefix}`), or put a `/` before the wildcard and protect that namespace (`refs/heads/{prefix}/*`)"
                            ),
                        ),
                    },
                };
                out.push(
                    Finding::new(META.id, severity, t.policy.file, v.span)
                        .message(message)
                        .label(label)
                        .help(help),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::tree::Part;

    fn g(s: &str) -> Option<Collision> {
        glued_wildcard(&Template::lit(s))
    }

    #[test]
    fn glued() {
        assert_eq!(
            g("repo:acme/app*"),
            Some(Collision::Repository {
                prefix: "app".into()
            })
        );
        assert_eq!(
            g("repo:acme/app-*:ref:refs/heads/main"),
            Some(Collision::Repository {
                prefix: "app-".into()
            })
        );
        assert_eq!(
            g("repo:acme/app:ref:refs/heads/main*"),
            Some(Collision::Context {
                prefix: "main".into()
            })
        );
        assert_eq!(
            g("repo:acme/app:ref:refs/tags/v*"),
            Some(Collision::Tag { prefix: "v".into() })
        );
        assert_eq!(g("repo:acme/app:*"), None);
        assert_eq!(g("repo:acme/*"), None);
        assert_eq!(g("repo:acme@*/app@*:ref:refs/heads/main"), None);
        assert_eq!(g("repo:acme/app:ref:refs/heads/release/*"), None);
        assert_eq!(g("repo:acme/app:ref:refs/heads/main"), None);
        assert_eq!(g("environment:prod*"), None);
        assert_eq!(g("repo:acme/app:pull_*"), None);
        // glued to something no context starts with: dead, not a sibling
        assert_eq!(g("repo:acme/app:pr-*"), None);
        // glued inside a context word: every environment or branch
        assert_eq!(
            g("repo:acme/app:ref:refs/heads*"),
            Some(Collision::Context {
                prefix: "heads".into()
            })
        );
        assert_eq!(
            g("repo:acme/app:environment*"),
            Some(Collision::Context {
                prefix: "environment".into()
            })
        );
        assert_eq!(
            g("repo:acme/app:environment:prod*"),
            Some(Collision::Context {
                prefix: "prod".into()
            })
        );
        let tpl = Template {
            parts: vec![
                Part::Lit("repo:acme/".into()),
                Part::Unknown("var.repo".into()),
                Part::Lit("-*".into()),
            ],
        };
        assert_eq!(glued_wildcard(&tpl), None);
    }
}
