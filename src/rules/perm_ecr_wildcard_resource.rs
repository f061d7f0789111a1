use super::{Ctx, Rule, RuleMeta};
use crate::analysis::permissions::{granting, star_resource, unique_policies};
use crate::diag::Finding;

pub struct PermEcrWildcardResource;
pub static RULE: PermEcrWildcardResource = PermEcrWildcardResource;
static META: RuleMeta = crate::rule_meta!(
    "perm-ecr-wildcard-resource",
    Warning,
    "A role a CI issuer (GitHub Actions, HCP Terraform, GitLab, …) can assume may push images to every ECR repository (push actions on `Resource: \"*\"`)",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    false
);

/// Actions that write images (the upload half of `docker push`). `ecr:GetAuthorizationToken`
/// is not among them: it must be on `*`.
pub const ECR_WRITE: &[&str] = &[
    "ecr:PutImage",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr-public:PutImage",
    "ecr-public:InitiateLayerUpload",
    "ecr-public:UploadLayerPart",
    "ecr-public:CompleteLayerUpload",
];

impl Rule for PermEcrWildcardResource {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let subjects = ctx.ci_roles();
        for (p, s) in unique_policies(subjects) {
            for st in &p.statements {
                // Conditions (resource tags, …) may scope the resources: not judged.
                if !st.is_allow() || !st.conditions.is_empty() {
                    continue;
                }
                let Some(res) = star_resource(st) else {
                    continue;
                };
                let Some(action) = ECR_WRITE.iter().find_map(|a| granting(st, a, true)) else {
                    continue;
                };
                let public = action
                    .value
                    .display()
                    .to_ascii_lowercase()
                    .starts_with("ecr-public:");
                let example = if public {
                    "arn:aws:ecr-public::123456789012:repository/NAME"
                } else {
                    "arn:aws:ecr:REGION:123456789012:repository/NAME"
                };
                out.push(
                    Finding::new(META.id, META.severity, p.file, res.span)
                        .message(format!(
                            "{} allows `{}` on every ECR repository for {}, which {assumed_by} can assume: {a_run} can overwrite any image in the account",
                            crate::analysis::permissions::policy_name(p),
                            action.value.display(),
                            s.describe,
                            assumed_by = s.assumed_by,
                            a_run = s.a_run(),
                        ))
                        .label("every repository")
                        .related(p.file, action.span, "image push action")
                        .related(s.trust_file, s.trust_span, format!("this trust policy admits {}", s.tokens))
                        .help(format!(
                            "scope the push actions to the repositories the workflow pushes to (`{example}`); keep `ecr:GetAuthorizationToken` in its own statement on `*`"
                        )),
                );
            }
        }
    }
}
