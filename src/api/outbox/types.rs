//! The outbox as an admin reads it. Shared by the server and the browser.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct OutboxJob {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    /// What the recipient reads (an email's plain text, a text message), so an admin can see what went out.
    #[cfg_attr(feature = "ssr", sqlx(default))]
    pub body: Option<String>,
    pub status: String,
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxOverview {
    pub counts: OutboxStatusCounts,
    pub jobs: Vec<OutboxJob>,
    pub smtp_configured: bool,
}
