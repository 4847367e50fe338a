//! What can become of each address on the Invite users page.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InviteClass {
    New,
    Invalid,
    DuplicateInList,
    /// Any membership in this organization (any service area, any status but Expired).
    AlreadyMember,
    AlreadyPending,
}

impl InviteClass {
    pub fn label(self) -> &'static str {
        match self {
            Self::New => "New",
            Self::Invalid => "Invalid",
            Self::DuplicateInList => "Duplicate in this list",
            Self::AlreadyMember => "Already a member",
            Self::AlreadyPending => "Already invited, pending",
        }
    }
}

/// One pasted entry and its class, as the page and the confirmation show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassifiedEntry {
    pub raw: String,
    pub class: InviteClass,
    /// Why, in words, when the class alone does not say (an invalid address's problem).
    pub detail: Option<String>,
}

/// One-time codes: six digits, ten minutes, five tries.
pub const CODE_LIFETIME_MS: i64 = 10 * 60_000;
pub const CODE_MAX_ATTEMPTS: i64 = 5;
/// A new code may be sent this often, and this many an hour.
pub const CODE_RESEND_GAP_MS: i64 = 30_000;
pub const CODES_PER_HOUR: i64 = 5;
