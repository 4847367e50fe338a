//! Inviting people and following a batch. Shared by the server and the browser.

use crate::api::settings::types::{Role, ServiceArea};
pub use crate::domain::invites::FailedDelivery;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InviteFormData {
    pub areas: Vec<ServiceArea>,
    /// Only roles the caller may hand out.
    pub roles: Vec<Role>,
    pub lifetime_days: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchProgress {
    pub area: String,
    pub role: String,
    pub created_at: i64,
    pub sent: i64,
    pub failed: i64,
    pub remaining: i64,
    /// Accepted addresses whose invitation is not stored yet: a large batch is stored a part
    /// at a time after the first 10,000.
    pub preparing: i64,
    /// Accepted addresses that were not stored because the job storing them failed for good;
    /// it can be tried again on the Outbox page.
    pub unstored: i64,
    /// Pasted entries that were not invited, with why: the first `SHOWN_ENTRIES` of them.
    pub not_invited: Vec<crate::domain::invites::ClassifiedEntry>,
    /// How many pasted entries were not invited in all.
    pub not_invited_total: usize,
    /// Invitations whose email failed for good, each to fix and send again.
    pub failures: Vec<FailedDelivery>,
}

impl BatchProgress {
    /// Emails still to go out: those queued or being retried, and those of the addresses still
    /// being stored, which have none queued yet.
    pub fn still_to_send(&self) -> i64 {
        self.remaining + self.preparing
    }
}
