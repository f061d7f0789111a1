//! IAM policy documents from a spanned tree (JSON files, Terraform `jsonencode`/heredocs,
//! CloudFormation, plans, exports): the one builder every IAM front end calls.

use crate::model::{
    Condition, MapHandle, PolicyDoc, PolicyKind, Principal, SStr, Spanned, Statement, Syntax,
};
use crate::source::tree::{Node, Template, Value};
use crate::source::{FileId, Span};

/// Helpers for reading IAM elements out of a spanned tree (shared by every IAM front end).
pub fn strings_of(node: &Node) -> Vec<SStr> {
    node.items()
        .into_iter()
        .filter_map(|n| match &n.value {
            Value::Str(t) => Some(Spanned::new(t.clone(), n.span)),
            Value::Num(s) => Some(Spanned::new(Template::lit(s.clone()), n.span)),
            Value::Bool(b) => Some(Spanned::new(Template::lit(b.to_string()), n.span)),
            _ => None,
        })
        .collect()
}

/// The source family of a policy tree: decides how fixes write new entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Json,
    Yaml,
    Hcl,
    ReadOnly,
}

pub fn handle(file: FileId, family: Family, node: &Node) -> MapHandle {
    use crate::source::tree::Style;
    let syntax = match family {
        Family::Json => Syntax::Json,
        Family::Yaml if node.style == Style::Flow => Syntax::YamlFlow,
        Family::Yaml => Syntax::YamlBlock,
        Family::Hcl => Syntax::HclObject,
        Family::ReadOnly => Syntax::ReadOnly,
    };
    let last_entry = node.entries().last().map(|e| {
        Span::new(
            e.key_span.start as usize,
            e.value.span.end.max(e.key_span.end) as usize,
        )
    });
    MapHandle {
        file,
        syntax,
        span: node.span,
        last_entry,
    }
}

/// Build a policy document from a spanned tree holding `{"Version", "Statement": ...}`.
/// `kind` is the caller's knowledge (a role's trust policy is a trust policy); with `None` a
/// document is a trust policy when any statement has a `Principal`.
pub fn policy_from_tree(
    file: FileId,
    doc: &Node,
    owner: String,
    kind: Option<PolicyKind>,
    family: Family,
) -> PolicyDoc {
    let mut statements = Vec::new();
    if let Some(st) = doc.get("Statement") {
        for s in st.items() {
            if s.is_map() {
                statements.push(statement_from_tree(file, s, family));
            }
        }
    }
    let kind = kind.unwrap_or_else(|| {
        if statements
            .iter()
            .any(|s| s.principal_span.is_some() || s.not_principal)
        {
            PolicyKind::Trust
        } else {
            PolicyKind::Permission
        }
    });
    PolicyDoc {
        file,
        span: doc.span,
        kind,
        owner,
        statements,
    }
}

fn statement_from_tree(file: FileId, s: &Node, family: Family) -> Statement {
    let mut principals = Vec::new();
    let mut principal_span = None;
    let mut not_principal = false;
    for (name, not) in [("Principal", false), ("NotPrincipal", true)] {
        if let Some(p) = s.get(name) {
            principal_span = Some(p.span);
            not_principal |= not;
            match &p.value {
                Value::Str(t) => principals.push(Principal {
                    kind: "*".into(),
                    value: Spanned::new(t.clone(), p.span),
                }),
                _ => {
                    for e in p.entries() {
                        for v in strings_of(&e.value) {
                            principals.push(Principal {
                                kind: e.key.clone(),
                                value: v,
                            });
                        }
                    }
                }
            }
        }
    }
    let (actions, action_span, not_action) = match (s.get("Action"), s.get("NotAction")) {
        (Some(a), _) => (strings_of(a), Some(a.span), false),
        (None, Some(a)) => (strings_of(a), Some(a.span), true),
        _ => (vec![], None, false),
    };
    let (resources, not_resource) = match (s.get("Resource"), s.get("NotResource")) {
        (Some(r), _) => (strings_of(r), false),
        (None, Some(r)) => (strings_of(r), true),
        _ => (vec![], false),
    };
    let mut conditions = Vec::new();
    let mut condition_block = None;
    if let Some(c) = s.get("Condition") {
        condition_block = Some(handle(file, family, c));
        for op in c.entries() {
            let op_handle = handle(file, family, &op.value);
            for k in op.value.entries() {
                conditions.push(Condition {
                    operator: Spanned::new(op.key.clone(), op.key_span),
                    key: Spanned::new(k.key.clone(), k.key_span),
                    values: strings_of(&k.value),
                    values_span: k.value.span,
                    operator_block: Some(op_handle.clone()),
                });
            }
        }
    }
    Statement {
        span: s.span,
        sid: s.get("Sid").and_then(|n| n.as_str()),
        effect: s
            .get("Effect")
            .and_then(|e| e.as_template().map(|t| Spanned::new(t.clone(), e.span))),
        principals,
        principal_span,
        not_principal,
        actions,
        action_span,
        not_action,
        resources,
        not_resource,
        conditions,
        condition_block,
        statement_block: Some(handle(file, family, s)),
    }
}
