use super::{Ctx, Rule, RuleMeta};
use crate::analysis::gcp::{basic_role, member_service_account};
use crate::diag::Finding;
use crate::model::GcpTarget;

pub struct GcpSaBasicRole;
pub static RULE: GcpSaBasicRole = GcpSaBasicRole;
static META: RuleMeta = crate::rule_meta!(
    "gcp-sa-basic-role",
    Warning,
    "A service account reachable through workload identity federation holds the basic role `roles/owner` or `roles/editor`",
    ["terraform"],
    false
);

impl Rule for GcpSaBasicRole {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let view = ctx.gcp();
        let reachable = view.reachable_accounts();
        // workload identities granted a basic role directly (direct resource access)
        for (grant, pm) in &view.members {
            if pm.is_err() {
                continue;
            }
            let Some(role) = grant.role.as_ref().and_then(|r| r.value.known()) else {
                continue;
            };
            if !basic_role(&role) {
                continue;
            }
            let r = grant
                .role
                .as_ref()
                .map(|r| r.span)
                .unwrap_or(grant.member.span);
            out.push(
                Finding::new(META.id, META.severity, grant.file, r)
                    .message(format!(
                        "`{}` gives `{role}` directly to workload identities (`{}`): a compromised workflow controls the whole {}",
                        grant.owner,
                        grant.member.value.display(),
                        scope(&grant.target)
                    ))
                    .label(format!("basic role `{role}`"))
                    .related(grant.file, grant.member.span, "federated CI identities")
                    .help("grant predefined roles for what the pipeline deploys (e.g. `roles/run.developer`, `roles/artifactregistry.writer`) instead of a basic role"),
            );
        }
        for grant in &view.all_members {
            let Some(role) = grant.role.as_ref().and_then(|r| r.value.known()) else {
                continue;
            };
            if !basic_role(&role) || matches!(grant.target, GcpTarget::ServiceAccount(_)) {
                continue;
            }
            let Some(sa) = member_service_account(&grant.member.value) else {
                continue;
            };
            let Some((_, via)) = reachable.iter().find(|(k, _)| *k == sa) else {
                continue;
            };
            let r = grant
                .role
                .as_ref()
                .map(|r| r.span)
                .unwrap_or(grant.member.span);
            out.push(
                Finding::new(META.id, META.severity, grant.file, r)
                    .message(format!(
                        "`{}` gives `{role}` to service account `{sa}`, which CI jobs impersonate through workload identity federation: a compromised workflow controls the whole {}",
                        grant.owner,
                        scope(&grant.target)
                    ))
                    .label(format!("basic role `{role}`"))
                    .related(via.file, via.member.span, "workload identities may impersonate this service account")
                    .help("grant predefined roles for what the pipeline deploys (e.g. `roles/run.developer`, `roles/artifactregistry.writer`) instead of a basic role"),
            );
        }
    }
}

fn scope(t: &GcpTarget) -> String {
    match t {
        GcpTarget::Project => "project".to_string(),
        GcpTarget::Resource(ty) => format!("`{ty}` resource"),
        GcpTarget::ServiceAccount(_) => "service account".to_string(),
    }
}
