use super::{Ctx, Rule, RuleMeta};
use crate::analysis::secrets::{is_placeholder, key_ids, redact};
use crate::diag::Finding;
use crate::source::Span;

pub struct HardcodedAwsKey;
pub static RULE: HardcodedAwsKey = HardcodedAwsKey;
static META: RuleMeta = crate::rule_meta!(
    "hardcoded-aws-key",
    Error,
    "A literal AWS access key id (`AKIA…`/`ASIA…`) is written in a scanned file",
    [
        "workflow",
        "action",
        "iam-json",
        "terraform",
        "terraform-plan",
        "cloudformation",
        "aws-export"
    ],
    false
);

impl Rule for HardcodedAwsKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn per_file(&self) -> bool {
        true
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for (fid, src) in ctx.files().filter(|(f, _)| ctx.in_focus(*f)) {
            for at in key_ids(&src.text) {
                let id = &src.text[at..at + 20];
                if is_placeholder(id) {
                    continue;
                }
                let temporary = id.starts_with("ASIA");
                let kind = if temporary {
                    "temporary (STS) access key id"
                } else {
                    "long-lived access key id"
                };
                out.push(
                    Finding::new(META.id, META.severity, fid, Span::new(at, at + 20))
                        .redacted()
                        .message(format!(
                            "a literal AWS {kind} (`{}`) is written in this file",
                            redact(id)
                        ))
                        .label("AWS access key id")
                        .help(if temporary {
                            "remove it from the file; temporary credentials expire, but whoever can read this file could use them until then (and the secret key and session token are likely nearby); get credentials at run time instead (OIDC: `id-token: write` + aws-actions/configure-aws-credentials with `role-to-assume`)"
                        } else {
                            "treat the key as leaked: deactivate and delete it in IAM (it stays in the repository history), then use OIDC instead of keys (`id-token: write` + aws-actions/configure-aws-credentials with `role-to-assume`) or pass credentials at run time; never commit keys or their secrets"
                        }),
                );
            }
        }
    }
}
