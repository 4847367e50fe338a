//! Data shared by the server and the browser.

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
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct OrgChoice {
    pub id: i64,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct OrgGeneral {
    pub id: i64,
    pub name: String,
    pub sender_name: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "crate::server::db::Flag"))]
    pub require_2fa: bool,
    pub invite_lifetime_days: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ServiceArea {
    pub id: i64,
    pub name: String,
    pub members: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Role {
    pub id: i64,
    pub name: String,
    /// Stored form; see `permission_set`.
    pub permissions: String,
    /// The Owner role: every permission, always.
    #[cfg_attr(feature = "ssr", sqlx(try_from = "crate::server::db::Flag"))]
    pub locked: bool,
    pub members: i64,
}

impl Role {
    pub fn permission_set(&self) -> PermissionSet {
        PermissionSet::parse(&self.permissions)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct EulaVersion {
    pub id: i64,
    pub version: i64,
    pub body: String,
    pub published_at: i64,
    pub published_by: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AuditEntry {
    pub id: i64,
    pub action: String,
    pub detail: String,
    pub at: i64,
    pub actor: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrgSettings {
    pub general: OrgGeneral,
    pub areas: Vec<ServiceArea>,
    pub roles: Vec<Role>,
    pub eulas: Vec<EulaVersion>,
    pub audit: Vec<AuditEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct OutboxJob {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    /// What the recipient reads (an email's plain text, a text message), so an admin can see what went out.
    #[cfg_attr(feature = "ssr", sqlx(default))]
    pub body: Option<String>,
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub last_error: Option<String>,
    pub delivery: Option<String>,
    pub created_at: i64,
    pub done_at: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OutboxStatusCounts {
    pub queued: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxOverview {
    pub counts: OutboxStatusCounts,
    pub jobs: Vec<OutboxJob>,
    pub smtp_configured: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PasswordLinkInfo {
    pub email: String,
}

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
    pub rows: Vec<MemberRow>,
    pub total: i64,
    pub areas: Vec<ServiceArea>,
    pub roles: Vec<Role>,
    /// Whether the caller may pause and resume members.
    pub can_manage: bool,
    /// Whether the caller may invite people.
    pub can_invite: bool,
    /// The caller's own row, which offers no actions.
    pub my_membership_id: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegistrationStep {
    Details,
    SecondFactor,
    Eula,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegistrationInfo {
    pub email: String,
    pub org_name: String,
    pub require_2fa: bool,
    /// Whether codes can go by text message (an SMS provider is configured).
    pub sms_available: bool,
    pub step: RegistrationStep,
    /// The current agreement, if the organization has published one.
    pub eula: Option<EulaVersion>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SignInOutcome {
    SignedIn,
    /// A second factor is required: a code was sent by email or text message.
    CodeSent,
    /// A second factor is required: the code the person's authenticator app shows.
    AuthenticatorCode,
}

/// The second factor a person registering chose, ready to be proven with a code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SecondFactorSetup {
    /// A code went out by email or text message.
    CodeSent,
    /// An authenticator app: scan the QR code (an SVG image) or type the key, then its code.
    Authenticator { qr_svg: String, key: String },
}

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
    pub not_invited: Vec<crate::domain::invites::ClassifiedEntry>,
}
