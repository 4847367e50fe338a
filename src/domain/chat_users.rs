//! The people who write to a connector: their profile and names as shown, where their access
//! request stands and what an admin decides, what they sent, and where each message goes under
//! the connector's policy.

use super::connectors::Policy;
use serde::{Deserialize, Serialize};

/// A sender's profile where the webhook lacked it: names and an avatar (a URL, or the image
/// itself as a data URL when the provider's file link would carry the bot token).
#[derive(Debug, Default, PartialEq)]
pub struct ChatProfile {
    pub first_name: String,
    pub last_name: String,
    pub avatar_url: Option<String>,
}

/// Where an access request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AccessStatus {
    Pending,
    Approved,
    Rejected,
}

impl AccessStatus {
    pub const ALL: [AccessStatus; 3] = [AccessStatus::Pending, AccessStatus::Approved, AccessStatus::Rejected];

    pub fn key(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }

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

/// What a person sent: text, or a kind of media, whose caption (if any) is the text. The keys
/// are what the agent receives as `kind`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    #[default]
    Text,
    Photo,
    Voice,
    Audio,
    Video,
    Sticker,
    Document,
    Location,
    Contact,
    /// Something a provider sends that none of the above names (a poll, a game).
    Other,
}

impl MessageKind {
    pub const ALL: [Self; 10] = [
        Self::Text,
        Self::Photo,
        Self::Voice,
        Self::Audio,
        Self::Video,
        Self::Sticker,
        Self::Document,
        Self::Location,
        Self::Contact,
        Self::Other,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Photo => "photo",
            Self::Voice => "voice",
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Sticker => "sticker",
            Self::Document => "document",
            Self::Location => "location",
            Self::Contact => "contact",
            Self::Other => "other",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }

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

/// Where an inbound message goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// To the agent.
    Forward,
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

/// The policy applied to a message, given the sender's access request on this connector and
/// whether the conversation is `shared` with other people (a channel, a group chat).
///
/// In a shared conversation a message counts for its sender, and only people already let in
/// are answered there. Asking for access, the onboarding message and the rejection notice
/// belong to a private conversation with the bot: a shared one never starts or shows them.
pub fn route(policy: Policy, request: Option<AccessStatus>, shared: bool) -> Route {
    let route = match (policy, request) {
        (Policy::AllowAll, _) => Route::Forward,
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
