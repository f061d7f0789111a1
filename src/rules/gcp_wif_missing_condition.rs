use super::{Ctx, Rule, RuleMeta};
use crate::analysis::gcp::Cond;
use crate::diag::Finding;

pub struct GcpWifMissingCondition;
pub static RULE: GcpWifMissingCondition = GcpWifMissingCondition;
static META: RuleMeta = crate::rule_meta!(
    "gcp-wif-missing-condition",
    Error,
    "A Google Cloud workload identity provider for a shared CI issuer has no `attribute_condition` restricting the owner, repository or namespace",
    ["terraform"],
    false
);

impl Rule for GcpWifMissingCondition {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for p in &ctx.gcp().providers {
            let Some(iss) = p.issuer else { continue };
            if p.admits_foreign() != Some(true) {
                continue;
            }
            let tenant = iss.tenant;
            let (span, msg, label) = match &p.cond {
                Cond::Parsed(_, span) => (
                    *span,
                    format!(
                        "the `attribute_condition` of `{}` does not restrict the {tenant}: every {} {tenant} can exchange tokens in this pool",
                        p.p.owner, iss.name
                    ),
                    format!("admits tokens of any {} {tenant}", iss.name),
                ),
                _ => (
                    match &p.p.condition {
                        crate::model::GcpCondition::Absent(Some(at)) => *at,
                        _ => p.p.header,
                    },
                    format!(
                        "`{}` trusts {} ({}) without an `attribute_condition`: every {} {tenant} can exchange tokens in this pool",
                        p.p.owner, iss.name, iss.url, iss.name
                    ),
                    "no `attribute_condition`".to_string(),
                ),
            };
            let mut f = Finding::new(META.id, META.severity, p.p.file, span)
                .message(msg)
                .label(label)
                .help(format!(
                    "since late 2024 Google refuses to create a provider for the shared issuer of {} without a condition, so new code fails to apply; an existing provider keeps admitting every {tenant}. Add a condition pinning the {tenant}, by id where the token has one (e.g. `assertion.{} == '…'`)",
                    iss.name,
                    iss.id_claims.first().copied().unwrap_or("sub")
                ));
            if let Some(i) = &p.p.issuer {
                f = f.related(
                    p.p.file,
                    i.span,
                    "a shared issuer: one issuer for every tenant",
                );
            }
            out.push(f);
        }
    }
}
