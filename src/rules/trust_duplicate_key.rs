use super::{Ctx, Rule, RuleMeta};
use crate::diag::Finding;
use crate::model::{Condition, PolicyKind};
use crate::source::{SourceFile, Span};

pub struct TrustDuplicateKey;
pub static RULE: TrustDuplicateKey = TrustDuplicateKey;
static META: RuleMeta = crate::rule_meta!(
    "trust-duplicate-key",
    Error,
    "A condition operator or key appears twice in one block: the parser keeps one and silently drops the others",
    ["iam-json", "terraform", "terraform-plan"],
    false
);

/// Is the text at `span` a mapping key (followed by `:` or `=`)? Distinguishes a duplicated key
/// from front ends that model separate blocks (`condition { test = … }`) as conditions.
fn is_key(src: &SourceFile, span: Span) -> bool {
    src.text
        .get(span.end as usize..)
        .map(|rest| rest.trim_start_matches([' ', '\t', '\r', '\n', '"', '\\']))
        .is_some_and(|rest| rest.starts_with(':') || rest.starts_with('='))
}

/// The two keys are written the same (quotes aside, letter case ignored).
fn same_text(src: &SourceFile, a: Span, b: Span) -> bool {
    let t = |s: Span| src.slice(s).trim_matches(['"', '\\']).to_ascii_lowercase();
    let (x, y) = (t(a), t(b));
    !x.is_empty() && x == y
}

impl Rule for TrustDuplicateKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for m in &ctx.models {
            for p in &m.policies {
                if p.kind != PolicyKind::Trust {
                    continue;
                }
                let src = ctx.file(p.file);
                for s in &p.statements {
                    // Operators: distinct key spans with the same name.
                    let mut ops: Vec<&Condition> = Vec::new();
                    for c in &s.conditions {
                        if !ops.iter().any(|o| o.operator.span == c.operator.span) {
                            ops.push(c);
                        }
                    }
                    for (i, a) in ops.iter().enumerate() {
                        let Some(b) = ops[i + 1..].iter().find(|b| {
                            b.operator.value.eq_ignore_ascii_case(&a.operator.value)
                                || same_text(src, a.operator.span, b.operator.span)
                        }) else {
                            continue;
                        };
                        if !is_key(src, a.operator.span) || !is_key(src, b.operator.span) {
                            continue;
                        }
                        let dropped: Vec<String> = s
                            .conditions
                            .iter()
                            .filter(|c| c.operator.span == a.operator.span)
                            .map(|c| format!("`{}`", c.key.value))
                            .collect();
                        out.push(
                            Finding::new(META.id, META.severity, p.file, a.operator.span)
                                .message(format!(
                                    "`{}` appears twice in the `Condition` of {}: parsers keep the last one, so {} here is silently dropped",
                                    a.operator.value,
                                    p.owner,
                                    dropped.join(", ")
                                ))
                                .label("this block is dropped")
                                .related(p.file, b.operator.span, "this later block wins")
                                .help(format!(
                                    "merge both into one `{}` block; keys inside one operator are AND-ed",
                                    b.operator.value
                                )),
                        );
                    }
                    // Keys: the same key twice inside one operator block.
                    for op in &ops {
                        let keys: Vec<&Condition> = s
                            .conditions
                            .iter()
                            .filter(|c| c.operator.span == op.operator.span)
                            .collect();
                        for (i, a) in keys.iter().enumerate() {
                            let Some(b) = keys[i + 1..].iter().find(|b| {
                                b.key.value.eq_ignore_ascii_case(&a.key.value)
                                    || same_text(src, a.key.span, b.key.span)
                            }) else {
                                continue;
                            };
                            if !is_key(src, a.key.span) || !is_key(src, b.key.span) {
                                continue;
                            }
                            let vals: Vec<String> = a
                                .values
                                .iter()
                                .map(|v| format!("`{}`", v.value.display()))
                                .collect();
                            out.push(
                                Finding::new(META.id, META.severity, p.file, a.key.span)
                                    .message(format!(
                                        "`{}` appears twice under `{}` in {}: the parser keeps the last, so {} is silently dropped",
                                        a.key.value,
                                        op.operator.value,
                                        p.owner,
                                        if vals.is_empty() {
                                            "this entry".to_string()
                                        } else {
                                            vals.join(", ")
                                        }
                                    ))
                                    .label("this entry is dropped")
                                    .related(p.file, b.key.span, "this later entry wins")
                                    .help("give the key one entry listing every value (values of one key are OR-ed); to require two things, use two different keys"),
                            );
                        }
                    }
                }
            }
        }
    }
}
