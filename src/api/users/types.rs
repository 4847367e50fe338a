//! The members list. Shared by the server and the browser.

use crate::api::settings::types::{Role, ServiceArea};
pub use crate::domain::members::MemberRow;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberPage {
    /// At most `PAGE_SIZE` members, in address order.
    pub rows: Vec<MemberRow>,
    /// How many members match; with a search, at most `SEARCH_COUNT_LIMIT` + 1, which reads
    /// "more than 10,000".
    pub total: i64,
    /// Whether the list goes on before the first row and after the last.
    pub has_previous: bool,
    pub has_next: bool,
    pub areas: Vec<ServiceArea>,
    pub roles: Vec<Role>,
    /// Whether the caller may pause and resume members.
    pub can_manage: bool,
    /// Whether the caller may invite people.
    pub can_invite: bool,
    /// The caller's own row, which offers no actions.
    pub my_membership_id: i64,
}

/// What "Remind all pending" would do: how many pending members it reaches, and over which
/// channels, before anything is sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RemindPlan {
    pub members: i64,
    /// Each channel with how many it reaches, in `Channel::ALL`'s order.
    pub channels: Vec<(crate::domain::onboarding::Channel, i64)>,
    /// The organization's rate, which the reminders go out at.
    pub per_minute: i64,
    /// Pending members of the filter left out: their role holds a permission the caller lacks.
    pub left_out: i64,
}

/// A "Remind all pending" under way: how many it reaches and how many are done.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RemindProgress {
    pub total: i64,
    pub done: i64,
}
