//! What a help text tells the user to add, written in the syntax of the file it goes into:
//! JSON in JSON, YAML in CloudFormation YAML, `key = value` in a Terraform `jsonencode`
//! object, a `condition` block in an `aws_iam_policy_document`.

use super::Ctx;
use crate::fix::{NewValue, inline_entry};
use crate::model::{Statement, Syntax};
use crate::source::Format;

/// The syntax `st` is written in: its own mapping's; for read-only text, `None` (HCL blocks) in
/// a Terraform file (an `aws_iam_policy_document`, a module's inputs) and JSON elsewhere
/// (plans and exports hold JSON).
fn syntax(ctx: &Ctx<'_>, file: usize, st: &Statement) -> Option<Syntax> {
    let h = st.condition_block.as_ref().or(st.statement_block.as_ref());
    match h.map(|h| h.syntax) {
        Some(s) if s != Syntax::ReadOnly => Some(s),
        _ if ctx.file(file).format == Format::Terraform => None,
        _ => Some(Syntax::Json),
    }
}

/// A condition `operator: {key: value}` as it is written in `st`'s file.
pub(super) fn condition(
    ctx: &Ctx<'_>,
    file: usize,
    st: &Statement,
    operator: &str,
    key: &str,
    value: &str,
) -> String {
    match syntax(ctx, file, st) {
        Some(s) => inline_entry(
            s,
            operator,
            &NewValue::Map(vec![(key.into(), NewValue::Str(value.into()))]),
        )
        .unwrap_or_default(),
        // a block's attributes go on lines of their own; two spaces stand for them here
        None => format!(
            "condition {{ test = {}  variable = {}  values = [{}] }}",
            quoted(operator),
            quoted(key),
            quoted(value)
        ),
    }
}

/// A principal `{kind: value}` (or `"*"` alone) as it is written in `st`'s file.
pub(super) fn principal(
    ctx: &Ctx<'_>,
    file: usize,
    st: &Statement,
    kind: &str,
    value: &str,
) -> String {
    match syntax(ctx, file, st) {
        Some(s) if kind == "*" => {
            inline_entry(s, "Principal", &NewValue::Str(value.into())).unwrap_or_default()
        }
        Some(s) => inline_entry(
            s,
            "Principal",
            &NewValue::Map(vec![(kind.into(), NewValue::Str(value.into()))]),
        )
        .unwrap_or_default(),
        None => format!(
            "principals {{ type = {}  identifiers = [{}] }}",
            quoted(kind),
            quoted(value)
        ),
    }
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}
