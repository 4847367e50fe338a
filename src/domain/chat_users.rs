//! The people who write to a connector: their profile and names as shown, where their access
//! request stands and what an admin decides, what they sent, and where each message goes under
//! the connector's policy.

use super::connectors::{ChatProvider, Policy};
use serde::{Deserialize, Serialize};

/// A sender's profile where the webhook lacked it: names and an avatar (a URL, or the image
/// itself as a data URL when the provider's file link would carry the bot token).
#[derive(Debug, Default, PartialEq)]
pub struct ChatProfile {
    pub first_name: String,
    pub last_name: String,
    pub avatar_url: Option<String>,
}

keyed_enum! {
    /// Where an access request stands.
    pub enum AccessStatus {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
    }
}

impl AccessStatus {
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Approved => "Approved",
            Self::Rejected => "Rejected",
        }
    }
}

/// What an admin does to access requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    Approve,
    Reject,
    /// Back to pending: an approval or rejection made by mistake.
    Undo,
}

impl Decision {
    pub fn target(self) -> AccessStatus {
        match self {
            Self::Approve => AccessStatus::Approved,
            Self::Reject => AccessStatus::Rejected,
            Self::Undo => AccessStatus::Pending,
        }
    }

    pub fn audit_action(self) -> &'static str {
        match self {
            Self::Approve => "access.approve",
            Self::Reject => "access.reject",
            Self::Undo => "access.undo",
        }
    }
}

keyed_enum! {
    /// What a person sent: text, or a kind of media, whose caption (if any) is the text. The keys
    /// are what the agent receives as `kind`.
    #[derive(Default)]
    pub enum MessageKind {
        #[default]
        Text = "text",
        Photo = "photo",
        Voice = "voice",
        Audio = "audio",
        Video = "video",
        Sticker = "sticker",
        Document = "document",
        Location = "location",
        Contact = "contact",
        /// Something a provider sends that none of the above names (a poll, a game).
        Other = "other",
    }
}

impl MessageKind {
    /// The kind of a file from its MIME type (RFC 6838 top-level types), for providers that
    /// describe attachments only by that.
    pub fn of_mime_type(mime: &str) -> Self {
        match mime.split('/').next().unwrap_or_default() {
            "image" => Self::Photo,
            "audio" => Self::Audio,
            "video" => Self::Video,
            _ => Self::Document,
        }
    }

    /// The kind of a file from its extension (`png`, `mp4`, `pdf`), for providers that give only that.
    pub fn of_file_extension(extension: &str) -> Self {
        match extension.to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" | "png" | "gif" | "webp" | "heic" | "bmp" | "tif" | "tiff" => Self::Photo,
            "mp4" | "mov" | "avi" | "mkv" | "webm" | "m4v" => Self::Video,
            "mp3" | "m4a" | "wav" | "ogg" | "oga" | "opus" | "aac" | "flac" => Self::Audio,
            _ => Self::Document,
        }
    }
}

/// How a message reads in the log and in an access request: its text, or the kind in brackets
/// and the caption, such as "[photo] the whiteboard".
pub fn shown(kind: MessageKind, text: &str) -> String {
    match (kind, text.trim()) {
        (MessageKind::Text, _) => text.to_string(),
        (_, "") => format!("[{}]", kind.key()),
        (_, caption) => format!("[{}] {caption}", kind.key()),
    }
}

/// Who the sender is to the connector's rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// On the connector's deny list.
    Blocked,
    /// Mapped to an Active member of the organization, on a connector that lets members in.
    Member,
    /// Anyone else.
    Other,
}

/// Where an inbound message goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// To the agent.
    Forward,
    /// A member let in by the connector's rule: their request is recorded as approved, and the
    /// message goes to the agent.
    LetIn,
    /// From someone on the deny list: kept in the log, never forwarded, no request, nothing said.
    Blocked,
    /// A new chat user under OnBoarding: the onboarding message, and an access request.
    RequestAccess,
    /// Waiting for a decision: kept in the log, not forwarded.
    Keep,
    /// Rejected: told once, then dropped.
    Rejected,
    /// In a group or channel, from someone not let in: kept in the log, and nothing is said
    /// there, since others would read it.
    Ignore,
}

