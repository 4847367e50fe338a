//! SCIM provisioning tokens (Settings › Provisioning): what a token's form accepts and how a
//! token reads. Each token lets one identity provider (Microsoft Entra ID, Okta) create and
//! manage the organization's members and teams through `/scim/v2` (`server::scim`), and names
//! the service area, role and sending choice of the people it creates.

use crate::AppError;
use serde::{Deserialize, Serialize};

/// The most tokens one organization may have.
pub const MAX_TOKENS: i64 = 10;
/// What a shown token starts with, so a leaked one is easy to recognise (secret scanners).
pub const TOKEN_PREFIX: &str = "onb_scim_";

/// A token as Settings › Provisioning lists it; the token itself is never sent back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ScimToken {
    pub id: i64,
    pub name: String,
    pub service_area_id: i64,
    pub service_area: String,
    pub role_id: i64,
    pub role: String,
    /// Whether a created user is invited at once; otherwise held Pending for an admin to send.
    #[cfg_attr(feature = "ssr", sqlx(try_from = "crate::domain::columns::Flag"))]
    pub send_invitations: bool,
    /// The admin who made it, by email; `None` once that account is gone.
    pub created_by: Option<String>,
    pub created_at: i64,
    /// When a client last called with it (ms, to the minute); `None` before its first call.
    pub last_used_at: Option<i64>,
}

/// What Settings › Provisioning shows: the tokens, and the choices a token's form offers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProvisioningPage {
    pub tokens: Vec<ScimToken>,
    pub areas: Vec<super::settings::ServiceArea>,
    /// The roles the caller may grant.
    pub roles: Vec<super::settings::Role>,
    /// The SCIM base URL to give the identity provider.
    pub base_url: String,
}

/// A token as it is shown once, on creation. Its `Debug` leaves the token out.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ShownToken {
    pub token_id: i64,
    /// [`TOKEN_PREFIX`] and 32 random bytes, base64url.
    pub token: String,
    /// The SCIM base URL to give the identity provider (the "Tenant URL" in Entra ID).
    pub base_url: String,
}

impl std::fmt::Debug for ShownToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShownToken").field("token_id", &self.token_id).field("token", &"••••").finish()
    }
}

/// A token's form, as typed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenForm {
    pub name: String,
    pub service_area_id: i64,
    pub role_id: i64,
    #[serde(default)]
    pub send_invitations: bool,
}

impl TokenForm {
    /// The name, trimmed. Errors: `Invalid` on `name` when it is empty, over
    /// [`super::settings::MAX_NAME_LEN`] characters or holds control characters. The area and
    /// role are checked against the organization's on the server.
    pub fn checked_name(&self) -> Result<String, AppError> {
        super::settings::name(&self.name, "token name").map_err(|reason| AppError::invalid("name", reason))
    }
}

/// How the audit log names a change a token made.
pub fn token_actor(name: &str) -> String {
    format!("SCIM token “{name}”")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_needs_a_short_printable_name() {
        let form = |name: &str| TokenForm { name: name.into(), ..Default::default() };
        assert_eq!(form("  Entra ID ").checked_name().unwrap(), "Entra ID");
        assert!(form(" \t").checked_name().unwrap_err().for_field("name").is_some());
        assert!(form("Entra\u{7}").checked_name().unwrap_err().for_field("name").is_some());
        assert!(form(&"x".repeat(101)).checked_name().unwrap_err().for_field("name").unwrap().contains("100"));
    }

    #[test]
    fn a_shown_token_is_never_debug_printed() {
        let shown = ShownToken { token_id: 3, token: "onb_scim_abc".into(), base_url: "https://x/scim/v2".into() };
        assert!(!format!("{shown:?}").contains("abc"));
    }
}
