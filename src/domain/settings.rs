//! Validation of organization settings, shared so the form can say what is wrong before sending.

use super::PermissionSet;
use serde::{Deserialize, Serialize};

pub const MIN_INVITE_DAYS: i64 = 1;
pub const MAX_INVITE_DAYS: i64 = 90;
pub const DEFAULT_INVITE_DAYS: i64 = 7;
pub const MAX_NAME_LEN: usize = 100;
pub const MAX_EULA_LEN: usize = 100_000;

/// A trimmed, non-empty display name (organization, service area, role, sender).
pub fn name(raw: &str, what: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(format!("Enter a {what}."));
    }
    if trimmed.chars().count() > MAX_NAME_LEN {
        return Err(format!("The {what} must be at most {MAX_NAME_LEN} characters."));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(format!("The {what} cannot contain control characters."));
    }
    Ok(trimmed.to_string())
}

pub fn invite_days(raw: &str) -> Result<i64, String> {
    match raw.trim().parse::<i64>() {
        Ok(days) if (MIN_INVITE_DAYS..=MAX_INVITE_DAYS).contains(&days) => Ok(days),
        _ => Err(format!("Enter a whole number of days from {MIN_INVITE_DAYS} to {MAX_INVITE_DAYS}.")),
    }
}

pub fn eula_text(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err("Enter the text of the agreement.".into());
    }
    if trimmed.len() > MAX_EULA_LEN {
        return Err(format!("The agreement must be at most {MAX_EULA_LEN} characters."));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitation_lifetime_must_be_a_sensible_number_of_days() {
        assert_eq!(invite_days(" 7 "), Ok(7));
        assert!(invite_days("0").is_err());
        assert!(invite_days("91").is_err());
        assert!(invite_days("seven").is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("  Sales ", "service area name"), Ok("Sales".into()));
        assert!(name("   ", "service area name").is_err());
        assert!(name(&"x".repeat(101), "role name").is_err());
        assert!(name("a\u{0}b", "role name").is_err());
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct OrgGeneral {
    pub id: i64,
    pub name: String,
    pub sender_name: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "crate::domain::columns::Flag"))]
    pub require_2fa: bool,
    pub invite_lifetime_days: i64,
    /// Where registering members' national mobile numbers are read (ISO 3166-1 alpha-2), or empty.
    pub default_country: String,
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
    #[cfg_attr(feature = "ssr", sqlx(try_from = "crate::domain::columns::Flag"))]
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
    /// Everyone must accept this version (or a later one) again: an Active member who has not
    /// is shown it before anything else.
    #[cfg_attr(feature = "ssr", sqlx(try_from = "crate::domain::columns::Flag"))]
    pub reaccept_required: bool,
}

/// How far the organization's members are with its agreement, for Settings › Agreement.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgreementStanding {
    /// `(eula_versions.id, how many accounts accepted it)`, newest version first.
    pub accepted: Vec<(i64, i64)>,
    /// Active members who have not accepted the current version or a later one, counted up to
    /// `members::SEARCH_COUNT_LIMIT` + 1.
    pub not_yet: i64,
}

impl AgreementStanding {
    pub fn accepted_of(&self, eula_version_id: i64) -> i64 {
        self.accepted.iter().find(|(id, _)| *id == eula_version_id).map(|(_, n)| *n).unwrap_or(0)
    }
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
