//! `terraform show -json` output: plans (`planned_values`, `resource_changes`) and states
//! (`values`). Resources come from the root module and every nested child module; a resource
//! listed both in `planned_values` and in `resource_changes` is read once. Policies are JSON
//! strings; their spans map to the exact bytes of the plan file.

use super::embedded_document;
use crate::frontend::iam_json::{Family, strings_of};
use crate::model::{
    AccessKey, Attached, FileModel, OidcProvider, PolicyKind, PolicyRef, Role, Spanned,
};
use crate::source::tree::{Node, Value};
use crate::source::{FileId, SourceFile};
use std::collections::{HashMap, HashSet};

struct Resource<'a> {
    address: String,
    rtype: String,
    /// The resource object (for its span).
    node: &'a Node,
    values: &'a Node,
}

fn collect_module<'a>(module: &'a Node, seen: &mut HashSet<String>, out: &mut Vec<Resource<'a>>) {
    if let Some(rs) = module.get("resources") {
        for r in rs.items() {
            if r.get("mode").and_then(Node::as_str).as_deref() != Some("managed") {
                continue;
            }
            let (Some(address), Some(rtype), Some(values)) = (
                r.get("address").and_then(Node::as_str),
                r.get("type").and_then(Node::as_str),
                r.get("values").filter(|v| v.is_map()),
            ) else {
                continue;
            };
            if seen.insert(address.clone()) {
                out.push(Resource {
                    address,
                    rtype,
                    node: r,
                    values,
                });
            }
        }
    }
    if let Some(children) = module.get("child_modules") {
        for c in children.items() {
            collect_module(c, seen, out);
        }
    }
}

fn str_of(values: &Node, key: &str) -> Option<Spanned<crate::source::tree::Template>> {
    let n = values.get(key)?;
    n.as_template().map(|t| Spanned::new(t.clone(), n.span))
}

/// Extract the model from a parsed plan/state. `None` when the root is not one.
pub fn extract(id: FileId, src: &SourceFile, root: &Node) -> Option<FileModel> {
    root.get("format_version")?;
    let mut seen = HashSet::new();
    let mut res = Vec::new();
    let mut any = false;
    for top in ["planned_values", "values"] {
        if let Some(m) = root.get(top).and_then(|v| v.get("root_module")) {
            any = true;
            collect_module(m, &mut seen, &mut res);
        }
    }
    if let Some(changes) = root.get("resource_changes") {
        any = true;
        for r in changes.items() {
            if r.get("mode").and_then(Node::as_str).as_deref() != Some("managed") {
                continue;
            }
            let (Some(address), Some(rtype), Some(after)) = (
                r.get("address").and_then(Node::as_str),
                r.get("type").and_then(Node::as_str),
                r.get("change")
                    .and_then(|c| c.get("after"))
                    .filter(|v| v.is_map()),
            ) else {
                continue;
            };
            if seen.insert(address.clone()) {
                res.push(Resource {
                    address,
                    rtype,
                    node: r,
                    values: after,
                });
            }
        }
    }
    if !any {
        return None;
    }
    let text = &src.text;
    let mut m = FileModel::default();
    let policy = |m: &mut FileModel, n: &Node, owner: &str, kind: PolicyKind| -> Option<usize> {
        let doc = embedded_document(text, n)?;
        m.policies.push(crate::frontend::iam_json::policy_from_tree(
            id,
            &doc,
            owner.to_string(),
            Some(kind),
            Family::ReadOnly,
        ));
        Some(m.policies.len() - 1)
    };
    // Role name → index into m.roles, for role policies and attachments.
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for r in res.iter().filter(|r| r.rtype == "aws_iam_role") {
        let v = r.values;
        let trust = v
            .get("assume_role_policy")
            .and_then(|n| policy(&mut m, n, &r.address, PolicyKind::Trust));
        let mut permission_policies = Vec::new();
        if let Some(inline) = v.get("inline_policy") {
            for ip in inline.items() {
                if let Some(p) = ip.get("policy") {
                    let owner = match ip.get("name").and_then(Node::as_str) {
                        Some(n) if !n.is_empty() => format!("{} (inline policy `{n}`)", r.address),
                        _ => r.address.clone(),
                    };
                    permission_policies.extend(policy(&mut m, p, &owner, PolicyKind::Permission));
                }
            }
        }
        let managed_policy_arns = v
            .get("managed_policy_arns")
            .map(strings_of)
            .unwrap_or_default();
        let name = str_of(v, "name");
        if let Some(n) = name.as_ref().and_then(|n| n.value.known()) {
            by_name.insert(n, m.roles.len());
        }
        m.roles.push(Role {
            file: id,
            span: r.node.span,
            owner: r.address.clone(),
            name,
            trust: trust.map(|i| PolicyRef::new(id, i)),
            permission_policies: permission_policies
                .into_iter()
                .map(|i| PolicyRef::new(id, i))
                .collect(),
            managed_policy_arns: Attached::all(id, managed_policy_arns),
        });
    }
    for r in &res {
        let v = r.values;
        let role_idx = || {
            v.get("role")
                .or_else(|| v.get("role_name"))
                .and_then(Node::as_str)
                .and_then(|n| by_name.get(&n).copied())
        };
        match r.rtype.as_str() {
            "aws_iam_role_policy" => {
                if let Some(p) = v.get("policy")
                    && let Some(i) = policy(&mut m, p, &r.address, PolicyKind::Permission)
                    && let Some(ri) = role_idx()
                {
                    m.roles[ri].permission_policies.push(PolicyRef::new(id, i));
                }
            }
            "aws_iam_policy" | "aws_iam_user_policy" | "aws_iam_group_policy" => {
                if let Some(p) = v.get("policy") {
                    policy(&mut m, p, &r.address, PolicyKind::Permission);
                }
            }
            "aws_iam_role_policy_attachment" => {
                if let (Some(ri), Some(arn)) = (role_idx(), str_of(v, "policy_arn")) {
                    m.roles[ri].managed_policy_arns.push(Attached::new(id, arn));
                }
            }
            "aws_iam_role_policy_attachments_exclusive" => {
                if let (Some(ri), Some(arns)) = (role_idx(), v.get("policy_arns")) {
                    m.roles[ri]
                        .managed_policy_arns
                        .extend(Attached::all(id, strings_of(arns)));
                }
            }
            "aws_iam_openid_connect_provider" => {
                let ids = v.get("client_id_list");
                m.providers.push(OidcProvider {
                    file: id,
                    span: r.node.span,
                    owner: r.address.clone(),
                    url: str_of(v, "url"),
                    client_ids: ids
                        .filter(|n| matches!(n.value, Value::Seq(_)))
                        .map(strings_of),
                    client_ids_span: ids.map(|n| n.span),
                });
            }
            "aws_iam_access_key" => m.access_keys.push(AccessKey {
                file: id,
                span: r.node.get("address").map(|n| n.span).unwrap_or(r.node.span),
                owner: r.address.clone(),
                user: str_of(v, "user"),
            }),
            _ => {}
        }
    }
    Some(m)
}