/// The policy applied to a message, given the sender's access request on this connector, their
/// standing under the connector's rules, and whether the conversation is `shared` with other
/// people (a channel, a group chat).
///
/// The deny list comes before everything, the AllowAll policy included. A member is let in in
/// place of asking for access, or of waiting on a request still pending (in a shared
/// conversation, answered without a request); a rejection stands.
/// In a shared conversation a message counts for its sender, and only people already let in
/// are answered there. Asking for access, the onboarding message and the rejection notice
/// belong to a private conversation with the bot: a shared one never starts or shows them.
pub fn route(policy: Policy, request: Option<AccessStatus>, standing: Standing, shared: bool) -> Route {
    let route = match (policy, request) {
        _ if standing == Standing::Blocked => return Route::Blocked,
        (Policy::AllowAll, _) => Route::Forward,
        // In a shared conversation nothing is started: a member is simply answered.
        (Policy::OnBoarding, None | Some(AccessStatus::Pending)) if standing == Standing::Member && shared => {
            Route::Forward
        }
        (Policy::OnBoarding, None | Some(AccessStatus::Pending)) if standing == Standing::Member => Route::LetIn,
        (Policy::OnBoarding, None) => Route::RequestAccess,
        (Policy::OnBoarding, Some(AccessStatus::Pending)) => Route::Keep,
        (Policy::OnBoarding, Some(AccessStatus::Approved)) => Route::Forward,
        (Policy::OnBoarding, Some(AccessStatus::Rejected)) => Route::Rejected,
    };
    if shared && route != Route::Forward {
        Route::Ignore
    } else {
        route
    }
}

keyed_enum! {
    /// Which way a logged chat message went.
    pub enum Direction {
        In = "in",
        Out = "out",
    }
}

keyed_enum! {
    /// What a logged chat message is: the chat user's own, or one Onboard or the agent sent them.
    pub enum ChatMessageOrigin {
        User = "user",
        Onboarding = "onboarding",
        Agent = "agent",
        Rejection = "rejection",
        /// Telling the requester they are approved.
        Approval = "approval",
    }
}

impl ChatMessageOrigin {
    /// A message only the person it is for may read: never sent where others read along.
    pub fn is_private(self) -> bool {
        matches!(self, Self::Onboarding | Self::Rejection | Self::Approval)
    }
}

keyed_enum! {
    /// What became of a logged chat message: an inbound one's way to the agent, an outbound one's
    /// delivery.
    pub enum ChatMessageStatus {
        /// In: sent to the agent, whose answer is awaited.
        Forwarded = "forwarded",
        /// In: the agent's reply, or its silence, is recorded.
        Answered = "answered",
        /// In: kept while the sender's access request waits.
        Held = "held",
        /// In: the sender was rejected.
        Dropped = "dropped",
        Queued = "queued",
        Retrying = "retrying",
        Delivered = "delivered",
        Failed = "failed",
    }
}

/// The detail an answered message carries when the agent said nothing.
pub const NO_REPLY: &str = "no reply";

/// How a logged message reads in a conversation: "They wrote", "Onboarding message"…
pub fn message_label(direction: Direction, origin: ChatMessageOrigin) -> &'static str {
    match (direction, origin) {
        (Direction::In, _) => "They wrote",
        (_, ChatMessageOrigin::Onboarding) => "Onboarding message",
        (_, ChatMessageOrigin::Rejection) => "Rejection notice",
        (_, ChatMessageOrigin::Approval) => "Approval message",
        _ => "Agent replied",
    }
}

/// What became of a logged message, with its detail (an error) when there is one.
pub fn message_status(status: ChatMessageStatus, detail: &str) -> String {
    let base = match status {
        ChatMessageStatus::Forwarded => "sent to the agent",
        ChatMessageStatus::Answered if detail == NO_REPLY => "the agent did not reply",
        ChatMessageStatus::Answered => "answered by the agent",
        ChatMessageStatus::Held => "kept: waiting for approval",
        ChatMessageStatus::Dropped => "dropped: access rejected",
        ChatMessageStatus::Queued => "sending…",
        ChatMessageStatus::Retrying => "retrying",
        ChatMessageStatus::Delivered => "delivered",
        ChatMessageStatus::Failed => "failed",
    };
    if detail.is_empty() || detail == NO_REPLY {
        base.to_string()
    } else {
        format!("{base}: {detail}")
    }
}

