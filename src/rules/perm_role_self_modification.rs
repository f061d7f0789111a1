use super::{Ctx, Rule, RuleMeta};
use crate::analysis::permissions::{
    CiRole, any_policy_resource, any_role_resource, first_written, granting, is_deny,
    resource_is_self,
};
use crate::diag::Finding;
use crate::model::{PolicyDoc, SStr, Statement};

pub struct PermRoleSelfModification;
pub static RULE: PermRoleSelfModification = PermRoleSelfModification;
static META: RuleMeta = crate::rule_meta!(
    "perm-role-self-modification",
    Error,
    "A role a CI issuer (GitHub Actions, HCP Terraform, GitLab, …) can assume may rewrite its own trust or permissions (`iam:UpdateAssumeRolePolicy`, `iam:PutRolePolicy`, `iam:AttachRolePolicy` on itself or `*`)",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

const SELF_EDIT: &[&str] = &[
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
];

/// A resource of `st` that covers the subject's own role.
fn covers_self<'s>(p: &PolicyDoc, st: &'s Statement, s: &CiRole) -> Option<&'s SStr> {
    if st.not_resource {
        return None;
    }
    any_role_resource(st).or_else(|| {
        st.resources
            .iter()
            .find(|r| resource_is_self(&r.value, s.role, &p.owner))
    })
}

/// An unconditional Deny of `action` on the role itself (the documented guard). For a bare
/// JSON policy the role's name is unknown: a Deny naming a specific role ARN is taken as that
/// guard.
fn denied(s: &CiRole, action: &str) -> bool {
    s.statements().any(|(p, st)| {
        is_deny(st)
            && st.conditions.is_empty()
            && granting(st, action, false).is_some()
            && (covers_self(p, st, s).is_some()
                || s.role.is_none()
                    && st.resources.iter().any(|r| {
                        r.value
                            .known()
                            .is_some_and(|k| k.starts_with("arn:") && k.contains(":role/"))
                    }))
    })
}

/// A statement granting only to roles that carry a given permissions boundary
/// (`iam:PermissionsBoundary` under a positive operator, no `IfExists`): the actions that do not
/// support the key never match, and a role it does match is capped by that boundary, the
/// documented guard.
fn boundary_guarded(st: &Statement) -> bool {
    st.conditions.iter().any(|c| {
        let op = crate::model::Operator::parse(&c.operator.value);
        // (the boundary named exactly, a customer-managed policy, or a reference to one (`!Ref
        // Boundary`, a parameter): `*` or `AdministratorAccess` lets the role give itself a
        // boundary that caps nothing; `ForAllValues:` holds when the key is absent)
        let exact = !c.values.is_empty()
            && c.values.iter().all(|v| match v.value.known() {
                Some(k) => {
                    !k.contains(['*', '?'])
                        && k.contains(":policy/")
                        && !k.contains(":iam::aws:policy/")
                }
                None => matches!(
                    v.value.parts.as_slice(),
                    [crate::source::tree::Part::Unknown(_)]
                ),
            });
        c.key.value.eq_ignore_ascii_case("iam:PermissionsBoundary")
            && !op.if_exists
            && !op.for_all_values
            && !op.base.contains("Not")
            && op.base != "Null"
            && exact
    })
}

/// The actions of `actions` a statement grants (not denied on the role), for a message: the
/// first written grant (the finding's place), their names, and the wildcard granting them.
struct Granted<'s> {
    first: &'s SStr,
    names: String,
    via: String,
}

fn granted<'s>(s: &CiRole, st: &'s Statement, actions: &[&str]) -> Option<Granted<'s>> {
    let granted: Vec<(&str, &SStr)> = actions
        .iter()
        .filter(|a| !denied(s, a))
        .filter_map(|a| granting(st, a, true).map(|g| (*a, g)))
        .collect();
    let first = first_written(granted.iter().map(|(_, g)| *g))?;
    let names = granted
        .iter()
        .map(|(a, _)| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let via = if first.value.display().contains('*') {
        format!(" (through `{}`)", first.value.display())
    } else {
        String::new()
    };
    Some(Granted { first, names, via })
}

