use super::{Ctx, Rule, RuleMeta};
use crate::analysis::issuers::{Reach, Role, Seg, reach};
use crate::analysis::trust::{CiTrust, SubReach, repository_pinned, sub_reach};
use crate::diag::Finding;

pub struct TrustSubOrgWide;
pub static RULE: TrustSubOrgWide = TrustSubOrgWide;
static META: RuleMeta = crate::rule_meta!(
    "trust-sub-org-wide",
    Warning,
    "A `sub` pattern admits every repository or project of one owner or organization (`repo:acme/*`, `organization:acme:*`, `project_path:group/*`, CircleCI `org/ID/project/*`)",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

impl Rule for TrustSubOrgWide {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for t in ctx.ci_trusts() {
            if !t.ci.is_github() {
                if t.can_admit() {
                    other_issuer(t, out);
                }
                continue;
            }
            if !t.can_admit() || repository_pinned(t, false) {
                continue;
            }
            for (_, v) in t.like_sub_values() {
                let SubReach::OrgWide { owner } = sub_reach(&v.value) else {
                    continue;
                };
                out.push(
                    Finding::new(META.id, META.severity, t.policy.file, v.span)
                        .message(format!(
                            "`{}` admits every repository of `{}`, on every branch, tag, environment and pull request, to assume {}",
                            v.value.display(),
                            owner,
                            t.policy.owner
                        ))
                        .label("any repository of this owner matches")
                        .help(format!(
                            "list the repositories that need the role: `repo:{owner}/REPO:ref:refs/heads/main` or `repo:{owner}/REPO:environment:NAME`; any member who can create a repository in `{owner}` can otherwise assume it"
                        )),
                );
            }
        }
    }
}

/// An issuer other than GitHub: a pattern whose project-level fields are all open.
fn other_issuer(t: &CiTrust<'_>, out: &mut Vec<Finding>) {
    let ci = &t.ci;
    // What the issuer's scope fields are called (`project`, `workspace`, `pipeline`).
    let units: Vec<&str> = ci
        .subject
        .alternatives
        .first()
        .into_iter()
        .flatten()
        .filter_map(|s| match s {
            Seg::Field(f) if f.role == Role::Scope => {
                Some(f.name.trim_end_matches("_id").trim_end_matches("_uuid"))
            }
            _ => None,
        })
        .collect();
    let units = if units.is_empty() {
        "project".to_string()
    } else {
        units.join(" and ")
    };
    for (_, v) in t.like_sub_values() {
        let Reach::TenantWide { tenant } = reach(ci, &v.value) else {
            continue;
        };
        let whose = if tenant.starts_with("this ") {
            tenant.clone()
        } else {
            format!("`{tenant}` on {}", ci.name)
        };
        out.push(
            Finding::new(META.id, META.severity, t.policy.file, v.span)
                .message(format!(
                    "`{}` admits every {units} of {whose} to assume {}",
                    v.value.display(),
                    t.policy.owner
                ))
                .label(format!("any {units} of this organization matches"))
                .help(format!(
                    "name the {units} that need the role ({}'s subjects read `{}`); anyone who can add a {units} there can otherwise assume it",
                    ci.name,
                    ci.grammar()
                )),
        );
    }
}
