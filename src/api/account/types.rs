//! The signed-in person, their organizations, signing in, and one-time password links. Shared by the server and the browser.

pub use crate::domain::membership::OrgChoice;
use crate::domain::PermissionSet;
use serde::{Deserialize, Serialize};

/// The signed-in person as the app shell needs them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub account_id: i64,
    pub email: String,
    pub display_name: String,
    pub org_id: i64,
    pub org_name: String,
    pub role_name: String,
    pub permissions: PermissionSet,
    pub orgs: Vec<OrgChoice>,
    /// The picture of a Slack or Teams account they connected (an https or data: URL), shown
    /// instead of their initials.
    pub picture: Option<String>,
    /// A new version of the agreement awaits their acceptance: every page but it is closed.
    pub agreement_pending: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PasswordLinkInfo {
    pub email: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SignInOutcome {
    SignedIn,
    /// A second factor is required: a code was sent by email or text message.
    CodeSent,
    /// A second factor is required: the code the person's authenticator app shows.
    AuthenticatorCode,
}