impl Rule for PermRoleSelfModification {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        // One finding per statement however many roles it is attached to; a local module's
        // instances (one per caller, the same span) are apart by the policy's owner.
        let mut done: Vec<(usize, crate::source::Span, String)> = Vec::new();
        for s in ctx.ci_roles() {
            for (p, st) in s.allows() {
                if boundary_guarded(st) {
                    continue;
                }
                let Some(res) = covers_self(p, st, s) else {
                    policy_version(ctx, s, p, st, &mut done, out);
                    continue;
                };
                let Some(Granted { first, names, via }) = granted(s, st, SELF_EDIT) else {
                    policy_version(ctx, s, p, st, &mut done, out);
                    continue;
                };
                let key = (p.file, st.span, p.owner.clone());
                if done.contains(&key) {
                    continue;
                }
                done.push(key);
                out.push(
                    Finding::new(META.id, META.severity, p.file, first.span)
                        .message(format!(
                            "{} lets {} call {names}{via} on `{}`, which covers the role itself: {one_run} can widen the role's own trust or grant it more permissions",
                            crate::analysis::permissions::policy_name(p),
                            s.describe,
                            res.value.display(),
                            one_run = s.one_run(),
                        ))
                        .label("can edit its own role")
                        .related(p.file, res.span, "this resource includes the role")
                        .related(s.trust_file, s.trust_span, format!("this trust policy admits {}", s.tokens))
                        .help("restrict the resources to the roles the workflow manages, or add an explicit `Deny` of these actions on the role's own ARN (a permissions boundary works too)"),
                );
            }
            managed(s, &mut done, out);
        }
    }
}

/// `iam:CreatePolicyVersion` on every customer-managed policy (`*`, `arn:…:policy/*`) for a role
/// holding one: a run can write a new default version of that policy, its own permissions,
/// granting anything. (`iam:SetDefaultPolicyVersion` alone only returns to a version that
/// exists.)
const POLICY_VERSION: &[&str] = &["iam:CreatePolicyVersion"];

/// The customer-managed policy the role holds, by how it is named: an `aws_iam_policy`
/// attached to it (Terraform), or an attached ARN outside the `aws` account.
fn customer_managed(s: &CiRole) -> Option<String> {
    s.policies
        .iter()
        .find(|p| p.owner.starts_with("aws_iam_policy.") || p.owner.contains(".aws_iam_policy."))
        .map(|p| format!("`{}`", p.owner))
        .or_else(|| {
            s.managed
                .iter()
                .find(|a| {
                    let v = a.value.flat();
                    v.contains(":policy/") && !v.contains(":iam::aws:policy/")
                })
                .map(|a| format!("`{}`", a.value.display()))
        })
}

/// The known names of the customer-managed policies the scan attaches to the role
/// (`aws_iam_policy` resources with a literal `name`).
fn own_policy_names(ctx: &Ctx<'_>, s: &CiRole) -> Vec<String> {
    ctx.models
        .iter()
        .flat_map(|m| &m.named_policies)
        .filter(|np| {
            ctx.policy(np.policy)
                .is_some_and(|d| s.policies.iter().any(|p| std::ptr::eq(*p, d)))
        })
        .map(|np| np.name.clone())
        .collect()
}

/// A resource of `st` naming one of the role's own customer-managed policies
/// (`arn:aws:iam::*:policy/github-actions-deploy`, a path or a pattern that covers the name).
fn own_policy_resource<'s>(st: &'s Statement, names: &[String]) -> Option<&'s SStr> {
    if st.not_resource || names.is_empty() {
        return None;
    }
    st.resources.iter().find(|r| {
        let Some(arn) = r.value.known() else {
            return false;
        };
        let Some(tail) = arn
            .strip_prefix("arn:")
            .and_then(|a| a.split_once(":policy/"))
            .map(|(_, t)| t)
        else {
            return false;
        };
        names.iter().any(|n| {
            crate::model::glob_match(tail, n)
                || tail
                    .rsplit_once('/')
                    .is_some_and(|(_, last)| crate::model::glob_match(last, n))
        })
    })
}

