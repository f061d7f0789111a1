//! Exports of a live account: `aws iam get-account-authorization-details`, `get-role`,
//! `list-roles` and `get-open-id-connect-provider`. Policy documents arrive as objects (the CLI
//! decodes them) or as URL-encoded strings (the raw API, other SDKs); both keep spans into the
//! export file. Findings name the role.

use super::embedded_document;
use crate::frontend::iam_json::{Family, strings_of};
use crate::model::{Attached, FileModel, OidcProvider, PolicyKind, PolicyRef, Role, Spanned};
use crate::source::tree::{Node, Value};
use crate::source::{FileId, SourceFile};
use std::collections::HashMap;

fn add(
    m: &mut FileModel,
    id: FileId,
    text: &str,
    doc: &Node,
    owner: String,
    kind: PolicyKind,
) -> Option<usize> {
    let doc = embedded_document(text, doc)?;
    m.policies.push(crate::frontend::iam_json::policy_from_tree(
        id,
        &doc,
        owner,
        Some(kind),
        Family::ReadOnly,
    ));
    Some(m.policies.len() - 1)
}

/// The default version of each customer managed policy (`Policies[]`), by ARN.
fn managed_policies(
    m: &mut FileModel,
    id: FileId,
    text: &str,
    root: &Node,
) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for p in root.get("Policies").map(Node::items).unwrap_or_default() {
        let name = p
            .get("PolicyName")
            .and_then(Node::as_str)
            .unwrap_or_else(|| "managed policy".into());
        let versions = p
            .get("PolicyVersionList")
            .map(Node::items)
            .unwrap_or_default();
        // Only the default version is in force.
        let default = versions
            .iter()
            .find(|v| {
                matches!(
                    v.get("IsDefaultVersion").map(|b| &b.value),
                    Some(Value::Bool(true))
                )
            })
            .or(versions.first());
        if let Some(doc) = default.and_then(|v| v.get("Document"))
            && let Some(i) = add(m, id, text, doc, name, PolicyKind::Permission)
            && let Some(arn) = p.get("Arn").and_then(Node::as_str)
        {
            out.insert(arn, i);
        }
    }
    out
}

fn role(m: &mut FileModel, id: FileId, text: &str, r: &Node, managed: &HashMap<String, usize>) {
    let name_node = r.get("RoleName");
    let owner = name_node
        .and_then(Node::as_str)
        .unwrap_or_else(|| "role".into());
    let trust = r
        .get("AssumeRolePolicyDocument")
        .and_then(|d| add(m, id, text, d, owner.clone(), PolicyKind::Trust));
    let mut permission_policies = Vec::new();
    for p in r.get("RolePolicyList").map(Node::items).unwrap_or_default() {
        if let Some(d) = p.get("PolicyDocument") {
            let o = match p.get("PolicyName").and_then(Node::as_str) {
                Some(n) => format!("{owner} (inline policy `{n}`)"),
                None => owner.clone(),
            };
            permission_policies.extend(add(m, id, text, d, o, PolicyKind::Permission));
        }
    }
    let mut managed_policy_arns = Vec::new();
    for a in r
        .get("AttachedManagedPolicies")
        .map(Node::items)
        .unwrap_or_default()
    {
        if let Some(arn) = a.get("PolicyArn") {
            managed_policy_arns.extend(strings_of(arn));
            if let Some(&i) = arn.as_str().and_then(|s| managed.get(&s)) {
                permission_policies.push(i);
            }
        }
    }
    m.roles.push(Role {
        file: id,
        span: r.span,
        owner,
        name: name_node.and_then(|n| n.as_template().map(|t| Spanned::new(t.clone(), n.span))),
        trust: trust.map(|i| PolicyRef::new(id, i)),
        permission_policies: permission_policies
            .into_iter()
            .map(|i| PolicyRef::new(id, i))
            .collect(),
        managed_policy_arns: Attached::all(id, managed_policy_arns),
    });
}

/// Extract the model of a parsed export. `None` when the root is none of the known outputs.
pub fn extract(id: FileId, src: &SourceFile, root: &Node) -> Option<FileModel> {
    let text = &src.text;
    let mut m = FileModel::default();
    let mut known = false;
    if root.get("RoleDetailList").is_some() || root.get("UserDetailList").is_some() {
        known = true;
        let managed = managed_policies(&mut m, id, text, root);
        for r in root
            .get("RoleDetailList")
            .map(Node::items)
            .unwrap_or_default()
        {
            role(&mut m, id, text, r, &managed);
        }
        for u in root
            .get("UserDetailList")
            .map(Node::items)
            .unwrap_or_default()
        {
            let user = u
                .get("UserName")
                .and_then(Node::as_str)
                .unwrap_or_else(|| "user".into());
            for p in u.get("UserPolicyList").map(Node::items).unwrap_or_default() {
                if let Some(d) = p.get("PolicyDocument") {
                    add(&mut m, id, text, d, user.clone(), PolicyKind::Permission);
                }
            }
        }
    }
    // `get-role`
    if let Some(r) = root.get("Role").filter(|r| r.is_map()) {
        known = true;
        role(&mut m, id, text, r, &HashMap::new());
    }
    // `list-roles`
    if let Some(rs) = root.get("Roles") {
        let rs: Vec<&Node> = rs
            .items()
            .into_iter()
            .filter(|r| r.get("AssumeRolePolicyDocument").is_some())
            .collect();
        known |= !rs.is_empty();
        for r in rs {
            role(&mut m, id, text, r, &HashMap::new());
        }
    }
    // `get-open-id-connect-provider`
    if let (Some(url), Some(ids)) = (root.get("Url"), root.get("ClientIDList")) {
        known = true;
        let url_s = url.as_template().map(|t| Spanned::new(t.clone(), url.span));
        m.providers.push(OidcProvider {
            file: id,
            span: root.span,
            owner: url
                .as_str()
                .map(|u| format!("OIDC provider `{u}`"))
                .unwrap_or_else(|| "OIDC provider".into()),
            url: url_s,
            client_ids: matches!(ids.value, Value::Seq(_)).then(|| strings_of(ids)),
            client_ids_span: Some(ids.span),
        });
    }
    known.then_some(m)
}
