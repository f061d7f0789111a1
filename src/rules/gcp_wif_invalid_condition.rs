use super::{Ctx, Rule, RuleMeta};
use crate::analysis::gcp::Cond;
use crate::analysis::gcp_cel::Ns;
use crate::diag::Finding;

pub struct GcpWifInvalidCondition;
pub static RULE: GcpWifInvalidCondition = GcpWifInvalidCondition;
static META: RuleMeta = crate::rule_meta!(
    "gcp-wif-invalid-condition",
    Error,
    "An `attribute_condition` is not valid CEL, not boolean, or reads attributes `attribute_mapping` does not define",
    ["terraform"],
    false
);

impl Rule for GcpWifInvalidCondition {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for p in &ctx.gcp().providers {
            let push = |out: &mut Vec<Finding>, span, why: String| {
                out.push(
                    Finding::new(META.id, META.severity, p.p.file, span)
                        .message(format!("the `attribute_condition` of `{}` is rejected by Google: {why}", p.p.owner))
                        .label("invalid condition")
                        .help("write a boolean CEL expression over `assertion.*`, `google.subject` and the `attribute.*` names `attribute_mapping` defines"),
                )
            };
            for me in p.mapping.iter().flatten() {
                if let Some(err) = &me.error {
                    push(
                        out,
                        me.value_span,
                        format!("the mapping of `{}` is not valid CEL ({err})", me.key),
                    );
                }
            }
            match &p.cond {
                Cond::Invalid(why, span) => push(out, *span, why.clone()),
                Cond::Parsed(e, span) => {
                    if e.surely_not_bool() {
                        push(out, *span, "it is not a boolean expression".into());
                        continue;
                    }
                    if p.mapping.is_none() {
                        continue;
                    }
                    let mut vars = Vec::new();
                    e.vars(&mut vars);
                    vars.sort();
                    vars.dedup();
                    for (ns, name) in vars {
                        if ns == Ns::Assertion || p.mapped(ns, &name).is_some() {
                            continue;
                        }
                        let full = match ns {
                            Ns::Google => format!("google.{name}"),
                            _ => format!("attribute.{name}"),
                        };
                        let mut f_why =
                            format!("it reads `{full}`, which `attribute_mapping` does not define");
                        if ns == Ns::Attribute {
                            f_why.push_str(&format!(" (map it, e.g. `\"{full}\" = \"assertion.{name}\"`, or read `assertion.{name}`)"));
                        }
                        push(out, *span, f_why);
                    }
                }
                _ => {}
            }
        }
    }
}
