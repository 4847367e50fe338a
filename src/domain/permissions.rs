use serde::{Deserialize, Serialize};
use std::fmt;

/// What a role may do inside its organization. Checked on the server for every server function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    OnboardingView,
    OnboardingMessage,
    IdentityConfigure,
    UsersInvite,
    UsersManage,
    ConnectorsManage,
    AccessReview,
    OrgSettings,
}

impl Permission {
    pub const ALL: [Permission; 8] = [
        Permission::OnboardingView,
        Permission::OnboardingMessage,
        Permission::IdentityConfigure,
        Permission::UsersInvite,
        Permission::UsersManage,
        Permission::ConnectorsManage,
        Permission::AccessReview,
        Permission::OrgSettings,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Permission::OnboardingView => "onboarding.view",
            Permission::OnboardingMessage => "onboarding.message",
            Permission::IdentityConfigure => "identity.configure",
            Permission::UsersInvite => "users.invite",
            Permission::UsersManage => "users.manage",
            Permission::ConnectorsManage => "connectors.manage",
            Permission::AccessReview => "access.review",
            Permission::OrgSettings => "org.settings",
        }
    }

    /// The wording admins see next to the checkbox.
    pub fn label(self) -> &'static str {
        match self {
            Permission::OnboardingView => "View Onboarding management",
            Permission::OnboardingMessage => "Enable Onboarding management (message users and teams)",
            Permission::IdentityConfigure => "Configure identity mappings",
            Permission::UsersInvite => "Invite users",
            Permission::UsersManage => "Manage users (pause, resume, resend, revoke)",
            Permission::ConnectorsManage => "Manage connectors",
            Permission::AccessReview => "Review access requests",
            Permission::OrgSettings => "Organization settings",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.key() == key)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// A set of permissions, stored as space-separated keys so one column holds a role's grants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionSet(u16);

impl PermissionSet {
    pub fn all() -> Self {
        Self::from_iter(Permission::ALL)
    }

    pub fn contains(self, p: Permission) -> bool {
        self.0 & Self::bit(p) != 0
    }

    pub fn with(self, p: Permission, granted: bool) -> Self {
        if granted {
            Self(self.0 | Self::bit(p))
        } else {
            Self(self.0 & !Self::bit(p))
        }
    }

    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL.into_iter().filter(move |p| self.contains(*p))
    }

    /// Unknown keys are ignored so a permission removed in a later release cannot break loading.
    pub fn parse(stored: &str) -> Self {
        Self::from_iter(stored.split_whitespace().filter_map(Permission::parse))
    }

    pub fn to_stored(self) -> String {
        self.iter().map(Permission::key).collect::<Vec<_>>().join(" ")
    }

    fn bit(p: Permission) -> u16 {
        1 << (p as u16)
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        iter.into_iter().fold(Self::default(), |set, p| set.with(p, true))
    }
}

/// The roles every new organization starts with.
pub fn builtin_roles() -> [(&'static str, PermissionSet); 4] {
    use Permission::*;
    [
        ("Owner", PermissionSet::all()),
        ("Admin", PermissionSet::all().with(OrgSettings, false)),
        ("Manager", PermissionSet::from_iter([OnboardingView, OnboardingMessage, UsersInvite])),
        ("Member", PermissionSet::default()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_permission_set_round_trips_through_its_stored_form() {
        for (_, set) in builtin_roles() {
            assert_eq!(PermissionSet::parse(&set.to_stored()), set);
        }
    }

    #[test]
    fn builtin_roles_match_the_design() {
        let roles = builtin_roles();
        assert_eq!(roles[0].1.iter().count(), 8);
        assert!(!roles[1].1.contains(Permission::OrgSettings));
        assert_eq!(roles[1].1.iter().count(), 7);
        assert_eq!(roles[2].1.to_stored(), "onboarding.view onboarding.message users.invite");
        assert_eq!(roles[3].1.iter().count(), 0);
    }

    #[test]
    fn unknown_keys_are_ignored() {
        assert_eq!(
            PermissionSet::parse("bogus org.settings"),
            PermissionSet::default().with(Permission::OrgSettings, true)
        );
    }
}
