use super::{Ctx, Rule, RuleMeta};
use crate::analysis::trust::{is_github_issuer, requested_audiences};
use crate::diag::{Edit, Finding, Fix};
use crate::model::OidcProvider;
use crate::source::{SourceFile, Span};

pub struct ProviderMissingAudience;
pub static RULE: ProviderMissingAudience = ProviderMissingAudience;
static META: RuleMeta = crate::rule_meta!(
    "provider-missing-audience",
    Error,
    "A GitHub OIDC provider's client id list lacks `sts.amazonaws.com` (or the `audience` the workflows request)",
    [
        "terraform",
        "terraform-plan",
        "cloudformation",
        "aws-export",
        "workflow"
    ],
    true
);

const STS: &str = "sts.amazonaws.com";
const STS_CN: &str = "sts.amazonaws.com.cn";

/// Insert `aud` as a new last element of the provider's client id list, in the list's syntax
/// (`[…]` flow lists of JSON, HCL and YAML; YAML block sequences).
fn append_edit(
    src: &SourceFile,
    p: &OidcProvider,
    ids: &[crate::model::SStr],
    aud: &str,
) -> Option<Edit> {
    let list = p.client_ids_span?;
    let text = src.slice(list);
    let quoted = serde_json::to_string(aud).ok()?;
    if text.starts_with('[') {
        let (at, rep) = match ids.last() {
            Some(last) => (last.span.end as usize, format!(", {quoted}")),
            None => (list.start as usize + 1, quoted),
        };
        return Some(Edit {
            file: p.file,
            span: Span::new(at, at),
            replacement: rep,
        });
    }
    // YAML block sequence: `- a` lines; the new item goes after the last, same indentation.
    let last = ids.last()?;
    let start = last.span.start as usize;
    // `- ` and indentation before the item, found without scanning a long line from its start.
    let line_start = src.line_start(start);
    let head = &src.text[..start];
    let dash = head.trim_end_matches([' ', '\t']);
    let before_dash = dash.strip_suffix('-')?;
    let indent = before_dash.trim_end_matches([' ', '\t']);
    if indent.len() != line_start {
        return None;
    }
    let prefix = &src.text[line_start..start];
    let nl = if src.crlf() { "\r\n" } else { "\n" };
    let at = last.span.end as usize;
    Some(Edit {
        file: p.file,
        span: Span::new(at, at),
        replacement: format!("{nl}{prefix}{aud}"),
    })
}

impl Rule for ProviderMissingAudience {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let requested = requested_audiences(ctx);
        for p in ctx.models.iter().flat_map(|m| &m.providers) {
            let Some(url) = p.url.as_ref().and_then(|u| u.value.known()) else {
                continue;
            };
            if !is_github_issuer(url.trim_start_matches("https://").trim_end_matches('/')) {
                continue;
            }
            let Some(ids) = &p.client_ids else { continue };
            let Some(known) = ids
                .iter()
                .map(|i| i.value.known())
                .collect::<Option<Vec<String>>>()
            else {
                continue;
            };
            let wanted: Vec<String> = if requested.custom.is_empty() && !requested.default_used {
                // No workflow in the scan says: the action's default, either partition.
                if known.iter().any(|k| k == STS || k == STS_CN) {
                    continue;
                }
                vec![STS.to_string()]
            } else {
                requested
                    .all(STS)
                    .into_iter()
                    .filter(|a| !known.contains(a))
                    .collect()
            };
            let src = ctx.file(p.file);
            let read_only = matches!(src.format.name(), "terraform-plan" | "aws-export");
            for aud in wanted {
                let fix = if read_only {
                    None
                } else {
                    append_edit(src, p, ids, &aud).map(|e| Fix {
                        description: format!("add `{aud}` to the client id list"),
                        safe: true,
                        edits: vec![e],
                    })
                };
                let span = p.client_ids_span.unwrap_or(p.span);
                let listed = if known.is_empty() {
                    "nothing".to_string()
                } else {
                    known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                out.push(
                    Finding::new(META.id, META.severity, p.file, span)
                        .message(format!(
                            "{} lists {listed} as client ids but not `{aud}`: STS rejects GitHub tokens for `{aud}` (\"Incorrect token audience\") before any trust policy is read",
                            crate::analysis::trust::provider_name(&p.owner)
                        ))
                        .label(format!("`{aud}` is missing"))
                        .help(format!(
                            "add `{aud}` to the client id list (configure-aws-credentials requests `{STS}` unless its `audience` input says otherwise)"
                        ))
                        .fix(fix),
                );
            }
        }
    }
}
