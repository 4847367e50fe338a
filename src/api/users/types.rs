//! The members list. Shared by the server and the browser.

use crate::api::settings::types::{Role, ServiceArea};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct MemberRow {
    pub id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// A `MembershipStatus` key.
    pub status: String,
    pub area: Option<String>,
    pub role: String,
    pub invited_by: Option<String>,
    pub created_at: i64,
    pub activated_at: Option<i64>,
}

impl MemberRow {
    pub fn display_name(&self) -> String {
        let name = format!("{} {}", self.first_name, self.last_name).trim().to_string();
        if name.is_empty() {
            "—".into()
        } else {
            name
        }
    }
}

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
