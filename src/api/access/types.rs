//! Access requests and chat users. Shared by the server and the browser.

pub use crate::domain::chat_users::{AccessFilter, AccessRequestRow, ChatMessageRow, ChatUserRow};
use serde::{Deserialize, Serialize};

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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatUserPage {
    pub rows: Vec<ChatUserRow>,
    pub total: i64,
    pub page: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatUserDetail {
    pub user: ChatUserRow,
    pub requests: Vec<AccessRequestRow>,
    pub messages: Vec<ChatMessageRow>,
}
