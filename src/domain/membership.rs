use serde::{Deserialize, Serialize};
keyed_enum! {
    pub enum MembershipStatus {
        /// Invited, not registered yet.
        Pending = "pending",
        Active = "active",
        /// Paused by an admin: cannot sign in.
        Inactive = "inactive",
        /// The invitation lapsed before registration.
        Expired = "expired",
    }
}

impl MembershipStatus {
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Active => "Active",
            Self::Inactive => "Inactive",
            Self::Expired => "Expired",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct OrgChoice {
    pub id: i64,
    pub name: String,
}
