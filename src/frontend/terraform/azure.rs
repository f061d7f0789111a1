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
use crate::source::FileId;
use crate::source::hcl::Block;
use crate::source::tree::{Node, Part, Value};
use std::collections::HashMap;

const IDENTITY_TYPES: &[(&str, IdentityKind)] = &[
    ("azurerm_user_assigned_identity", IdentityKind::ManagedIdentity),
    ("azuread_application", IdentityKind::Application),
    ("azuread_application_registration", IdentityKind::Application),
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
pub fn build(files: &[(FileId, TfFile)], models: &mut DirFiles<FileModel>) {
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
                models[*id].azure.credentials.push(FederatedCredential {
                    file: *id,
                    span: b.span,
                    owner: addr,
                    kind,
                    identity: parent.and_then(identity_of),
                    parent: parent.and_then(sstr),
                    issuer: b.attr("issuer").and_then(sstr),
                    subject: b.attr("subject").and_then(sstr),
                    claims_expression: b.attr("claims_matching_expression").and_then(sstr),
                    audiences,
                    audiences_span: aud.map(|a| a.span),
                });
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
