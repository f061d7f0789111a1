//! Azure workload identity federation in Terraform: `azurerm_user_assigned_identity`,
//! `azuread_application`/`azuread_application_registration` (and their `data` sources),
//! `azurerm_federated_identity_credential`, `azuread_application_federated_identity_credential`,
//! `azuread_application_flexible_federated_identity_credential`, and the GitHub secrets and
//! variables (`github_actions_[environment_|organization_]{secret,variable}`) whose value is an
//! identity's client id. Runs after the directory's references are resolved (`var.x`,
//! `local.y`); a reference to another resource stays unknown and is linked here by address.

use super::{DirFiles, TfFile, list_items, ref_key};
use crate::model::azure::{
    AzureIdentity, ClientIdRef, FederatedCredential, IdentityKind, ValueKind,
};
use crate::model::{FileModel, SStr, Spanned};
use crate::source::hcl::Block;
use crate::source::tree::{Node, Part, Template, Value};
use crate::source::{FileId, SourceFile};
use std::collections::HashMap;

const IDENTITY_TYPES: &[(&str, IdentityKind)] = &[
    (
        "azurerm_user_assigned_identity",
        IdentityKind::ManagedIdentity,
    ),
    ("azuread_application", IdentityKind::Application),
    (
        "azuread_application_registration",
        IdentityKind::Application,
    ),
];

const CREDENTIAL_TYPES: &[&str] = &[
    "azurerm_federated_identity_credential",
    "azuread_application_federated_identity_credential",
    "azuread_application_flexible_federated_identity_credential",
];

/// A `resource`/`data` type this module reads.
pub fn relevant(ty: &str) -> bool {
    IDENTITY_TYPES.iter().any(|(t, _)| *t == ty)
        || CREDENTIAL_TYPES.contains(&ty)
        || ty == "azuread_service_principal"
        || github_value_kind(ty).is_some()
}

/// `github_actions_secret`, `github_actions_environment_variable`, … → secret or variable.
fn github_value_kind(ty: &str) -> Option<ValueKind> {
    let rest = ty.strip_prefix("github_actions_")?;
    let rest = rest
        .strip_prefix("environment_")
        .or_else(|| rest.strip_prefix("organization_"))
        .unwrap_or(rest);
    match rest {
        "secret" => Some(ValueKind::Secret),
        "variable" => Some(ValueKind::Variable),
        _ => None,
    }
}

fn sstr(n: &Node) -> Option<SStr> {
    n.as_template().map(|t| Spanned::new(t.clone(), n.span))
}

/// The address a reference names, for resources (`azuread_application.x.client_id` →
/// (`azuread_application.x`, `client_id`)) and data sources (`data.T.N.attr`).
fn reference(n: &Node) -> Option<(String, String)> {
    let t = n.as_template()?;
    let [Part::Unknown(e)] = t.parts.as_slice() else {
        return None;
    };
    let k = ref_key(e);
    let mut it = k.split('.');
    let first = it.next()?;
    let (addr, attr) = if first == "data" {
        let (ty, name) = (it.next()?, it.next()?);
        (format!("data.{ty}.{name}"), it.next().unwrap_or(""))
    } else {
        let name = it.next()?;
        (format!("{first}.{name}"), it.next().unwrap_or(""))
    };
    Some((addr, attr.to_string()))
}

fn address(b: &Block) -> Option<String> {
    let (ty, name) = (b.label(0)?, b.label(1)?);
    match b.ident.as_str() {
        "resource" => Some(format!("{ty}.{name}")),
        "data" => Some(format!("data.{ty}.{name}")),
        _ => None,
    }
}

