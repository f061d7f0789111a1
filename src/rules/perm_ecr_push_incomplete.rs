use super::{Ctx, Rule, RuleMeta};
use crate::analysis::permissions::{CiRole, granting};
use crate::diag::Finding;

pub struct PermEcrPushIncomplete;
pub static RULE: PermEcrPushIncomplete = PermEcrPushIncomplete;
static META: RuleMeta = crate::rule_meta!(
    "perm-ecr-push-incomplete",
    Warning,
    "A role a CI issuer (GitHub Actions, HCP Terraform, GitLab, …) can assume has some but not all of the ECR actions `docker push` needs",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

/// One registry flavour: the layer-upload actions that show the role is meant to push, and
/// everything a push needs (amazon-ecr-login README, "Permissions").
struct Registry {
    name: &'static str,
    upload: &'static [&'static str],
    needed: &'static [&'static str],
}

const REGISTRIES: &[Registry] = &[
    Registry {
        name: "ECR",
        upload: &[
            "ecr:InitiateLayerUpload",
            "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload",
        ],
        needed: &[
            "ecr:GetAuthorizationToken",
            "ecr:BatchCheckLayerAvailability",
            "ecr:InitiateLayerUpload",
            "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload",
            "ecr:PutImage",
        ],
    },
    Registry {
        name: "ECR Public",
        upload: &[
            "ecr-public:InitiateLayerUpload",
            "ecr-public:UploadLayerPart",
            "ecr-public:CompleteLayerUpload",
        ],
        needed: &[
            "ecr-public:GetAuthorizationToken",
            "sts:GetServiceBearerToken",
            "ecr-public:BatchCheckLayerAvailability",
            "ecr-public:InitiateLayerUpload",
            "ecr-public:UploadLayerPart",
            "ecr-public:CompleteLayerUpload",
            "ecr-public:PutImage",
        ],
    },
];

/// Would any Allow statement of the subject grant `action`? Unknown action elements count as
/// granting (a `${var.actions}` list may hold it).
fn granted(s: &CiRole, action: &str) -> bool {
    s.statements()
        .any(|(_, st)| st.is_allow() && st.allows_action(action))
}

impl Rule for PermEcrPushIncomplete {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for s in ctx.ci_roles() {
            // A managed policy's contents are unknown here: it may hold the rest.
            if !s.managed.is_empty() {
                continue;
            }
            for reg in REGISTRIES {
                // The statement showing the push intent: the first layer-upload grant.
                let Some((p, a)) = s.allows().find_map(|(p, st)| {
                    reg.upload
                        .iter()
                        .find_map(|u| granting(st, u, true))
                        .map(|a| (p, a))
                }) else {
                    continue;
                };
                let missing: Vec<&str> = reg
                    .needed
                    .iter()
                    .copied()
                    .filter(|n| !granted(s, n))
                    .collect();
                if missing.is_empty() {
                    continue;
                }
                let list = missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                out.push(
                    Finding::new(META.id, META.severity, p.file, a.span)
                        .message(format!(
                            "{} can upload {} image layers (`{}` in {}) but lacks {list}: `docker push` fails part-way",
                            s.describe,
                            reg.name,
                            a.value.display(),
                            crate::analysis::permissions::policy_name(p)
                        ))
                        .label("the role is meant to push")
                        .related(s.trust_file, s.trust_span, format!("this trust policy admits {}", s.tokens))
                        .help(format!(
                            "a push needs {}; the token action on `*`, the others on the repository ARN",
                            reg.needed
                                .iter()
                                .map(|m| format!("`{m}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                );
            }
        }
    }
}
