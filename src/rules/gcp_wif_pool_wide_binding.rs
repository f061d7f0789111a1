use super::{Ctx, Rule, RuleMeta};
use crate::analysis::gcp::PoolMember;
use crate::diag::{Finding, Severity};

pub struct GcpWifPoolWideBinding;
pub static RULE: GcpWifPoolWideBinding = GcpWifPoolWideBinding;
static META: RuleMeta = crate::rule_meta!(
    "gcp-wif-pool-wide-binding",
    Error,
    "An IAM member `principalSet://…/POOL/*` grants a role to every identity of a workload identity pool",
    ["terraform"],
    false
);

impl Rule for GcpWifPoolWideBinding {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let view = ctx.gcp();
        for (mem, pm) in &view.members {
            let Ok(pm) = pm else { continue };
            if pm.what != PoolMember::All {
                continue;
            }
            let provs = view.providers_of(mem, pm);
            let open = provs.iter().find(|p| p.admits_foreign() == Some(true));
            let role = mem
                .role
                .as_ref()
                .map(|r| format!("`{}`", r.value.display()))
                .unwrap_or_else(|| "its role".into());
            let mut f = Finding::new(META.id, META.severity, mem.file, mem.member.span)
                .label("every identity of the pool")
                .help("bind the repositories (or subjects) that need the role: `principalSet://…/POOL/attribute.repository/OWNER/REPO` with `attribute.repository` mapped from `assertion.repository`, or `principal://…/POOL/subject/SUBJECT`");
            match open {
                Some(p) => {
                    let iss = p.issuer.map(|i| i.name).unwrap_or("the issuer");
                    f = f
                        .message(format!(
                            "`{}` grants {role} to every identity of the pool, and provider `{}` admits tokens of any {iss} {}: any of them gets the role",
                            mem.owner,
                            p.p.owner,
                            p.issuer.map(|i| i.tenant).unwrap_or("tenant")
                        ))
                        .related(p.p.file, p.p.header, "this provider admits foreign tokens");
                }
                None => {
                    f.severity = Severity::Warning;
                    f = f.message(format!(
                        "`{}` grants {role} to every identity of the pool: every repository and workflow the provider's condition admits gets it, now and later",
                        mem.owner
                    ));
                }
            }
            out.push(f);
        }
    }
}