/// Fill the Azure part of the directory's models.
pub fn build(
    files: &[(FileId, TfFile)],
    sources: &DirFiles<&SourceFile>,
    models: &mut DirFiles<FileModel>,
) {
    // Identities first: credentials and client-id references name them by address.
    let mut identities: HashMap<String, IdentityKind> = HashMap::new();
    // `azuread_service_principal.S` → the application it is for (same client id).
    let mut principals: HashMap<String, String> = HashMap::new();
    for (id, f) in files {
        for b in &f.blocks {
            let (Some(ty), Some(addr)) = (b.label(0), address(b)) else {
                continue;
            };
            if let Some((_, kind)) = IDENTITY_TYPES.iter().find(|(t, _)| *t == ty) {
                identities.insert(addr.clone(), *kind);
                let name = b.attr("name").or_else(|| b.attr("display_name"));
                let client_id = b
                    .attr("client_id")
                    .or_else(|| b.attr("application_id"))
                    .filter(|_| b.ident == "data")
                    .and_then(sstr)
                    .filter(|s| s.value.is_known());
                models[*id].azure.identities.push(AzureIdentity {
                    file: *id,
                    span: b.span,
                    owner: addr,
                    kind: *kind,
                    name: name.and_then(sstr),
                    client_id,
                });
            } else if ty == "azuread_service_principal"
                && let Some(app) = b
                    .attr("client_id")
                    .or_else(|| b.attr("application_id"))
                    .and_then(reference)
            {
                principals.insert(addr, app.0);
            }
        }
    }
    // Instances expanded in this directory so far (a bound on what one module can make the
    // scan hold: a local set reused by many blocks multiplies).
    let mut expanded = 0usize;
    let identity_of = |n: &Node| -> Option<String> {
        let (addr, _) = reference(n)?;
        let addr = principals.get(&addr).cloned().unwrap_or(addr);
        identities.contains_key(&addr).then_some(addr)
    };
    for (id, f) in files {
        for b in &f.blocks {
            let (Some(ty), Some(addr)) = (b.label(0), address(b)) else {
                continue;
            };
            if b.ident != "resource" {
                continue;
            }
            if CREDENTIAL_TYPES.contains(&ty) {
                let (kind, parent) = if ty.starts_with("azurerm_") {
                    (IdentityKind::ManagedIdentity, b.attr("parent_id"))
                } else {
                    (
                        IdentityKind::Application,
                        b.attr("application_id")
                            .or_else(|| b.attr("application_object_id")),
                    )
                };
                let aud = b.attr("audiences").or_else(|| b.attr("audience"));
                let audiences = aud.and_then(|l| match &l.value {
                    Value::Seq(_) => Some(list_items(l).iter().filter_map(sstr).collect()),
                    Value::Str(_) => sstr(l).map(|s| vec![s]),
                    _ => None,
                });
                let base = FederatedCredential {
                    file: *id,
                    span: b.span,
                    owner: addr.clone(),
                    kind,
                    identity: parent.and_then(identity_of),
                    parent: parent.and_then(sstr),
                    issuer: b.attr("issuer").and_then(sstr),
                    subject: b.attr("subject").and_then(sstr),
                    claims_expression: b.attr("claims_matching_expression").and_then(sstr),
                    audiences,
                    audiences_span: aud.map(|a| a.span),
                };
                // `for_each` over a literal set or map: one credential per instance, with
                // `each.key`/`each.value` substituted (the instances share the block's text).
                // A variable's default is only what callers and `.tfvars` do not override: not
                // expanded (the instances stay unknown).
                let from_var = |n: &Node| {
                    sources[*id]
                        .text
                        .get(n.span.range())
                        .is_none_or(|t| t.contains("var."))
                };
                let instances = b
                    .attr("for_each")
                    .filter(|n| !from_var(n))
                    .and_then(for_each_instances)
                    .filter(|i| expanded + i.len() <= MAX_EXPANDED);
                expanded += instances.as_ref().map_or(0, Vec::len);
                match instances {
                    Some(instances) => {
                        for (k, v) in instances {
                            let mut c = base.clone();
                            c.owner = format!("{addr}[{k:?}]");
                            for t in [&mut c.issuer, &mut c.subject, &mut c.claims_expression]
                                .into_iter()
                                .flatten()
                            {
                                substitute_each(&mut t.value, &k, v.as_deref());
                            }
                            for a in c.audiences.iter_mut().flatten() {
                                substitute_each(&mut a.value, &k, v.as_deref());
                            }
                            models[*id].azure.credentials.push(c);
                        }
                    }
                    None => models[*id].azure.credentials.push(base),
                }
            } else if let Some(kind) = github_value_kind(ty) {
                let (name_key, value_keys): (&str, &[&str]) = match kind {
                    ValueKind::Secret => ("secret_name", &["plaintext_value", "value"]),
                    ValueKind::Variable => ("variable_name", &["value"]),
                };
                let Some(name) = b.attr(name_key).and_then(|n| n.as_str()) else {
                    continue;
                };
                let Some(identity) = value_keys
                    .iter()
                    .find_map(|k| b.attr(k))
                    .filter(|v| {
                        reference(v).is_some_and(|(_, attr)| {
                            attr == "client_id" || attr == "application_id"
                        })
                    })
                    .and_then(identity_of)
                else {
                    continue;
                };
                models[*id].azure.client_id_refs.push(ClientIdRef {
                    file: *id,
                    span: b.span,
                    kind,
                    name,
                    repository: b.attr("repository").and_then(|n| n.as_str()),
                    environment: b.attr("environment").and_then(|n| n.as_str()),
                    identity,
                });
            }
        }
    }
}

