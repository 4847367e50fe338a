//! Chat connectors on the server: saving them with their credentials, applying a connector's
//! policy to each inbound message, and the outbox's three chat jobs (calling the agent, sending
//! a text into a conversation, looking up a sender's profile).

use super::db::{self, chat_messages::NewChatMessage, connectors::StoredConnector};
use super::integrations::chat::{self, InboundMessage, ReplyAddress};
use super::integrations::ProviderFailure;
use super::jobs::{enqueue_chat, JobPayload};
use super::sealing::ServerKey;
use super::secret::Secret;
use super::AppState;
use crate::api::types::{ConnectorCard, ConnectorDraft, CredentialView};
use crate::domain::connectors::{self as rules, ChatProvider, Policy, Route};
use crate::server::outbound::without_url;
use crate::AppError;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

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

    fn to_json(&self) -> String {
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
    pub onboarding_message: String,
    pub agent_url: String,
    pub agent_secret: Secret,
    pub credentials: Credentials,
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
            onboarding_message: s.onboarding_message,
            agent_url: s.agent_url,
        })
    }
}

impl Connector {
    pub fn webhook_url(&self, state: &AppState) -> String {
        format!("{}/webhooks/{}", state.settings.public_base(), self.webhook_key)
    }

    pub fn card(&self, state: &AppState, pending_requests: i64, chat_users: i64) -> ConnectorCard {
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
            webhook_url: self.webhook_url(state),
            pending_requests,
            chat_users,
        }
    }
}

/// Connectors by webhook key, kept for a few seconds: webhooks arrive in bursts and connectors
/// rarely change. A change made on this instance clears it at once; other instances see it
/// within `FRESH_FOR`.
#[derive(Clone, Default)]
pub struct WebhookConnectors(std::sync::Arc<std::sync::Mutex<HashMap<String, (Instant, Option<Connector>)>>>);

const FRESH_FOR: Duration = Duration::from_secs(5);

impl WebhookConnectors {
    /// The connector a webhook URL names, `None` for an unknown key.
    pub async fn get(&self, db: &db::Db, key: &str) -> Result<Option<Connector>, sqlx::Error> {
        if let Some((at, connector)) = self.0.lock().expect("never poisoned").get(key) {
            if at.elapsed() < FRESH_FOR {
                return Ok(connector.clone());
            }
        }
        let connector = db::connectors::by_webhook_key(db, key).await?.map(Connector::try_from).transpose()?;
        let mut cached = self.0.lock().expect("never poisoned");
        cached.retain(|_, (at, _)| at.elapsed() < FRESH_FOR);
        // Only known keys are kept: requests with made-up keys cannot fill the cache.
        if connector.is_some() {
            cached.insert(key.to_string(), (Instant::now(), connector.clone()));
        }
        Ok(connector)
    }

    /// How many webhook keys are cached.
    pub fn cached(&self) -> usize {
        self.0.lock().expect("never poisoned").len()
    }

    pub fn forget_all(&self) {
        self.0.lock().expect("never poisoned").clear();
    }
}

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
    Ok(CheckedDraft { provider, name, agent_url, agent_secret, credentials: Credentials(credentials) })
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

/// What became of an inbound message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Receipt {
    Stored(Route),
    /// The same provider message id was stored before: a replay or a provider's retry.
    Duplicate,
}

/// Applies the connector's policy to one message, in one transaction: the sender is recorded,
/// the message logged, and whatever it leads to (the agent call, the onboarding message, the
/// rejection notice) queued in the outbox, so a crash leaves all of it or none.
pub async fn receive(state: &AppState, connector: &Connector, m: &InboundMessage) -> Result<Receipt, sqlx::Error> {
    let text = rules::clip_text(&m.text);
    let conversation_id = m.reply_to.conversation_id();
    let mut tx = state.db.begin().await?;
    let sender = db::chat_users::upsert(
        &mut tx,
        connector.org_id,
        connector.id,
        connector.provider.key(),
        &m.platform_user_id,
        &m.first_name,
        &m.last_name,
    )
    .await?;
    let chat_user_id = sender.id;
    let route = rules::route(connector.policy, sender.request, m.shared);
    let status = match route {
        Route::Forward => "forwarded",
        Route::RequestAccess | Route::Keep => "held",
        Route::Rejected | Route::Ignore => "dropped",
    };
    let message = NewChatMessage {
        org_id: connector.org_id,
        connector_id: connector.id,
        chat_user_id,
        direction: "in",
        kind: "user",
        text: &text,
        content: m.kind,
        attachment: m.attachment.as_deref(),
        platform_message_id: Some(&m.message_id),
        conversation_id: &conversation_id,
        status,
    };
    let Some(message_id) = db::chat_messages::insert_once(&mut tx, &message).await? else {
        tx.rollback().await?;
        return Ok(Receipt::Duplicate);
    };
    let reply_to = &m.reply_to;
    match route {
        Route::Forward => {
            let call = AgentCall {
                message_id,
                connector_id: connector.id,
                reply_to: reply_to.clone(),
                shared: Some(m.shared),
            };
            enqueue_chat(&mut tx, state, connector.org_id, &connector.agent_url, JobPayload::AgentCall(call)).await?;
        }
        Route::RequestAccess => {
            // Only the first message's transaction opens the request; a racing one finds it and just waits.
            let first_message = rules::shown(m.kind, &text);
            if db::access_requests::open_once(&mut tx, connector.org_id, connector.id, chat_user_id, &first_message)
                .await?
            {
                let out = Outgoing { kind: "onboarding", text: &connector.onboarding_message, answers: None };
                queue_text(&mut tx, state, connector, chat_user_id, reply_to, &out).await?;
            }
        }
        Route::Keep | Route::Ignore => {}
        Route::Rejected => {
            if db::access_requests::tell_rejection_once(&mut tx, connector.id, chat_user_id).await? {
                let out = Outgoing { kind: "rejection", text: rules::REJECTION_NOTICE, answers: None };
                queue_text(&mut tx, state, connector, chat_user_id, reply_to, &out).await?;
            }
        }
    }
    // Someone merely writing in a channel is not looked up: only people the bot deals with are.
    if !sender.profile_checked && route != Route::Ignore && chat::profile_lookup_helps(connector.provider) {
        db::chat_users::mark_profile_checked(&mut tx, chat_user_id).await?;
        let lookup =
            ProfileLookup { chat_user_id, connector_id: connector.id, platform_id: m.platform_user_id.clone() };
        enqueue_chat(&mut tx, state, connector.org_id, &m.platform_user_id, JobPayload::ChatProfile(lookup)).await?;
    }
    tx.commit().await?;
    Ok(Receipt::Stored(route))
}

