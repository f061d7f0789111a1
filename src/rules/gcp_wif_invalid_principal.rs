use super::{Ctx, Rule, RuleMeta};
use crate::diag::Finding;

pub struct GcpWifInvalidPrincipal;
pub static RULE: GcpWifInvalidPrincipal = GcpWifInvalidPrincipal;
static META: RuleMeta = crate::rule_meta!(
    "gcp-wif-invalid-principal",
    Error,
    "A `principal://` or `principalSet://` IAM member naming a workload identity pool is malformed",
    ["terraform"],
    false
);

impl Rule for GcpWifInvalidPrincipal {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for (mem, pm) in &ctx.gcp().members {
            let Err(why) = pm else { continue };
            out.push(
                Finding::new(META.id, META.severity, mem.file, mem.member.span)
                    .message(format!(
                        "`{}` grants a role to `{}`, which names no identity: {why}",
                        mem.owner,
                        mem.member.value.display()
                    ))
                    .label("malformed workload identity member")
                    .help("write `principal://iam.googleapis.com/projects/PROJECT_NUMBER/locations/global/workloadIdentityPools/POOL_ID/subject/SUBJECT` or `principalSet://…/POOL_ID/attribute.NAME/VALUE`"),
            );
        }
    }
}
