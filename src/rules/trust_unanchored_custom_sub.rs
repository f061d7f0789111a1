use super::{Ctx, Rule, RuleMeta};
use crate::analysis::trust::{ANCHOR_CLAIMS, TEMPLATE_CLAIMS, repository_pinned};
use crate::diag::Finding;

pub struct TrustUnanchoredCustomSub;
pub static RULE: TrustUnanchoredCustomSub = TrustUnanchoredCustomSub;
static META: RuleMeta = crate::rule_meta!(
    "trust-unanchored-custom-sub",
    Error,
    "Trust scoped by claims any GitHub owner can reproduce (`environment:prod`, a callable reusable workflow) but by no owner or repository",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

#[derive(Debug, PartialEq, Eq)]
enum Shape {
    /// A customized-template subject binding an owner or a repository.
    Anchored,
    /// A customized-template subject made only of these claims.
    Unanchored(Vec<String>),
    /// Not a customized-template subject (default format, `*…`, or an unknown shape).
    Other,
}

/// Read a literal `sub` value written for a customized template (`claim:value:claim:value…`).
fn shape(value: &str) -> Shape {
    if value.starts_with("repo:") || value.starts_with(['*', '?']) || value.is_empty() {
        return Shape::Other;
    }
    let tokens: Vec<&str> = value.split(':').collect();
    let mut claims = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let claim = tokens[i];
        if claim == "pull_request" {
            claims.push(claim.to_string());
            i += 1;
            continue;
        }
        let Some(v) = tokens.get(i + 1) else {
            return Shape::Other;
        };
        if ANCHOR_CLAIMS.contains(&claim) {
            // `repository_owner_id:*` binds nothing.
            if v.is_empty() || v.starts_with(['*', '?']) {
                claims.push(claim.to_string());
                i += 2;
                continue;
            }
            return Shape::Anchored;
        }
        if !(TEMPLATE_CLAIMS.contains(&claim) || claim.starts_with("repo_property_")) {
            return Shape::Other;
        }
        claims.push(claim.to_string());
        i += 2;
    }
    if claims.is_empty() {
        Shape::Other
    } else {
        Shape::Unanchored(claims)
    }
}

impl Rule for TrustUnanchoredCustomSub {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for t in ctx.trusts() {
            if !t.can_admit() || repository_pinned(t, true) {
                continue;
            }
            let subs = t.positive("sub");
            for c in &subs {
                for v in &c.values {
                    let Some(k) = v.value.known() else { continue };
                    let Shape::Unanchored(claims) = shape(&k) else {
                        continue;
                    };
                    let claims: Vec<String> = claims.iter().map(|c| format!("`{c}`")).collect();
                    out.push(
                        Finding::new(META.id, META.severity, t.policy.file, v.span)
                            .message(format!(
                                "`{k}` binds only {}: any GitHub owner can configure the same subject template and mint this subject, then assume {}",
                                claims.join(", "),
                                t.policy.owner
                            ))
                            .label("no owner or repository in this subject")
                            .help(format!(
                                "include `repository_owner_id` or `repo` in the subject template and in this value (e.g. `repository_owner_id:123456:{k}`), or add a `StringEquals` condition on `{}:repository_id`",
                                t.issuer
                            )),
                    );
                }
            }
            if !subs.is_empty() {
                continue;
            }
            // `job_workflow_ref` as the only scope: every repository allowed to call the
            // reusable workflow gets a matching token.
            for c in t.positive("job_workflow_ref") {
                for v in &c.values {
                    let shown = v.value.display();
                    let owner = shown.split('/').next().unwrap_or("OWNER").to_string();
                    out.push(
                        Finding::new(META.id, META.severity, t.policy.file, v.span)
                            .message(format!(
                                "{} is scoped only by the called workflow `{shown}`: every repository that may call it (anyone, if that repository is public) gets a matching token",
                                t.policy.owner
                            ))
                            .label("binds the called workflow, not the caller")
                            .related(t.policy.file, c.key.span, "the only scoping claim")
                            .help(format!(
                                "also bind the caller: a `sub` condition `repo:{owner}/*` (GitHub's documented pattern) or `StringEquals` on `{}:repository_owner_id`",
                                t.issuer
                            )),
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
    fn shapes() {
        assert_eq!(
            shape("environment:prod"),
            Shape::Unanchored(vec!["environment".into()])
        );
        assert_eq!(
            shape("job_workflow_ref:acme/auto/.github/workflows/d.yml@refs/heads/main"),
            Shape::Unanchored(vec!["job_workflow_ref".into()])
        );
        assert_eq!(
            shape("repository_owner_id:123:environment:prod"),
            Shape::Anchored
        );
        assert_eq!(shape("environment:prod:repo:acme/app"), Shape::Anchored);
        assert_eq!(
            shape("repository_owner_id:*:environment:prod"),
            Shape::Unanchored(vec!["repository_owner_id".into(), "environment".into()])
        );
        assert_eq!(shape("repo:acme/app:environment:prod"), Shape::Other);
        assert_eq!(shape("acme/app"), Shape::Other);
        assert_eq!(shape("*"), Shape::Other);
    }
}
