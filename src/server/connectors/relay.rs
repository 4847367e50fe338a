//! The outbox's chat jobs: calling the agent, sending a text into a conversation, looking up a
//! sender's profile, and reporting each attempt back to the conversation log.

use super::{connector_for_job, queue_text, Outgoing};
use crate::domain::chat_users::{ChatMessageOrigin, ChatMessageStatus, MessageKind, NO_REPLY};
use crate::server::db;
use crate::server::integrations::chat;
use crate::server::integrations::provider::ProviderFailure;
use crate::server::outbound::without_url;
use crate::server::outbox::{AgentCall, ChatSend, JobPayload, ProfileLookup};
use crate::server::AppState;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};

/// What the agent receives for each message it may answer.
#[derive(Serialize)]
struct AgentRequest<'a> {
    connector: i64,
    provider: &'a str,
    chat_user: AgentChatUser<'a>,
    conversation_id: &'a str,
    message_id: &'a str,
    /// A media message's caption, possibly empty.
    text: &'a str,
    /// Serialized as its key: "text", "photo", "voice"…
    kind: MessageKind,
    /// The provider's file id or media URL, or a `geo:` or `tel:` URI; absent for text.
    #[serde(skip_serializing_if = "Option::is_none")]
    attachment: Option<&'a str>,
    /// Whether the conversation is a channel or group chat: the reply is read by everyone in it.
    shared: bool,
}

#[derive(Serialize)]
struct AgentChatUser<'a> {
    id: i64,
    platform_id: &'a str,
    first_name: &'a str,
    last_name: &'a str,
}

#[derive(Deserialize)]
struct AgentAnswer {
    #[serde(default)]
    reply: Option<String>,
}

pub const SIGNATURE_HEADER: &str = "x-onboard-signature";
pub const TIMESTAMP_HEADER: &str = "x-onboard-timestamp";

/// `v1=` + hex HMAC-SHA256 over `{timestamp}.{body}` with the connector's agent secret.
pub fn agent_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Calls the agent with one message and queues its reply. A retried call cannot reply twice: the
/// reply is keyed by the message it answers.
pub async fn call_agent(state: &AppState, call: &AgentCall) -> Result<&'static str, ProviderFailure> {
    let connector = connector_for_job(state, call.connector_id).await?;
    if !connector.enabled {
        return Err(ProviderFailure::permanent("the connector is disabled"));
    }
    let loaded = |e: sqlx::Error| ProviderFailure::transient(format!("loading the message: {e}"));
    let message = db::chat_messages::for_agent(&state.db, call.message_id)
        .await
        .map_err(loaded)?
        .ok_or_else(|| ProviderFailure::permanent("the message was deleted"))?;
    // The reply is recorded but the job's completion was lost (a crash of the instance, or of
    // PostgreSQL within its unflushed bookkeeping): the agent is not asked, nor answered, twice.
    if message.status == ChatMessageStatus::Answered {
        return Ok("agent");
    }
    let (first_name, last_name, platform_id) = db::chat_users::names(&state.db, message.chat_user_id)
        .await
        .map_err(loaded)?
        .ok_or_else(|| ProviderFailure::permanent("the chat user was deleted"))?;
    let body = serde_json::to_vec(&AgentRequest {
        connector: connector.id,
        provider: connector.provider.key(),
        chat_user: AgentChatUser {
            id: message.chat_user_id,
            platform_id: &platform_id,
            first_name: &first_name,
            last_name: &last_name,
        },
        conversation_id: &message.conversation_id,
        message_id: message.platform_message_id.as_deref().unwrap_or_default(),
        text: &message.text,
        kind: message.content,
        attachment: message.attachment.as_deref(),
        shared: call.shared.unwrap_or_else(|| call.reply_to.looks_shared()),
    })
    .expect("the agent request always serializes");
    let timestamp = db::now_ms() / 1_000;
    crate::server::outbound::check_literal(&connector.agent_url, &state.chat.allowed_private_hosts)
        .map_err(|refused| ProviderFailure::permanent(format!("the agent endpoint is refused: {}", refused.0)))?;
    let response = state
        .chat
        .agent_http
        .post(&connector.agent_url)
        .timeout(std::time::Duration::from_secs(state.settings.chat.agent_timeout_seconds))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(SIGNATURE_HEADER, agent_signature(connector.agent_secret.expose(), timestamp, &body))
        .body(body)
        .send()
        .await
        .map_err(|e| ProviderFailure::transient(format!("reaching the agent: {}", without_url(&e))))?;
    let status = response.status();
    if status.as_u16() == 408 || status.as_u16() == 429 || status.is_server_error() {
        let mut failure = ProviderFailure::from_response("The agent", response).await;
        failure.permanent = false;
        return Err(failure);
    }
    if !status.is_success() {
        return Err(ProviderFailure::from_response("The agent", response).await);
    }
    let reply = if status.as_u16() == 200 {
        let bytes = crate::server::outbound::read_capped(response)
            .await
            .map_err(|e| ProviderFailure::permanent(format!("reading the agent's answer: {e}")))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            serde_json::from_slice::<AgentAnswer>(&bytes)
                .map_err(|_| ProviderFailure::permanent("the agent's answer is not {\"reply\": …}"))?
                .reply
        }
    } else {
        None
    };
    let stored = |e: sqlx::Error| ProviderFailure::transient(format!("storing the agent's reply: {e}"));
    let mut tx = state.db.begin().await.map_err(stored)?;
    match reply.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(text) => {
            let out = Outgoing { kind: ChatMessageOrigin::Agent, text, answers: Some(message.id) };
            queue_text(&mut tx, state, &connector, message.chat_user_id, &call.reply_to, &out).await.map_err(stored)?;
            db::chat_messages::set_status(&mut *tx, message.id, ChatMessageStatus::Answered, "")
                .await
                .map_err(stored)?;
        }
        None => db::chat_messages::set_status(&mut *tx, message.id, ChatMessageStatus::Answered, NO_REPLY)
            .await
            .map_err(stored)?,
    }
    tx.commit().await.map_err(stored)?;
    state.outbox_wake.notify_waiters();
    Ok("agent")
}

