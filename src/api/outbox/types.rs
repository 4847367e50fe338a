//! The outbox as an admin reads it. Shared by the server and the browser.

pub use crate::domain::outbox::{OutboxJob, OutboxStatusCounts};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxOverview {
    pub counts: OutboxStatusCounts,
    pub jobs: Vec<OutboxJob>,
    pub smtp_configured: bool,
}