/// Most instances a literal `for_each` is expanded into; a longer one stays one credential with
/// `each.*` unknown.
const MAX_INSTANCES: usize = 256;

/// Most instances expanded in one directory; past it, credentials stay unexpanded.
const MAX_EXPANDED: usize = 4096;

/// The instances of a literal `for_each`: `(each.key, each.value)`, the value `None` when not
/// a literal string. A set of strings (`toset(["a", "b"])`, a resolved list) gives key = value.
fn for_each_instances(n: &Node) -> Option<Vec<(String, Option<String>)>> {
    let out: Vec<(String, Option<String>)> = match &n.value {
        Value::Seq(items) => items
            .iter()
            .map(|i| i.as_str().map(|s| (s.clone(), Some(s))))
            .collect::<Option<_>>()?,
        Value::Map(entries) => entries
            .iter()
            .map(|e| (e.key.clone(), e.value.as_str()))
            .collect(),
        Value::Str(t) => {
            let [Part::Unknown(e)] = t.parts.as_slice() else {
                return None;
            };
            let inner = e.trim().strip_prefix("toset(")?.strip_suffix(')')?.trim();
            literal_strings(inner)?
                .into_iter()
                .map(|s| (s.clone(), Some(s)))
                .collect()
        }
        _ => return None,
    };
    (out.len() <= MAX_INSTANCES).then_some(out)
}

/// `["a", "b"]` as written (simple double-quoted strings only; anything else: `None`).
fn literal_strings(text: &str) -> Option<Vec<String>> {
    let body = text.strip_prefix('[')?.strip_suffix(']')?;
    let mut out = Vec::new();
    for item in body.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let s = item.strip_prefix('"')?.strip_suffix('"')?;
        if s.contains(['"', '\\', '$', '%']) {
            return None;
        }
        out.push(s.to_string());
        if out.len() > MAX_INSTANCES {
            return None;
        }
    }
    Some(out)
}

/// Replace `${each.key}` / `${each.value}` parts with an instance's values.
fn substitute_each(t: &mut Template, key: &str, value: Option<&str>) {
    let mut parts: Vec<Part> = Vec::with_capacity(t.parts.len());
    for p in t.parts.drain(..) {
        let lit = match &p {
            Part::Unknown(e) => match ref_key(e).as_str() {
                "each.key" => Some(key.to_string()),
                "each.value" => value.map(str::to_string),
                _ => None,
            },
            Part::Lit(_) => None,
        };
        let p = lit.map(Part::Lit).unwrap_or(p);
        match (parts.last_mut(), p) {
            (Some(Part::Lit(prev)), Part::Lit(s)) => prev.push_str(&s),
            (_, p) => parts.push(p),
        }
    }
    t.parts = parts;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn for_each_literal_sets_expand() {
        assert_eq!(
            literal_strings(r#"["00-init", "10-pm" ,"20-wl"]"#),
            Some(vec!["00-init".into(), "10-pm".into(), "20-wl".into()])
        );
        assert_eq!(literal_strings(r#"["a", var.b]"#), None);
        assert_eq!(literal_strings(r#"["${x}"]"#), None);
        let mut t = Template {
            parts: vec![
                Part::Lit("repo:o/r:environment:".into()),
                Part::Unknown("each.value".into()),
            ],
        };
        substitute_each(&mut t, "prod", Some("prod"));
        assert_eq!(t.known().as_deref(), Some("repo:o/r:environment:prod"));
    }
}