struct Outgoing<'a> {
    /// 'onboarding', 'agent' or 'rejection'.
    kind: &'a str,
    text: &'a str,
    /// For an agent's reply, the inbound message it answers: a retried agent call replies once.
    answers: Option<i64>,
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
        direction: "out",
        kind: out.kind,
        text: out.text,
        content: rules::MessageKind::Text,
        attachment: None,
        platform_message_id: answers.as_deref(),
        conversation_id: &reply_to.conversation_id(),
        status: "queued",
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

/// Forward one inbound message to the connector's agent endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentCall {
    pub message_id: i64,
    pub connector_id: i64,
    pub reply_to: ReplyAddress,
    /// Whether the conversation is a channel or group chat; absent in jobs stored before, which
    /// are judged by `reply_to`.
    #[serde(default)]
    pub shared: Option<bool>,
}

/// Send a text into a conversation through the connector's provider.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatSend {
    pub message_id: i64,
    pub connector_id: i64,
    pub provider: ChatProvider,
    pub reply_to: ReplyAddress,
    pub text: String,
}

/// Fill in a new chat user's names or picture from the provider.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileLookup {
    pub chat_user_id: i64,
    pub connector_id: i64,
    pub platform_id: String,
}

async fn connector_for_job(state: &AppState, id: i64) -> Result<Connector, ProviderFailure> {
    let stored = db::connectors::by_id(&state.db, id)
        .await
        .map_err(|e| ProviderFailure::transient(format!("loading the connector: {e}")))?
        .ok_or_else(|| ProviderFailure::permanent("the connector was deleted"))?;
    Connector::try_from(stored).map_err(|e| ProviderFailure::permanent(e.to_string()))
}

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
    /// "text", "photo", "voice", "audio", "video", "sticker", "document", "location", "contact"
    /// or "other".
    kind: &'a str,
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
    if message.status == "answered" {
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
        kind: &message.content,
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
            let out = Outgoing { kind: "agent", text, answers: Some(message.id) };
            queue_text(&mut tx, state, &connector, message.chat_user_id, &call.reply_to, &out).await.map_err(stored)?;
            db::chat_messages::set_status(&mut *tx, message.id, "answered", "").await.map_err(stored)?;
        }
        None => db::chat_messages::set_status(&mut *tx, message.id, "answered", "no reply").await.map_err(stored)?,
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
        if matches!(kind.as_deref(), Some("onboarding" | "rejection")) {
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
    db::chat_users::set_profile(&state.db, lookup.chat_user_id, &profile)
        .await
        .map_err(|e| ProviderFailure::transient(format!("storing the profile: {e}")))?;
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
        JobPayload::ChatSend(s) => (s.message_id, "delivered"),
        // A successful agent call records its own outcome with the reply.
        JobPayload::AgentCall(c) if outcome.is_err() => (c.message_id, "forwarded"),
        _ => return,
    };
    let recorded = match outcome {
        Ok(_) => db::chat_messages::set_status(&state.db.pool, message_id, done, "").await,
        Err(f) if final_failure => {
            db::chat_messages::set_status(&state.db.pool, message_id, "failed", &f.message).await
        }
        Err(f) => db::chat_messages::set_status(&state.db.pool, message_id, "retrying", &f.message).await,
    };
    if let Err(e) = recorded {
        tracing::error!(error = %e, message = message_id, "recording a chat message's outcome failed");
    }
}
