//! The agreement as the member who must accept it sees it. Shared by the server and the browser.

pub use crate::domain::settings::EulaVersion;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberAgreement {
    pub org_name: String,
    /// The version in force; none when the organization has published none.
    pub current: Option<EulaVersion>,
    /// When they accepted it (or a later version), in ms since the epoch; none if they have not.
    pub accepted_at: Option<i64>,
    /// They must accept `current` before they can reach anything else.
    pub pending: bool,
}
