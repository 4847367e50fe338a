//! Access requests and chat users. Shared by the server and the browser.

use serde::{Deserialize, Serialize};

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
    /// A `ChatProvider` key.
    pub provider: String,
    pub connector_id: i64,
    pub connector_name: String,
    /// An `AccessStatus` key.
    pub status: String,
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRequestPage {
    pub rows: Vec<AccessRequestRow>,
    pub total: i64,
    pub page: i64,
    pub pending: i64,
    pub approved: i64,
    pub rejected: i64,
    /// (id, name) of every connector, for the filter.
    pub connectors: Vec<(i64, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ChatUserRow {
    pub id: i64,
    /// A `ChatProvider` key.
    pub provider: String,
    pub platform_id: String,
    pub first_name: String,
    pub last_name: String,
    pub avatar_url: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub messages: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatUserPage {
    pub rows: Vec<ChatUserRow>,
    pub total: i64,
    pub page: i64,
}

/// One message in a conversation, in or out.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ChatMessageRow {
    pub id: i64,
    pub connector_name: String,
    /// 'in' or 'out'.
    pub direction: String,
    /// 'user', 'onboarding', 'agent' or 'rejection'.
    pub kind: String,
    pub text: String,
    pub status: String,
    pub detail: String,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatUserDetail {
    pub user: ChatUserRow,
    pub requests: Vec<AccessRequestRow>,
    pub messages: Vec<ChatMessageRow>,
}
