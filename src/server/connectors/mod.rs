//! Chat connectors on the server: saving them with their credentials ([`cache`] keeps them for
//! the webhooks), applying a connector's policy to each inbound message ([`intake`]), and the
//! outbox's three chat jobs ([`relay`]: calling the agent, sending a text into a conversation,
//! looking up a sender's profile), and approvals in chat ([`approvals`]: the approvers' cards in
//! Slack or Teams, the clicks on them, and telling the approved).

pub mod approvals;
pub mod cache;
pub mod intake;
pub mod relay;

use crate::api::connectors::types::ConnectorDraft;
use crate::domain::chat_users::{self, ChatMessageOrigin, ChatMessageStatus, Direction};
use crate::domain::connectors::{self as rules, ChatProvider};
use crate::server::db;
use crate::server::db::chat_messages::NewChatMessage;
use crate::server::integrations::connector::{Connector, Credentials};
use crate::server::integrations::provider::ProviderFailure;
use crate::server::integrations::shared::ReplyAddress;
use crate::server::outbox::{enqueue_chat, ChatSend, JobPayload};
use crate::server::sealing::ServerKey;
use crate::server::AppState;
use crate::AppError;
use base64::Engine;
use sqlx::{Any, Transaction};
use std::collections::BTreeMap;

pub async fn load(state: &AppState, org_id: i64, id: i64) -> Result<Option<Connector>, AppError> {
    Ok(db::connectors::get(&state.db, org_id, id).await?.map(Connector::try_from).transpose()?)
}

/// A draft checked against the provider's rules, ready to store. For an edit, blank secrets
/// take the stored values, so nobody has to type a secret again to change a name.
pub struct CheckedDraft {
    pub provider: ChatProvider,
    pub name: String,
    pub agent_url: String,
    pub agent_secret: String,
    pub credentials: Credentials,
}

pub fn check_draft(draft: &ConnectorDraft, existing: Option<&Connector>) -> Result<CheckedDraft, AppError> {
    let provider = match existing {
        Some(c) => c.provider,
        None => ChatProvider::parse(&draft.provider).ok_or_else(|| {
            AppError::invalid("provider", "Choose Slack, Microsoft Teams, Telegram, 360dialog or Twilio.")
        })?,
    };
    let name = rules::check_name(&draft.name)?;
    let agent_url = rules::check_agent_url(&draft.agent_url)?;
    let agent_secret = match (draft.agent_secret.trim(), existing) {
        ("", Some(c)) => c.agent_secret.expose().to_string(),
        (secret, _) if secret.chars().count() >= rules::MIN_AGENT_SECRET_CHARS => secret.to_string(),
        _ => {
            return Err(AppError::invalid(
                "agent_secret",
                format!(
                    "Enter a signing secret of at least {} characters; the agent checks messages with it.",
                    rules::MIN_AGENT_SECRET_CHARS
                ),
            ))
        }
    };
    let mut credentials = BTreeMap::new();
    for field in provider.credential_fields() {
        let given = draft.credentials.iter().find(|(k, _)| k == field.key).map(|(_, v)| v.trim()).unwrap_or_default();
        let value = match (given, existing) {
            ("", Some(c)) if field.secret => c.credentials.get(field.key).to_string(),
            _ => given.to_string(),
        };
        provider.check_credential(field.key, &value).map_err(|reason| {
            AppError::invalid(&format!("cred_{}", field.key), format!("{}: {reason}", field.label))
        })?;
        credentials.insert(field.key.to_string(), value);
    }
    Ok(CheckedDraft { provider, name, agent_url, agent_secret, credentials: Credentials::new(credentials) })
}

pub fn new_webhook_key() -> String {
    let bytes: [u8; 24] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub async fn create(
    tx: &mut Transaction<'static, Any>,
    key: &ServerKey,
    org_id: i64,
    d: &CheckedDraft,
) -> Result<i64, sqlx::Error> {
    db::connectors::create(
        tx,
        key,
        &db::connectors::NewConnector {
            org_id,
            provider: d.provider.key(),
            name: &d.name,
            webhook_key: &new_webhook_key(),
            agent_url: &d.agent_url,
            agent_secret: &d.agent_secret,
            credentials: &d.credentials.to_json(),
        },
    )
    .await
}

pub async fn update(
    tx: &mut Transaction<'static, Any>,
    key: &ServerKey,
    org_id: i64,
    id: i64,
    d: &CheckedDraft,
) -> Result<bool, sqlx::Error> {
    db::connectors::update(tx, key, org_id, id, &d.name, &d.agent_url, &d.agent_secret, &d.credentials.to_json()).await
}

async fn connector_for_job(state: &AppState, id: i64) -> Result<Connector, ProviderFailure> {
    let stored = db::connectors::by_id(&state.db, id)
        .await
        .map_err(|e| ProviderFailure::transient(format!("loading the connector: {e}")))?
        .ok_or_else(|| ProviderFailure::permanent("the connector was deleted"))?;
    Connector::try_from(stored).map_err(|e| ProviderFailure::permanent(e.to_string()))
}

/// A message Onboard itself sends into a conversation: the onboarding message, a rejection
/// notice, an approval message, an agent's reply.
struct Outgoing<'a> {
    pub kind: ChatMessageOrigin,
    pub text: &'a str,
    /// For an agent's reply, the inbound message it answers: a retried agent call replies once.
    pub answers: Option<i64>,
}

/// Logs a message to the chat user and queues its sending. `false` if it was queued before.
async fn queue_text(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    connector: &Connector,
    chat_user_id: i64,
    reply_to: &ReplyAddress,
    out: &Outgoing<'_>,
) -> Result<bool, sqlx::Error> {
    let answers = out.answers.map(|id| format!("reply-to:{id}"));
    let logged = NewChatMessage {
        org_id: connector.org_id,
        connector_id: connector.id,
        chat_user_id,
        direction: Direction::Out,
        kind: out.kind,
        text: out.text,
        content: chat_users::MessageKind::Text,
        attachment: None,
        platform_message_id: answers.as_deref(),
        conversation_id: &reply_to.conversation_id(),
        status: ChatMessageStatus::Queued,
    };
    let Some(message_id) = db::chat_messages::insert_once(tx, &logged).await? else {
        return Ok(false);
    };
    let send = ChatSend {
        message_id,
        connector_id: connector.id,
        provider: connector.provider,
        reply_to: reply_to.clone(),
        text: out.text.to_string(),
    };
    enqueue_chat(tx, state, connector.org_id, &reply_to.conversation_id(), JobPayload::ChatSend(send)).await?;
    Ok(true)
}
