use super::{Ctx, Rule, RuleMeta};
use crate::diag::Finding;

pub struct IacAccessKey;
pub static RULE: IacAccessKey = IacAccessKey;
static META: RuleMeta = crate::rule_meta!(
    "iac-access-key",
    Warning,
    "Infrastructure code creates a long-lived IAM access key (`aws_iam_access_key`, `AWS::IAM::AccessKey`)",
    ["terraform", "terraform-plan", "cloudformation"],
    false
);

impl Rule for IacAccessKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for m in &ctx.models {
            for k in &m.access_keys {
                let user = k
                    .user
                    .as_ref()
                    .map(|u| {
                        // `!Ref CiUser`: the user resource's logical id.
                        let name = match u.value.parts.as_slice() {
                            [crate::source::tree::Part::Unknown(e)] => e.clone(),
                            _ => u.value.display(),
                        };
                        format!(" for IAM user `{name}`")
                    })
                    .unwrap_or_default();
                let mut f = Finding::new(META.id, META.severity, k.file, k.span)
                    .message(format!(
                        "{} creates a long-lived access key{user}; keys do not expire and end up in CI secrets, logs and state files",
                        k.owner
                    ))
                    .label("long-lived access key")
                    .help("if the key is for GitHub Actions, replace it with OIDC: an `aws_iam_openid_connect_provider` (`AWS::IAM::OIDCProvider`) for `https://token.actions.githubusercontent.com`, a role whose trust policy allows `sts:AssumeRoleWithWebIdentity` for `repo:OWNER/REPO:ref:refs/heads/main` with `aud` = `sts.amazonaws.com`, and in the workflow `permissions: id-token: write` + aws-actions/configure-aws-credentials with `role-to-assume`; then delete the key and the user's secret");
                if let Some(u) = &k.user
                    && u.span != k.span
                    && u.span.start >= k.span.end
                {
                    f = f.related(k.file, u.span, "the user the key belongs to");
                }
                out.push(f);
            }
        }
    }
}
