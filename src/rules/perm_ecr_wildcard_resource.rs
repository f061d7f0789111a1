use super::{Ctx, Rule, RuleMeta};
use crate::analysis::permissions::{
    context_note, context_only_conditions, every_ecr_repository_resource, first_written, granting,
    star_resource, unique_policies,
};
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
        managed(subjects, out);
        for (p, s) in unique_policies(subjects) {
            for st in &p.statements {
                // Conditions on resource tags and the like may scope the resources: not judged.
                // One on the request's region, source or time does not.
                if !st.is_allow() {
                    continue;
                }
                let Some(context) = context_only_conditions(st) else {
                    continue;
                };
                let Some(res) = star_resource(st).or_else(|| every_ecr_repository_resource(st))
                else {
                    continue;
                };
                let Some(action) =
                    first_written(ECR_WRITE.iter().filter_map(|a| granting(st, a, true)))
                else {
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
                    Finding::new(META.id, META.severity, p.file, action.span)
                        .message(format!(
                            "{} allows `{}` on every ECR repository{} for {}, which {assumed_by} can assume: {a_run} can overwrite any image in the account",
                            crate::analysis::permissions::policy_name(p),
                            action.value.display(),
                            context_note(&context),
                            s.describe,
                            assumed_by = s.assumed_by,
                            a_run = s.a_run(),
                        ))
                        .label("image push action")
                        .related(p.file, res.span, "on every repository")
                        .related(s.trust_file, s.trust_span, format!("this trust policy admits {}", s.tokens))
                        .help(format!(
                            "scope the push actions to the repositories the workflow pushes to (`{example}`); keep `ecr:GetAuthorizationToken` in its own statement on `*`"
                        )),
                );
            }
        }
    }
}

/// Attached AWS-managed policies that push images to every repository
/// (`AmazonEC2ContainerRegistryPowerUser`, `AmazonEC2ContainerRegistryFullAccess`, …), judged
/// by their contents. `AdministratorAccess` (every action) is left to `perm-admin-access`.
fn managed(subjects: &[crate::analysis::permissions::CiRole<'_>], out: &mut Vec<Finding>) {
    use crate::analysis::managed_policies::Scope;
    for (s, arn, p) in crate::analysis::permissions::managed_below_everything(subjects) {
        let file = arn.file;
        // Only private-registry pushes granted by name (`ecr:*`, `ecr:PutImage`): a broad
        // policy that reaches ECR through `NotAction` or `*` (`PowerUserAccess`) is about
        // everything, not about images, and the other perm-* rules judge it.
        let Some((action, st)) = ECR_WRITE
            .iter()
            .filter(|a| a.starts_with("ecr:"))
            .find_map(|a| {
                p.allows(a, Scope::Everything)
                    .filter(|st| {
                        st.action_matching(a)
                            .is_some_and(|m| m.service.eq_ignore_ascii_case("ecr"))
                    })
                    .map(|st| (*a, st))
            })
        else {
            continue;
        };
        out.push(
                Finding::new(META.id, META.severity, file, arn.span)
                    .message(format!(
                        "{} can be assumed from {assumed_by} and has `{}` attached, which allows {} on every ECR repository: {a_run} can overwrite any image in the account",
                        s.describe,
                        arn.value.display(),
                        crate::analysis::managed_policies::through(action, &st.describe_grant(action)),
                        assumed_by = s.assumed_by,
                        a_run = s.a_run(),
                    ))
                    .label("pushes to every repository")
                    .related(s.trust_file, s.trust_span, format!("this trust policy admits {}", s.tokens))
                    .help("replace the managed policy with one that grants the push actions on the repositories the workflow pushes to (`arn:aws:ecr:REGION:123456789012:repository/NAME`), and `ecr:GetAuthorizationToken` on `*`"),
            );
    }
}