pub async fn send(state: &AppState, send: &ChatSend) -> Result<&'static str, ProviderFailure> {
    // A job queued before conversations were told apart (or retried by hand) may address a group:
    // an onboarding message or rejection notice never goes where other people read it.
    if send.reply_to.looks_shared() {
        let kind = db::chat_messages::kind_of(&state.db, send.message_id)
            .await
            .map_err(|e| ProviderFailure::transient(format!("loading the message: {e}")))?;
        if kind.is_some_and(ChatMessageOrigin::is_private) {
            return Err(ProviderFailure::permanent("not sent: the conversation is shared with other people"));
        }
    }
    let connector = connector_for_job(state, send.connector_id).await?;
    chat::send_text(&state.settings, &state.chat, &connector, &send.reply_to, &send.text).await?;
    Ok(connector.provider.key())
}

pub async fn look_up_profile(state: &AppState, lookup: &ProfileLookup) -> Result<&'static str, ProviderFailure> {
    let connector = connector_for_job(state, lookup.connector_id).await?;
    let profile = chat::fetch_profile(&state.settings, &state.chat, &connector, &lookup.platform_id).await?;
    let stored = |e: sqlx::Error| ProviderFailure::transient(format!("storing the profile: {e}"));
    db::chat_users::set_profile(&state.db, lookup.chat_user_id, &profile).await.map_err(stored)?;
    super::approvals::profile_arrived(state, lookup.chat_user_id).await.map_err(stored)?;
    Ok(connector.provider.key())
}

/// What the outbox reports back to the conversation log once an attempt is over.
pub async fn record_attempt(
    state: &AppState,
    payload: &JobPayload,
    outcome: &Result<&'static str, ProviderFailure>,
    final_failure: bool,
) {
    let (message_id, done) = match payload {
        JobPayload::ChatSend(s) => (s.message_id, ChatMessageStatus::Delivered),
        // A successful agent call records its own outcome with the reply.
        JobPayload::AgentCall(c) if outcome.is_err() => (c.message_id, ChatMessageStatus::Forwarded),
        _ => return,
    };
    let recorded = match outcome {
        Ok(_) => db::chat_messages::set_status(&state.db.pool, message_id, done, "").await,
        Err(f) if final_failure => {
            db::chat_messages::set_status(&state.db.pool, message_id, ChatMessageStatus::Failed, &f.message).await
        }
        Err(f) => {
            db::chat_messages::set_status(&state.db.pool, message_id, ChatMessageStatus::Retrying, &f.message).await
        }
    };
    if let Err(e) = recorded {
        tracing::error!(error = %e, message = message_id, "recording a chat message's outcome failed");
    }
}
