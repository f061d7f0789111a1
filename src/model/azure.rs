//! Azure workload identity federation: user-assigned managed identities and Entra ID
//! applications, their federated identity credentials (issuer, subject or claims-matching
//! expression, audiences), and the GitHub secrets/variables IaC fills with an identity's
//! client id (how a workflow's `client-id: ${{ secrets.X }}` names an identity).

use super::SStr;
use crate::source::{FileId, Span};

/// Everything Azure one file defines.
#[derive(Clone, Debug, Default)]
pub struct AzureModel {
    pub identities: Vec<AzureIdentity>,
    pub credentials: Vec<FederatedCredential>,
    pub client_id_refs: Vec<ClientIdRef>,
}

impl AzureModel {
    pub fn is_empty(&self) -> bool {
        self.identities.is_empty() && self.credentials.is_empty() && self.client_id_refs.is_empty()
    }
}

/// What kind of Entra identity a credential federates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdentityKind {
    /// `azurerm_user_assigned_identity`.
    ManagedIdentity,
    /// `azuread_application` / `azuread_application_registration`.
    Application,
}

impl IdentityKind {
    pub fn name(self) -> &'static str {
        match self {
            IdentityKind::ManagedIdentity => "managed-identity",
            IdentityKind::Application => "application",
        }
    }
}

/// A user-assigned managed identity or an application registration.
#[derive(Clone, Debug)]
pub struct AzureIdentity {
    pub file: FileId,
    pub span: Span,
    /// The resource address (`azurerm_user_assigned_identity.deploy`): credentials and client-id
    /// references name the identity by it.
    pub owner: String,
    pub kind: IdentityKind,
    /// `name` / `display_name`, when set.
    pub name: Option<SStr>,
    /// The client (application) id when written literally (a `data` source, an import);
    /// `None` when Azure assigns it at apply time.
    pub client_id: Option<SStr>,
}

/// A federated identity credential.
#[derive(Clone, Debug)]
pub struct FederatedCredential {
    pub file: FileId,
    pub span: Span,
    /// `azurerm_federated_identity_credential.main`.
    pub owner: String,
    pub kind: IdentityKind,
    /// The owner of the identity it belongs to (`azurerm_user_assigned_identity.deploy`), when
    /// the parent is a reference the scan resolves.
    pub identity: Option<String>,
    /// The parent value as written (`parent_id`, `application_id`, `application_object_id`).
    pub parent: Option<SStr>,
    pub issuer: Option<SStr>,
    /// The exact subject; `None` for a flexible credential.
    pub subject: Option<SStr>,
    /// A flexible credential's claims-matching expression (`claims['sub'] matches '…'`).
    pub claims_expression: Option<SStr>,
    /// `audience`/`audiences` items; `None` when not a literal list.
    pub audiences: Option<Vec<SStr>>,
    pub audiences_span: Option<Span>,
}

/// Whether a GitHub Actions value is a secret or a configuration variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ValueKind {
    Secret,
    Variable,
}

/// A `github_actions_[environment_|organization_]secret`/`…variable` whose value is an Azure
/// identity's client id.
#[derive(Clone, Debug)]
pub struct ClientIdRef {
    pub file: FileId,
    pub span: Span,
    pub kind: ValueKind,
    /// `secret_name` / `variable_name`.
    pub name: String,
    /// The repository it is set on (`repository`), when literal; `None` for an organisation's.
    pub repository: Option<String>,
    /// The environment it is scoped to, when an environment secret/variable.
    pub environment: Option<String>,
    /// The identity whose `client_id` it holds.
    pub identity: String,
}
