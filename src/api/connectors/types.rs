//! Chat connectors as their settings page shows and edits them. Shared by the server and the browser.

use serde::{Deserialize, Serialize};

/// One credential on a connector card: plain settings in full, secrets as a hint only.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CredentialView {
    pub key: String,
    pub label: String,
    pub secret: bool,
    /// The value, or for a secret its hint (`••••abcd`).
    pub shown: String,
    pub help: String,
}

/// A connector as its card shows it. Secrets never leave the server in full.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConnectorCard {
    pub id: i64,
    pub provider: crate::domain::connectors::ChatProvider,
    pub name: String,
    pub enabled: bool,
    pub policy: crate::domain::connectors::Policy,
    pub onboarding_message: String,
    pub agent_url: String,
    pub agent_secret_hint: String,
    pub credentials: Vec<CredentialView>,
    pub webhook_url: String,
    pub pending_requests: i64,
    pub chat_users: i64,
    /// Members (Slack or Teams identities mapped to Active members) are let in without a request.
    pub auto_approve_members: bool,
    /// The deny list: platform ids never forwarded, never asking for access.
    pub blocked: Vec<String>,
    /// Approvals in chat: the Slack or Teams connector that posts new requests, and the
    /// conversation they go to; `None` when the Access Requests panel is the only place.
    pub approvals_via: Option<i64>,
    pub approvers_conversation: String,
    /// Sent to a requester once approved.
    pub approval_message: String,
}

/// What the connector form sends. A blank secret on an existing connector keeps the stored one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorDraft {
    /// None to create.
    pub id: Option<i64>,
    pub provider: String,
    pub name: String,
    pub agent_url: String,
    pub agent_secret: String,
    pub credentials: Vec<(String, String)>,
}
