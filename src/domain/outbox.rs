//! The outbox's job vocabulary as an admin reads it: what a job sends and where it stands.

use serde::{Deserialize, Serialize};

use super::connectors::ChatProvider;
use super::onboarding::Channel;

keyed_enum! {
    /// Where an outbox job stands.
    pub enum JobStatus {
        /// Waiting for its time (`run_at`): new, or retrying after a failed attempt.
        Queued = "queued",
        /// Claimed by an instance, which holds it until its lease ends.
        Running = "running",
        Done = "done",
        /// Out of attempts, or refused for good; an admin may try it again.
        Failed = "failed",
    }
}

keyed_enum! {
    /// What an outbox job sends, or what it does.
    pub enum JobKind {
        Email = "email",
        Sms = "sms",
        Slack = "slack",
        Teams = "teams",
        Telegram = "telegram",
        D360 = "d360",
        Twilio = "twilio",
        /// A chat user's message for a connector's agent.
        Agent = "agent",
        /// A new chat user's names or picture from the provider.
        Profile = "profile",
        /// The rest of an invitation batch, stored a part at a time.
        Batch = "batch",
        /// An access request's card in the approvers' Slack or Teams conversation, posted or updated.
        Card = "card",
        /// An onboarding event for one of the organization's webhook endpoints.
        Webhook = "webhook",
    }
}

impl From<Channel> for JobKind {
    fn from(channel: Channel) -> Self {
        match channel {
            Channel::Slack => Self::Slack,
            Channel::Teams => Self::Teams,
            Channel::Email => Self::Email,
        }
    }
}

impl From<ChatProvider> for JobKind {
    fn from(provider: ChatProvider) -> Self {
        match provider {
            ChatProvider::Slack => Self::Slack,
            ChatProvider::Teams => Self::Teams,
            ChatProvider::Telegram => Self::Telegram,
            ChatProvider::D360 => Self::D360,
            ChatProvider::Twilio => Self::Twilio,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct OutboxJob {
    pub id: i64,
    pub kind: JobKind,
    pub recipient: String,
    pub subject: String,
    /// What the recipient reads (an email's plain text, a text message), so an admin can see what went out.
    #[cfg_attr(feature = "ssr", sqlx(default))]
    pub body: Option<String>,
    pub status: JobStatus,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub last_error: Option<String>,
    pub delivery: Option<String>,
    pub created_at: i64,
    pub done_at: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OutboxStatusCounts {
    pub queued: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
}
