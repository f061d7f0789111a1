use super::{Ctx, Rule, RuleMeta};
use crate::analysis::gcp::Cond;
use crate::diag::Finding;

pub struct GcpWifNameBasedIdentity;
pub static RULE: GcpWifNameBasedIdentity = GcpWifNameBasedIdentity;
static META: RuleMeta = crate::rule_meta!(
    "gcp-wif-name-based-identity",
    Note,
    "A workload identity condition pins the owner or namespace by name where the token carries an immutable id",
    ["terraform"],
    false
);

impl Rule for GcpWifNameBasedIdentity {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for p in &ctx.gcp().providers {
            let Some(iss) = p.issuer else { continue };
            let Cond::Parsed(e, span) = &p.cond else {
                continue;
            };
            if p.admits_foreign() != Some(false) {
                continue; // an open provider is gcp-wif-missing-condition
            }
            let Some(read) = p.claims_read(e) else {
                continue;
            };
            if read.iter().any(|c| iss.id_claims.contains(&c.as_str())) {
                continue;
            }
            let names: Vec<&String> = read
                .iter()
                .filter(|c| iss.tenant_claims.contains(&c.as_str()))
                .collect();
            let Some(first) = names.first() else { continue };
            out.push(
                Finding::new(META.id, META.severity, p.p.file, *span)
                    .message(format!(
                        "the `attribute_condition` of `{}` pins the {} by name (`assertion.{first}`): if it is deleted or renamed, whoever takes the name gets its access",
                        p.p.owner, iss.tenant
                    ))
                    .label("names, not ids")
                    .help(format!(
                        "pin the {} by id as well: `assertion.{} == '…'`",
                        iss.tenant,
                        iss.id_claims[0]
                    )),
            );
        }
    }
}
