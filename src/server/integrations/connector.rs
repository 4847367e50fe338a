//! One connector as the provider clients use it: its provider, credentials (opened) and agent.

use crate::api::connectors::types::{ConnectorCard, CredentialView};
use crate::domain::connectors::{self as rules, ChatProvider, Policy};
use crate::server::config::Settings;
use crate::server::db::connectors::StoredConnector;
use crate::server::secret::Secret;
use std::collections::BTreeMap;

/// A provider's settings for one connector. Never logged, never sent to the browser in full.
#[derive(Clone, Default, PartialEq)]
pub struct Credentials(BTreeMap<String, String>);

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(<redacted>)")
    }
}

impl Credentials {
    /// The value, or empty when unset.
    pub fn get(&self, key: &str) -> &str {
        self.0.get(key).map(String::as_str).unwrap_or_default()
    }

    pub fn secret(&self, key: &str) -> Secret {
        Secret::new(self.get(key))
    }

    pub fn new(values: BTreeMap<String, String>) -> Self {
        Self(values)
    }

    /// As stored (sealed) in `connectors.credentials`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).expect("a string map always serializes")
    }
}

#[derive(Clone, Debug)]
pub struct Connector {
    pub id: i64,
    pub org_id: i64,
    pub provider: ChatProvider,
    pub name: String,
    pub webhook_key: String,
    pub enabled: bool,
    pub policy: Policy,
    /// Members are let in without a request (Slack and Teams).
    pub auto_approve_members: bool,
    pub onboarding_message: String,
    /// Approvals in chat: the Slack or Teams connector that posts new requests, and where.
    pub approvals: Option<Approvals>,
    /// Tells a requester they are approved.
    pub approval_message: String,
    pub agent_url: String,
    pub agent_secret: Secret,
    pub credentials: Credentials,
}

/// Where a connector's new access requests are posted for the approvers to decide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approvals {
    /// The organization's Slack or Teams connector whose bot posts the cards and hears the clicks.
    pub via: i64,
    /// A Slack channel ID, or a Teams channel or group chat ID.
    pub conversation: String,
}

impl TryFrom<StoredConnector> for Connector {
    type Error = sqlx::Error;

    fn try_from(s: StoredConnector) -> Result<Self, sqlx::Error> {
        let corrupt = |what: &str| sqlx::Error::Decode(format!("connector {}: unreadable {what}", s.id).into());
        Ok(Self {
            provider: ChatProvider::parse(&s.provider).ok_or_else(|| corrupt("provider"))?,
            policy: Policy::parse(&s.policy).ok_or_else(|| corrupt("policy"))?,
            credentials: Credentials(serde_json::from_str(&s.credentials).map_err(|_| corrupt("credentials"))?),
            agent_secret: Secret::new(s.agent_secret),
            id: s.id,
            org_id: s.org_id,
            name: s.name,
            webhook_key: s.webhook_key,
            enabled: s.enabled,
            auto_approve_members: s.auto_approve_members,
            onboarding_message: s.onboarding_message,
            approvals: s
                .approvals_via
                .filter(|_| !s.approvers_conversation.is_empty())
                .map(|via| Approvals { via, conversation: s.approvers_conversation }),
            approval_message: s.approval_message,
            agent_url: s.agent_url,
        })
    }
}

impl Connector {
    pub fn webhook_url(&self, settings: &Settings) -> String {
        format!("{}/webhooks/{}", settings.public_base(), self.webhook_key)
    }

    /// The connector as its card shows it, with its deny list (`blocked`).
    pub fn card(
        &self,
        settings: &Settings,
        pending_requests: i64,
        chat_users: i64,
        blocked: Vec<String>,
    ) -> ConnectorCard {
        let credentials = self
            .provider
            .credential_fields()
            .iter()
            .map(|f| {
                let value = self.credentials.get(f.key);
                CredentialView {
                    key: f.key.into(),
                    label: f.label.into(),
                    secret: f.secret,
                    shown: if f.secret { rules::hint(value) } else { value.to_string() },
                    help: f.help.into(),
                }
            })
            .collect();
        ConnectorCard {
            id: self.id,
            provider: self.provider,
            name: self.name.clone(),
            enabled: self.enabled,
            policy: self.policy,
            onboarding_message: self.onboarding_message.clone(),
            agent_url: self.agent_url.clone(),
            agent_secret_hint: rules::hint(self.agent_secret.expose()),
            credentials,
            webhook_url: self.webhook_url(settings),
            pending_requests,
            chat_users,
            auto_approve_members: self.auto_approve_members,
            blocked,
            approvals_via: self.approvals.as_ref().map(|a| a.via),
            approvers_conversation: self.approvals.as_ref().map(|a| a.conversation.clone()).unwrap_or_default(),
            approval_message: self.approval_message.clone(),
        }
    }
}