/// What a rejected user is told, once.
pub const REJECTION_NOTICE: &str =
    "Sorry, your request to use this assistant was not approved. Contact your administrator if you think this is a mistake.";

/// Longest inbound text kept; anything longer is cut with an ellipsis, the log and the agent get the same.
pub const MAX_INBOUND_TEXT_CHARS: usize = 4_000;

pub fn clip_text(text: &str) -> String {
    if text.chars().count() <= MAX_INBOUND_TEXT_CHARS {
        text.to_string()
    } else {
        text.chars().take(MAX_INBOUND_TEXT_CHARS - 1).chain(['…']).collect()
    }
}

/// A display name for a chat user: their names, else their platform id.
pub fn display_name(first: &str, last: &str, platform_id: &str) -> String {
    let name = format!("{} {}", first.trim(), last.trim()).trim().to_string();
    if name.is_empty() {
        platform_id.to_string()
    } else {
        name
    }
}

/// Initials for an avatar placeholder.
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests;

/// An access request with who asked, for the Access Requests panel.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AccessRequestRow {
    pub id: i64,
    pub chat_user_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub platform_id: String,
    pub avatar_url: Option<String>,
    pub provider: ChatProvider,
    pub connector_id: i64,
    pub connector_name: String,
    pub status: AccessStatus,
    pub first_message: String,
    pub created_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccessFilter {
    /// An `AccessStatus` key, or empty for all.
    pub status: String,
    /// 0 for every connector.
    pub connector: i64,
    pub search: String,
    pub page: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ChatUserRow {
    pub id: i64,
    pub provider: ChatProvider,
    pub platform_id: String,
    pub first_name: String,
    pub last_name: String,
    pub avatar_url: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub messages: i64,
}

/// One message in a conversation, in or out.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ChatMessageRow {
    pub id: i64,
    pub connector_name: String,
    pub direction: Direction,
    pub kind: ChatMessageOrigin,
    pub text: String,
    pub status: ChatMessageStatus,
    pub detail: String,
    pub at: i64,
}

/// One access request as the approvers' card in Slack or Teams shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestCard {
    pub request_id: i64,
    /// The connector the person wrote to.
    pub connector: String,
    /// Its platform, as people read it ("Telegram").
    pub platform: &'static str,
    pub name: String,
    pub platform_id: String,
    /// An `https://` picture, when the provider gave one.
    pub avatar_url: Option<String>,
    pub first_message: String,
    pub status: AccessStatus,
    /// Who decided, as people read their name; `None` for a member let in by the connector's rule.
    pub decided_by: Option<String>,
    /// When, in milliseconds since the epoch.
    pub decided_at: Option<i64>,
}

/// What a decided card says instead of its buttons, before the time: "Approved by Ada Lovelace".
/// `None` while pending.
pub fn card_outcome(status: AccessStatus, decided_by: Option<&str>) -> Option<String> {
    let verb = match status {
        AccessStatus::Pending => return None,
        AccessStatus::Approved => "Approved",
        AccessStatus::Rejected => "Rejected",
    };
    Some(match decided_by {
        Some(name) => format!("{verb} by {name}"),
        None => format!("{verb} automatically, as a member"),
    })
}

/// The private answer to someone who clicked Approve or Reject without holding `access.review`.
pub const ONLY_APPROVERS: &str =
    "Only approvers can decide: people whose chat account is mapped to a member allowed to review access requests.";

/// The private answer to a click on a request decided before: "Already approved by Ada Lovelace,
/// 14:02." with the time as the provider writes it.
pub fn already_decided(outcome: &str, when: &str) -> String {
    let mut chars = outcome.chars();
    let first = chars.next().map(|c| c.to_lowercase().to_string()).unwrap_or_default();
    format!("Already {first}{}, {when}. Nothing changed.", chars.as_str())
}
