use super::{Ctx, Rule, RuleMeta};
use crate::analysis::gcp::PoolMember;
use crate::analysis::gcp_cel::{E, Ns};
use crate::diag::Finding;

pub struct GcpWifSubjectTooCoarse;
pub static RULE: GcpWifSubjectTooCoarse = GcpWifSubjectTooCoarse;
static META: RuleMeta = crate::rule_meta!(
    "gcp-wif-subject-too-coarse",
    Warning,
    "`google.subject` is mapped from an owner- or namespace-level claim and bound as one `principal://…/subject/…`: every repository of the owner is that principal",
    ["terraform"],
    false
);

impl Rule for GcpWifSubjectTooCoarse {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let view = ctx.gcp();
        for p in &view.providers {
            let Some(iss) = p.issuer else { continue };
            let Some(me) = p.mapped(Ns::Google, "subject") else {
                continue;
            };
            let Some(E::Var(Ns::Assertion, claim)) = &me.expr else {
                continue;
            };
            if !iss.owner_claims.contains(&claim.as_str()) {
                continue;
            }
            let bound: Vec<_> = view
                .members
                .iter()
                .filter_map(|(mem, pm)| {
                    let pm = pm.as_ref().ok()?;
                    let PoolMember::Subject(v) = &pm.what else {
                        return None;
                    };
                    view.providers_of(mem, pm)
                        .iter()
                        .any(|x| std::ptr::eq(x.p, p.p))
                        .then_some((mem, v))
                })
                .collect();
            let Some((first, v)) = bound.first() else {
                continue;
            };
            let mut f = Finding::new(META.id, META.severity, p.p.file, me.value_span)
                .message(format!(
                    "provider `{}` maps `google.subject` from `assertion.{claim}`, and `{}` binds subject `{}`: every repository and workflow of that {} is this one principal",
                    p.p.owner,
                    first.owner,
                    v.pattern(),
                    iss.tenant
                ))
                .label(format!("one principal for a whole {}", iss.tenant))
                .help("map `google.subject` from `assertion.sub` and add `attribute.repository` = `assertion.repository`; bind `principalSet://…/attribute.repository/OWNER/REPO` for the repositories that need the role");
            for (mem, v) in &bound {
                f = f.related(
                    mem.file,
                    mem.member.span,
                    format!("binds subject `{}`", v.pattern()),
                );
            }
            out.push(f);
        }
    }
}
