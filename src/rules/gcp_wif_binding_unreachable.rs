use super::{Ctx, Rule, RuleMeta};
use crate::analysis::eval::Tri;
use crate::analysis::gcp::PoolMember;
use crate::diag::Finding;

pub struct GcpWifBindingUnreachable;
pub static RULE: GcpWifBindingUnreachable = GcpWifBindingUnreachable;
static META: RuleMeta = crate::rule_meta!(
    "gcp-wif-binding-unreachable",
    Warning,
    "A workload identity member names a subject or attribute value that the pool's providers never admit",
    ["terraform"],
    false
);

impl Rule for GcpWifBindingUnreachable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let view = ctx.gcp();
        for (mem, pm) in &view.members {
            let Ok(pm) = pm else { continue };
            let (what, name) = match &pm.what {
                PoolMember::Subject(v) => (
                    format!("subject `{}`", v.pattern()),
                    "google.subject".to_string(),
                ),
                PoolMember::Attribute(n, v) => (
                    format!("`attribute.{n}` = `{}`", v.pattern()),
                    format!("attribute.{n}"),
                ),
                _ => continue,
            };
            let (reach, provs) = view.member_reachable(mem, pm);
            if reach != Tri::False {
                continue;
            }
            let p = provs[0];
            let mut f = Finding::new(META.id, META.severity, mem.file, mem.member.span)
                .label("no admitted token presents this")
                .help("bind a value the provider admits, or widen the condition if this identity should have access");
            let mapped = p.mapped(
                if name == "google.subject" {
                    crate::analysis::gcp_cel::Ns::Google
                } else {
                    crate::analysis::gcp_cel::Ns::Attribute
                },
                name.split_once('.').map(|x| x.1).unwrap_or(""),
            );
            match (mapped, &p.cond) {
                (None, _) => {
                    f = f
                        .message(format!(
                            "`{}` grants a role to {what}, but provider `{}` does not map `{name}`: no token carries it, so the grant is dead",
                            mem.owner, p.p.owner
                        ))
                        .related(p.p.file, p.p.mapping_span, format!("`attribute_mapping` has no `{name}`"));
                }
                (Some(_), crate::analysis::gcp::Cond::Parsed(_, span)) => {
                    f = f
                        .message(format!(
                            "`{}` grants a role to {what}, which the `attribute_condition` of provider `{}` always rejects: the grant is dead",
                            mem.owner, p.p.owner
                        ))
                        .related(p.p.file, *span, "this condition rejects every token presenting it");
                }
                _ => continue,
            }
            out.push(f);
        }
    }
}
