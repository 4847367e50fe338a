use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MembershipStatus {
    /// Invited, not registered yet.
    Pending,
    Active,
    /// Paused by an admin: cannot sign in.
    Inactive,
    /// The invitation lapsed before registration.
    Expired,
}

impl MembershipStatus {
    pub fn key(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Expired => "expired",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Active => "Active",
            Self::Inactive => "Inactive",
            Self::Expired => "Expired",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        [Self::Pending, Self::Active, Self::Inactive, Self::Expired].into_iter().find(|s| s.key() == key)
    }
}
