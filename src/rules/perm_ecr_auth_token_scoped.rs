use super::{Ctx, Rule, RuleMeta};
use crate::analysis::permissions::{CiRole, names_exactly};
use crate::diag::{Edit, Finding, Fix};
use crate::model::{Statement, Syntax};

pub struct PermEcrAuthTokenScoped;
pub static RULE: PermEcrAuthTokenScoped = PermEcrAuthTokenScoped;
static META: RuleMeta = crate::rule_meta!(
    "perm-ecr-auth-token-scoped",
    Error,
    "`ecr:GetAuthorizationToken` is allowed only on a repository ARN, so ECR login fails (it needs `Resource: \"*\"`)",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    true
);

/// Actions that support no resource-level permissions: only a `*` resource grants them.
const TOKEN_ACTIONS: &[&str] = &[
    "ecr:GetAuthorizationToken",
    "ecr-public:GetAuthorizationToken",
    "sts:GetServiceBearerToken",
];

/// Does some Allow statement grant `action` where the request resource (`*`) matches?
/// Unknown resources or actions count as granting (never guessed against the user).
fn granted_on_star(s: &CiRole, action: &str) -> bool {
    s.allows().any(|(_, st)| {
        st.allows_action(action)
            && (st.not_resource
                || st.resources.iter().any(|r| match r.value.known() {
                    Some(k) => crate::model::glob_match(k.trim(), "*"),
                    None => true,
                }))
    })
}

/// Replace the single resource with `*` when the statement holds only token actions.
fn fix(ctx: &Ctx<'_>, file: usize, st: &Statement) -> Option<Fix> {
    if st.resources.len() != 1 || st.not_resource {
        return None;
    }
    let only_tokens = st.actions.iter().all(|a| {
        a.value.known().is_some_and(|k| {
            TOKEN_ACTIONS
                .iter()
                .any(|t| t.eq_ignore_ascii_case(k.trim()))
        })
    });
    if !only_tokens {
        return None;
    }
    let syntax = st.statement_block.as_ref()?.syntax;
    if syntax == Syntax::ReadOnly {
        return None;
    }
    let r = &st.resources[0];
    // Only a plain quoted string is replaced (not a reference or a tagged expression).
    let text = ctx.file(file).slice(r.span);
    if !(text.starts_with('"') && text.ends_with('"')
        || text.starts_with('\'') && text.ends_with('\''))
    {
        return None;
    }
    Some(Fix {
        description: "set the statement's resource to `*` (the action supports no resource-level permissions)".into(),
        safe: true,
        edits: vec![Edit {
            file,
            span: r.span,
            replacement: "\"*\"".into(),
        }],
    })
}

impl Rule for PermEcrAuthTokenScoped {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let subjects = ctx.ci_roles();
        let mut done: Vec<(usize, crate::source::Span)> = Vec::new();
        for s in subjects {
            // A managed policy may grant the token: its contents are unknown here.
            if !s.managed.is_empty() {
                continue;
            }
            for action in TOKEN_ACTIONS {
                if granted_on_star(s, action) {
                    continue;
                }
                for (p, st) in s.allows() {
                    let Some(a) = names_exactly(st, action) else {
                        continue;
                    };
                    if st.not_resource || st.resources.is_empty() {
                        continue;
                    }
                    let Some(r) = st.resources.first() else {
                        continue;
                    };
                    if done.contains(&(p.file, a.span)) {
                        continue;
                    }
                    done.push((p.file, a.span));
                    out.push(
                        Finding::new(META.id, META.severity, p.file, r.span)
                            .message(format!(
                                "{} allows `{}` only on `{}` for {}: the action supports no resource-level permissions, so the login step fails with AccessDenied",
                                crate::analysis::permissions::policy_name(p),
                                a.value.display(),
                                r.value.display(),
                                s.describe
                            ))
                            .label("must be `*` for this action")
                            .related(p.file, a.span, "granted only on the resources of this statement")
                            .help(format!(
                                "allow `{action}` in a statement of its own with `Resource: \"*\"`; scope the push and pull actions to the repository ARN instead"
                            ))
                            .fix(fix(ctx, p.file, st)),
                    );
                }
            }
        }
    }
}
