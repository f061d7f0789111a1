use super::{Ctx, Rule, RuleMeta};
use crate::analysis::trust::{editable, sub_span};
use crate::diag::{Edit, Finding, Fix};
use crate::source::tree::Part;

pub struct TrustStringEqualsWildcard;
pub static RULE: TrustStringEqualsWildcard = TrustStringEqualsWildcard;
static META: RuleMeta = crate::rule_meta!(
    "trust-stringequals-wildcard",
    Warning,
    "A `*` or `?` in a `StringEquals` value of a GitHub claim is compared literally: the condition never matches",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    true
);

/// Claims whose real values never contain `*` or `?` (git refs and GitHub names cannot).
const CLAIMS: &[&str] = &["sub", "aud", "job_workflow_ref", "repository", "ref"];

impl Rule for TrustStringEqualsWildcard {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for t in ctx.trusts() {
            for claim in CLAIMS {
                for c in t.claim_conditions(claim) {
                    let op = c.op();
                    if !op.is_equals() {
                        continue;
                    }
                    for v in &c.values {
                        let wild = v.value.parts.iter().any(|p| match p {
                            Part::Lit(l) => l.contains(['*', '?']),
                            Part::Unknown(_) => false,
                        });
                        if !wild {
                            continue;
                        }
                        let src = ctx.file(t.policy.file);
                        // `StringEquals` → `StringLike` in place, when it changes nothing else:
                        // the other values of the block have no wildcard, and no `StringLike`
                        // block exists already (renaming would duplicate the key).
                        let target = c.operator.value.replacen("StringEquals", "StringLike", 1);
                        let clash = t.statement.conditions.iter().any(|o| {
                            o.operator.value == target && o.operator.span != c.operator.span
                        });
                        let same_block_ok = t
                            .statement
                            .conditions
                            .iter()
                            .filter(|o| o.operator.span == c.operator.span)
                            .all(|o| {
                                o.values.iter().all(|ov| {
                                    std::ptr::eq(ov, v)
                                        || ov.value.known().is_some_and(|k| !k.contains(['*', '?']))
                                        || o.key.span == c.key.span
                                })
                            });
                        let fix = (op.base == "StringEquals"
                            && !clash
                            && same_block_ok
                            && editable(c.operator_block.as_ref()))
                        .then(|| sub_span(src, c.operator.span, "StringEquals"))
                        .flatten()
                        .map(|span| Fix {
                            description: format!("change `{}` to `{target}`", c.operator.value),
                            // Makes the pattern live: it may open the role wider than intended.
                            safe: false,
                            edits: vec![Edit {
                                file: t.policy.file,
                                span,
                                replacement: "StringLike".into(),
                            }],
                        });
                        out.push(
                            Finding::new(META.id, META.severity, t.policy.file, v.span)
                                .message(format!(
                                    "`{}` compares `{}` literally, so `{}` never matches a real token: the condition is broken (not open) and no workflow can assume {}",
                                    c.operator.value,
                                    v.value.display(),
                                    c.key.value,
                                    t.policy.owner
                                ))
                                .label("`*` and `?` are plain characters under this operator")
                                .related(t.policy.file, c.operator.span, "literal comparison")
                                .help("if the wildcard is intended, use `StringLike`, then check how wide the pattern is; otherwise write the exact value")
                                .fix(fix),
                        );
                    }
                }
            }
        }
    }
}
