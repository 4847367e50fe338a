//! What every chat provider's webhook and reply share: the messages a webhook carried, where a
//! reply goes, why a webhook is refused, and the small readers each decoder uses.

use crate::domain::chat_users::MessageKind;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// One message a person wrote, as the provider described it.
#[derive(Clone, Debug, PartialEq)]
pub struct InboundMessage {
    /// Slack user id, Entra object id, Telegram numeric id, or +E.164 phone number.
    pub platform_user_id: String,
    pub first_name: String,
    pub last_name: String,
    /// The provider's id for this message (or delivery), unique per connector: how replays are spotted.
    pub message_id: String,
    /// The text, or a media message's caption (possibly empty).
    pub text: String,
    pub kind: MessageKind,
    /// The provider's reference to what a media message carries: a file id, a media URL, or a
    /// `geo:` (RFC 5870) or `tel:` (RFC 3966) URI for a location or a contact.
    pub attachment: Option<String>,
    /// Sent in a conversation other people read (a channel, a group chat), not to the bot alone.
    pub shared: bool,
    pub reply_to: ReplyAddress,
}

/// What a verified webhook carried.
#[derive(Debug, PartialEq)]
pub enum Inbound {
    Messages(Vec<InboundMessage>),
    /// Slack's `url_verification`: answer with the challenge.
    Challenge(String),
    /// A click on Approve or Reject on an approvers' card.
    Decision(ChatDecision),
    /// Something other than a person's message (a status update, a bot's own post): acknowledged.
    Nothing,
}

/// Someone's click on an approvers' card: Slack's `block_actions` interaction, or the data a
/// Teams Adaptive Card's `Action.Submit` sends back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatDecision {
    pub request_id: i64,
    /// Approve or Reject; a card offers nothing else.
    pub decision: crate::domain::chat_users::Decision,
    /// Who clicked: a Slack user ID, or an Entra object ID.
    pub approver: String,
    /// Where to answer them privately.
    pub notice_to: NoticeAddress,
}

/// Where a private answer to a click goes: only the person who clicked reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum NoticeAddress {
    /// An ephemeral message (`chat.postEphemeral`) in the channel, seen by `user` alone.
    Slack { channel: String, user: String },
    /// A one-to-one chat between the bot and the member (`29:…` id) on the verified service URL.
    Teams { service_url: String, member_id: String },
}

/// An approvers' card once posted, so a decision updates it in place: through the connector that
/// posted it, whatever the connector's settings say later.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum CardRef {
    /// `chat.update` takes the channel and the message's `ts`.
    Slack { connector_id: i64, channel: String, ts: String },
    /// `PUT /v3/conversations/{conversation_id}/activities/{activity_id}` on the service URL.
    Teams { connector_id: i64, service_url: String, conversation_id: String, activity_id: String },
}

impl CardRef {
    pub fn connector_id(&self) -> i64 {
        match self {
            Self::Slack { connector_id, .. } | Self::Teams { connector_id, .. } => *connector_id,
        }
    }
}

/// Where a reply to a conversation goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum ReplyAddress {
    Slack {
        channel: String,
    },
    Teams {
        service_url: String,
        conversation_id: String,
    },
    Telegram {
        chat_id: i64,
    },
    WhatsApp {
        to: String,
    },
    /// The person's number (`whatsapp:` kept for WhatsApp) and the number they wrote to.
    Twilio {
        to: String,
        from: String,
    },
}

impl ReplyAddress {
    /// The conversation as the agent and the log know it.
    pub fn conversation_id(&self) -> String {
        match self {
            Self::Slack { channel } => channel.clone(),
            Self::Teams { conversation_id, .. } => conversation_id.clone(),
            Self::Telegram { chat_id } => chat_id.to_string(),
            Self::WhatsApp { to } => to.clone(),
            Self::Twilio { to, .. } => to.clone(),
        }
    }

    /// Whether the conversation, judged by its id alone, is one other people read: a Slack
    /// channel or group DM (not a `D…` direct message), a Telegram group or channel (negative
    /// chat id), a Teams group chat or channel (`19:…`). For jobs stored before messages
    /// carried `shared`.
    pub fn looks_shared(&self) -> bool {
        match self {
            Self::Slack { channel } => !channel.starts_with('D'),
            Self::Telegram { chat_id } => *chat_id < 0,
            Self::Teams { conversation_id, .. } => conversation_id.starts_with("19:"),
            Self::WhatsApp { .. } | Self::Twilio { .. } => false,
        }
    }
}

/// A webhook that is not let in: the status to answer and the reason for the log.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub reason: String,
}

impl Refusal {
    pub fn unauthorized(reason: impl Into<String>) -> Self {
        Self { status: StatusCode::UNAUTHORIZED, reason: reason.into() }
    }

    pub fn malformed(reason: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, reason: reason.into() }
    }
}

/// What a webhook request brings, before anything is believed.
pub struct WebhookRequest<'a> {
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// The connector's webhook URL as configured (Twilio signs it).
    pub public_url: &'a str,
    pub now_s: i64,
}

/// Splits a display name the way people read it: the first word, then the rest.
pub fn split_name(full: &str) -> (String, String) {
    let full = full.trim();
    match full.split_once(char::is_whitespace) {
        Some((first, last)) => (first.to_string(), last.trim().to_string()),
        None => (full.to_string(), String::new()),
    }
}

/// Compares a presented secret with the stored one without leaking where they differ.
pub fn secret_matches(stored: &str, presented: Option<&str>) -> bool {
    match presented {
        Some(p) => !stored.is_empty() && bool::from(stored.as_bytes().ct_eq(p.as_bytes())),
        None => false,
    }
}

pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub fn json_body(body: &[u8]) -> Result<serde_json::Value, Refusal> {
    serde_json::from_slice(body).map_err(|e| Refusal::malformed(format!("the body is not JSON: {e}")))
}
