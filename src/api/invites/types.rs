//! Inviting people and following a batch. Shared by the server and the browser.

use crate::api::settings::types::{Role, ServiceArea};
use crate::domain::import::RowClass;
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
    /// The sheet the batch was imported from, whose rows say what became of each.
    pub sheet: Option<i64>,
}

impl BatchProgress {
    /// Emails still to go out: those queued or being retried, and those of the addresses still
    /// being stored, which have none queued yet.
    pub fn still_to_send(&self) -> i64 {
        self.remaining + self.preparing
    }
}

/// A sheet checked for import (its dry run), or sent, as its pages show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SheetSummary {
    pub id: i64,
    pub file_name: String,
    pub created_at: i64,
    /// The page's service area and role, for rows that leave those columns empty.
    pub default_area: String,
    pub default_role: String,
    /// How many rows fall in each class, in `RowClass::ORDER`; classes with none are left out.
    pub counts: Vec<(RowClass, i64)>,
    /// The headers of the sheet's columns Onboard does not read.
    pub ignored_columns: Vec<String>,
    /// When an unsent check is dropped (ms since the epoch).
    pub expires_at: Option<i64>,
    /// The batch it was sent as.
    pub batch: Option<i64>,
}

impl SheetSummary {
    /// Rows of people in all, the header aside.
    pub fn rows(&self) -> i64 {
        self.counts.iter().map(|(_, n)| n).sum()
    }

    pub fn count(&self, class: RowClass) -> i64 {
        self.counts.iter().find(|(c, _)| *c == class).map_or(0, |(_, n)| *n)
    }
}

/// What became of a New row once the sheet was sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowResult {
    /// Invited; the email waits in the outbox or is being retried.
    Queued,
    Sent,
    /// Invited, but the email failed for good: the mail server's reason.
    Failed(String),
    /// Not stored yet: a large batch is stored a part at a time.
    Storing,
    /// Became a member, or was invited by someone else, between the check and the sending.
    Skipped,
}

impl RowResult {
    pub fn label(&self) -> String {
        match self {
            Self::Queued => "Invited · email queued".into(),
            Self::Sent => "Invited · email sent".into(),
            Self::Failed(why) => format!("Invited · delivery failed: {why}"),
            Self::Storing => "Being stored".into(),
            Self::Skipped => "Not invited: a member or invited meanwhile".into(),
        }
    }
}

/// One row of a sheet as checked, and once sent, what became of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SheetRowView {
    /// The row's number in the sheet (the header is row 1).
    pub number: i64,
    pub email: String,
    pub name: String,
    pub mobile: String,
    pub area: String,
    pub role: String,
    pub teams: Vec<String>,
    pub class: RowClass,
    pub reason: Option<String>,
    pub result: Option<RowResult>,
}

/// A page of a sheet's rows, of one class or all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SheetPage {
    pub sheet: SheetSummary,
    pub class: Option<RowClass>,
    pub page: i64,
    /// Rows of the class shown (all rows when no class).
    pub total: i64,
    pub rows: Vec<SheetRowView>,
}
