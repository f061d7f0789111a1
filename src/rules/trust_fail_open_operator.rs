use super::{Ctx, Rule, RuleMeta};
use crate::analysis::trust::{editable, sub_span};
use crate::diag::{Edit, Finding, Fix, Severity};
use crate::model::{Condition, Operator};

pub struct TrustFailOpenOperator;
pub static RULE: TrustFailOpenOperator = TrustFailOpenOperator;
static META: RuleMeta = crate::rule_meta!(
    "trust-fail-open-operator",
    Error,
    "`…IfExists`, `ForAllValues:` or a negated operator on a CI issuer's claim passes when the claim is absent",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    true
);

fn negated(op: &Operator) -> bool {
    let b = op.base.to_ascii_lowercase();
    b.contains("not") && b != "null"
}

/// The operator without `ForAllValues:` and `IfExists`.
fn plain_name(raw: &str) -> String {
    let mut s = raw.trim();
    if let Some((q, rest)) = s.split_once(':')
        && q.eq_ignore_ascii_case("ForAllValues")
    {
        s = rest;
    }
    if s.to_ascii_lowercase().ends_with("ifexists") {
        s = &s[..s.len() - "IfExists".len()];
    }
    s.to_string()
}

impl Rule for TrustFailOpenOperator {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for t in ctx.ci_trusts() {
            if !t.can_admit() {
                continue;
            }
            let token_of = if t.ci.is_github() {
                "GitHub".to_string()
            } else {
                t.ci.name.clone()
            };
            let conds = &t.statement.conditions;
            // (condition blocks of one `aws_iam_policy_document` statement with the same `test`
            // share one operator: a second claim under it is reported at its own key)
            let mut operators_used: Vec<crate::source::Span> = Vec::new();
            for c in conds {
                let Some(claim) = c.claim_of(&t.issuer) else {
                    continue;
                };
                let op = c.op();
                let neg = negated(&op);
                if !(op.if_exists || op.for_all_values || neg) {
                    continue;
                }
                // (a claim in every token of the issuer)
                let present = t.always_present(&claim);
                // `"Null": {"<key>": "false"}` makes the claim mandatory.
                let guarded = conds.iter().any(|g: &Condition| {
                    g.op().base.eq_ignore_ascii_case("Null")
                        && !g.op().if_exists
                        && g.key.value.eq_ignore_ascii_case(&c.key.value)
                        && g.values
                            .iter()
                            .all(|v| v.value.known().as_deref() == Some("false"))
                        && !g.values.is_empty()
                });
                if neg && (present || guarded) && !op.if_exists && !op.for_all_values {
                    // `StringNotLike sub …` beside a positive scope is a real exclusion.
                    continue;
                }
                // A harmless qualifier inside a module's generated policy is not the user's
                // to change (terraform-aws-modules writes `ForAllValues:` on `aud`/`iss`).
                if (present || guarded) && rendered_by_registry_module(&t.policy.owner) {
                    continue;
                }
                let severity = if present || guarded {
                    Severity::Note
                } else {
                    META.severity
                };
                let what = if op.for_all_values {
                    "`ForAllValues:` is true when the key is absent"
                } else if op.if_exists {
                    "`…IfExists` is true when the key is absent"
                } else {
                    "a negated operator is true when the key is absent"
                };
                let consequence = if present {
                    format!(
                        "`{claim}` is in every {token_of} token, so this only adds noise and hides intent"
                    )
                } else if guarded {
                    "a `Null` condition already requires the claim, so nothing fails open".into()
                } else {
                    format!(
                        "tokens without `{claim}` (jobs with no such claim, or a key AWS does not populate) pass this condition"
                    )
                };
                let src = ctx.file(t.policy.file);
                let plain = plain_name(&c.operator.value);
                let fix = if !neg && plain != c.operator.value {
                    let clash = conds
                        .iter()
                        .any(|o| o.operator.value == plain && o.operator.span != c.operator.span);
                    (!clash && editable(c.operator_block.as_ref()))
                        .then(|| sub_span(src, c.operator.span, c.operator.value.as_str()))
                        .flatten()
                        .map(|span| Fix {
                            description: format!("change `{}` to `{plain}`", c.operator.value),
                            // The plain operator is false when the claim is absent: stricter.
                            safe: true,
                            edits: vec![Edit {
                                file: t.policy.file,
                                span,
                                replacement: plain.clone(),
                            }],
                        })
                } else {
                    None
                };
                let null = super::snippet::condition(
                    ctx,
                    t.policy.file,
                    t.statement,
                    "Null",
                    &c.key.value,
                    "false",
                );
                let help = if neg {
                    format!(
                        "state what is allowed with `StringEquals`/`StringLike` on `{}`, or add `{null}` so the claim must be present",
                        c.key.value
                    )
                } else {
                    format!(
                        "use `{plain}`; it fails closed when the claim is missing (add `{null}` to say so explicitly)"
                    )
                };
                let at = if operators_used.contains(&c.operator.span) {
                    c.key.span
                } else {
                    operators_used.push(c.operator.span);
                    c.operator.span
                };
                out.push(
                    Finding::new(META.id, severity, t.policy.file, at)
                        .message(format!(
                            "`{}` on `{}` in {}: {what}; {consequence}",
                            c.operator.value, c.key.value, t.policy.owner
                        ))
                        .label("fails open when the claim is missing")
                        .related(t.policy.file, c.key.span, "the claim this operator tests")
                        .help(help)
                        .fix(fix),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain() {
        assert_eq!(plain_name("ForAllValues:StringEquals"), "StringEquals");
        assert_eq!(plain_name("StringLikeIfExists"), "StringLike");
        assert_eq!(
            plain_name("ForAnyValue:StringLikeIfExists"),
            "ForAnyValue:StringLike"
        );
        assert!(negated(&Operator::parse("StringNotLike")));
        assert!(!negated(&Operator::parse("Null")));
    }
}

/// A policy a modelled registry module renders (owner `module.oidc` or
/// `module.app.module.oidc`), not a resource of a local module's text
/// (`module.app.aws_iam_role.ci`).
fn rendered_by_registry_module(owner: &str) -> bool {
    let body = owner.split(" (in ").next().unwrap_or(owner);
    // (instance keys may hold dots: `module.oidc["acme.io"]`)
    let mut plain = String::new();
    let mut depth = 0usize;
    for c in body.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    let segs: Vec<&str> = plain.split('.').collect();
    segs.len() >= 2 && segs.len().is_multiple_of(2) && segs.chunks(2).all(|c| c[0] == "module")
}

#[cfg(test)]
mod owner_tests {
    use super::rendered_by_registry_module as r;

    #[test]
    fn registry_module_owners() {
        assert!(r("module.oidc"));
        assert!(r("module.app.module.oidc (in envs/dev)"));
        assert!(!r("module.app.aws_iam_role.ci (in .)"));
        assert!(!r("aws_iam_role.ci"));
        assert!(r("module.oidc[\"acme.io\"]"));
        assert!(!r("module.x.aws_iam_role.this[\"n.m\"]"));
    }
}