fn policy_version(
    ctx: &Ctx<'_>,
    s: &CiRole,
    p: &PolicyDoc,
    st: &Statement,
    done: &mut Vec<(usize, crate::source::Span, String)>,
    out: &mut Vec<Finding>,
) {
    // (the cheap checks first: the role's policy names are looked up across the scan)
    let Some(Granted { first, names, via }) = granted(s, st, POLICY_VERSION) else {
        return;
    };
    let Some(own) = customer_managed(s) else {
        return;
    };
    let Some(res) =
        any_policy_resource(st).or_else(|| own_policy_resource(st, &own_policy_names(ctx, s)))
    else {
        return;
    };
    let key = (p.file, st.span, p.owner.clone());
    if done.contains(&key) {
        return;
    }
    done.push(key);
    out.push(
        Finding::new(META.id, META.severity, p.file, first.span)
            .message(format!(
                "{} lets {} call {names}{via} on `{}`, which covers the customer-managed policy {own} attached to the role: {one_run} can rewrite the role's own permissions to allow anything",
                crate::analysis::permissions::policy_name(p),
                s.describe,
                res.value.display(),
                one_run = s.one_run(),
            ))
            .label("can rewrite its own policy")
            .related(p.file, res.span, "this resource includes the role's own policy")
            .related(s.trust_file, s.trust_span, format!("this trust policy admits {}", s.tokens))
            .help("restrict the resources to the policies the workflow manages (not those attached to this role), or add an explicit `Deny` of these actions on the role's own policies"),
    );
}

/// Attached AWS-managed policies judged by their contents: the escalation shapes each grants
/// (one finding per attachment), and `cloudformation:*` with `iam:PassRole` granted by two of
/// them together. `AdministratorAccess` (every action) is left to `perm-admin-access`.
fn managed(
    s: &crate::analysis::permissions::CiRole,
    done: &mut Vec<(usize, crate::source::Span, String)>,
    out: &mut Vec<Finding>,
) {
    use crate::analysis::managed_policies::{
        EscalationKind, cloudformation_pass_role, lookup_template,
    };
    let attached: Vec<_> = s
        .managed
        .iter()
        .filter_map(|a| lookup_template(&a.value).map(|p| (*a, p)))
        .filter(|(_, p)| !p.grants_every_action())
        .collect();
    let mut push = |arn: &crate::model::Attached, what: String, done: &mut Vec<_>| {
        let file = arn.file;
        // (one line may attach several policies: each is judged)
        let key = (
            file,
            arn.span,
            format!("{}\u{0}{}", s.describe, arn.value.display()),
        );
        if done.contains(&key) {
            return;
        }
        done.push(key);
        out.push(
            Finding::new(META.id, META.severity, file, arn.span)
                .message(format!(
                    "{} can be assumed from {assumed_by} and has `{}` attached, which {what}: {one_run} can widen the role's own trust or permissions",
                    s.describe,
                    arn.value.display(),
                            assumed_by = s.assumed_by,
                            one_run = s.one_run(),
                        ))
                .label("can edit its own role")
                .related(s.trust_file, s.trust_span, format!("this trust policy admits {}", s.tokens))
                .help("replace the managed policy with one scoped to the resources the workflow manages, or add an explicit `Deny` of these actions on the role's own ARN (a permissions boundary works too)"),
        );
    };
    for (arn, p) in &attached {
        let what: Vec<String> = p
            .escalation()
            .into_iter()
            .filter(|e| e.kind != EscalationKind::NotActionAllow && !denied(s, e.action))
            .map(|e| format!("{} ({})", e.kind.describe(), e.explain()))
            .collect();
        if !what.is_empty() {
            push(arn, what.join("; "), done);
        }
    }
    // Two policies together: one deploys stacks, the other passes any role to CloudFormation.
    let policies: Vec<_> = attached.iter().map(|(_, p)| *p).collect();
    if policies.len() > 1
        && !policies
            .iter()
            .any(|p| cloudformation_pass_role(&[p]).is_some())
        && !denied(s, "iam:PassRole")
        && let Some(e) = cloudformation_pass_role(&policies)
        && let Some((arn, passer)) = attached.iter().find(|(_, p)| {
            p.statements
                .iter()
                .any(|st| st.allow && st.applies_to("iam:PassRole"))
        })
    {
        let others: Vec<String> = attached
            .iter()
            .filter(|(_, p)| !std::ptr::eq(*p, *passer))
            .map(|(_, p)| format!("`{}`", p.name))
            .collect();
        push(
            arn,
            format!(
                "together with {} {} ({})",
                others.join(", "),
                e.kind.describe(),
                e.grant
            ),
            done,
        );
    }
}
