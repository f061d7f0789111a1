use super::{Ctx, Rule, RuleMeta};
use crate::diag::Finding;
use crate::source::tree::Part;

pub struct TrustStringEqualsWildcard;
pub static RULE: TrustStringEqualsWildcard = TrustStringEqualsWildcard;
static META: RuleMeta = crate::rule_meta!(
    "trust-stringequals-wildcard",
    Warning,
    "A `*` or `?` in a `StringEquals` value of a CI issuer's claim is compared literally: the condition never matches",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

/// Claims whose real values never contain `*` or `?` (git refs and GitHub names cannot).
const CLAIMS: &[&str] = &["sub", "aud", "job_workflow_ref", "repository", "ref"];

impl Rule for TrustStringEqualsWildcard {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for t in ctx.ci_trusts() {
            let claims: &[&str] = if t.ci.is_github() {
                CLAIMS
            } else {
                &["sub", "aud"]
            };
            let who = if t.ci.is_github() {
                "no workflow".to_string()
            } else {
                format!("no {} job", t.ci.name)
            };
            for claim in claims {
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
                        // No automatic edit: the condition matches nothing today, and any
                        // rewrite that makes the pattern live (`StringLike`) opens a closed role
                        // to whatever the pattern admits (`*`, `repo:*`, `repo:acme*` admit
                        // every repository). The intended exact value is unknowable here.
                        out.push(
                            Finding::new(META.id, META.severity, t.policy.file, v.span)
                                .message(format!(
                                    "`{}` compares `{}` literally, so `{}` never matches a real token: the condition is broken (not open) and {who} can assume {}",
                                    c.operator.value,
                                    v.value.display(),
                                    c.key.value,
                                    t.policy.owner
                                ))
                                .label("`*` and `?` are plain characters under this operator")
                                .related(t.policy.file, c.operator.span, "literal comparison")
                                .help("write the exact value; if the wildcard is intended, use `StringLike` and check how wide the pattern is first (oidc-lint does not make a closed condition live)"),
                        );
                    }
                }
            }
        }
    }
}
