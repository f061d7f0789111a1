use super::{Ctx, Rule, RuleMeta};
use crate::analysis::trust::{editable, sub_span};
use crate::diag::{Edit, Finding, Fix, Severity};

pub struct TrustWrongAction;
pub static RULE: TrustWrongAction = TrustWrongAction;
static META: RuleMeta = crate::rule_meta!(
    "trust-wrong-action",
    Error,
    "A statement trusting a CI issuer's OIDC provider allows an action other than `sts:AssumeRoleWithWebIdentity`",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    true
);

const WEB_IDENTITY: &str = "sts:AssumeRoleWithWebIdentity";
/// Actions that may accompany web identity in a trust statement without harm.
const COMPANIONS: &[&str] = &[WEB_IDENTITY, "sts:TagSession", "sts:SetSourceIdentity"];

impl Rule for TrustWrongAction {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        // Policies where some GitHub statement does allow web identity: the role is usable.
        let usable: std::collections::HashSet<*const crate::model::PolicyDoc> = ctx
            .ci_trusts()
            .iter()
            .filter(|t| t.allows_web_identity())
            .map(|t| t.policy as *const _)
            .collect();
        let pr_policies = std::cell::OnceCell::new();
        for t in ctx.ci_trusts() {
            let s = t.statement;
            let provider = t.provider_words();
            let (tokens, nobody) = if t.ci.is_github() {
                ("GitHub tokens".to_string(), "no workflow".to_string())
            } else {
                (
                    format!("{} tokens", t.ci.name),
                    format!("no {} job", t.ci.name),
                )
            };
            if s.not_action || s.actions.is_empty() {
                continue;
            }
            let src = ctx.file(t.policy.file);
            let companion = |a: &crate::model::SStr| {
                a.value
                    .known()
                    .is_some_and(|k| COMPANIONS.iter().any(|c| c.eq_ignore_ascii_case(&k)))
            };
            if !t.allows_web_identity() && usable.contains(&(t.policy as *const _)) {
                // A statement of its own for `sts:TagSession` (often with `aws:RequestTag`
                // conditions) beside the one allowing web identity: a common, correct split.
                if s.actions.iter().all(companion) {
                    continue;
                }
                for a in s.actions.iter().filter(|a| !companion(a)) {
                    out.push(
                        Finding::new(META.id, Severity::Warning, t.policy.file, a.span)
                            .message(format!(
                                "{} trusts {provider} in a statement allowing only `{}`; a federated principal can only use web identity (another statement allows it), so this statement is noise that analyzers flag as a mismatched action",
                                t.policy.owner,
                                a.value.display()
                            ))
                            .label("a federated principal never uses this action")
                            .help(format!("remove the statement, or merge its conditions into the one allowing `{WEB_IDENTITY}`")),
                    );
                }
                continue;
            }
            if !t.allows_web_identity() {
                let names: Vec<String> = s
                    .actions
                    .iter()
                    .map(|a| format!("`{}`", a.value.display()))
                    .collect();
                // The one mechanical case: a lone `sts:AssumeRole`. The edit makes a closed
                // statement usable, so only when its conditions name exact subjects (it must
                // not open the role to whatever loose conditions would admit).
                let fix = match s.actions.as_slice() {
                    [a] if a
                        .value
                        .known()
                        .is_some_and(|k| k.eq_ignore_ascii_case("sts:AssumeRole"))
                        && t.ci.is_github()
                        && editable(s.statement_block.as_ref())
                        && super::narrow::exact_scope(
                            ctx,
                            t,
                            pr_policies.get_or_init(|| super::narrow::pull_request_policies(ctx)),
                        ) =>
                    {
                        let k = a.value.known().unwrap_or_default();
                        sub_span(src, a.span, &k).map(|span| Fix {
                            description: format!("change `{k}` to `{WEB_IDENTITY}`"),
                            safe: true,
                            edits: vec![Edit {
                                file: t.policy.file,
                                span,
                                replacement: WEB_IDENTITY.into(),
                            }],
                        })
                    }
                    _ => None,
                };
                let span = s.action_span.unwrap_or(s.span);
                out.push(
                    Finding::new(META.id, META.severity, t.policy.file, span)
                        .message(format!(
                            "{} trusts {provider} but allows only {}: {tokens} are exchanged with `{WEB_IDENTITY}`, so {nobody} can assume the role",
                            t.policy.owner,
                            names.join(", ")
                        ))
                        .label("not the action a federated principal uses")
                        .help(format!("use `\"Action\": \"{WEB_IDENTITY}\"` (`sts:TagSession` beside it is harmless)"))
                        .fix(fix),
                );
                continue;
            }
            for a in &s.actions {
                let Some(k) = a.value.known() else { continue };
                if COMPANIONS.iter().any(|c| c.eq_ignore_ascii_case(&k)) {
                    continue;
                }
                out.push(
                    Finding::new(META.id, Severity::Warning, t.policy.file, a.span)
                        .message(format!(
                            "{} trusts {provider} with `{k}` beside `{WEB_IDENTITY}`; a federated principal can only use web identity, so `{k}` is noise that analyzers flag as a mismatched action",
                            t.policy.owner
                        ))
                        .label("not used by a federated principal")
                        .help(format!("allow exactly `{WEB_IDENTITY}` (optionally `sts:TagSession`)")),
                );
            }
        }
    }
}
