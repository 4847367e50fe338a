//! A member's own profile and connected chat accounts. Shared by the server and the browser.

use serde::{Deserialize, Serialize};

/// The signed-in member's own profile, with their chat accounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub email: String,
    pub name: String,
    pub org_name: String,
    pub connections: Vec<Connection>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub provider: crate::domain::onboarding::Provider,
    /// The mapped account's name, and how the mapping was made ('manual', 'email', 'oauth').
    pub account: Option<(String, String)>,
    /// Whether this Onboard can sign people in with the provider.
    pub can_connect: bool,
}
