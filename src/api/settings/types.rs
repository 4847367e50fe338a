//! An organization's settings: general, service areas, roles, the EULA and the audit log. Shared by the server and the browser.

use crate::api::registration::types::CountryChoice;
use crate::domain::PermissionSet;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct OrgGeneral {
    pub id: i64,
    pub name: String,
    pub sender_name: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "crate::server::db::Flag"))]
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
    /// The countries the default country may be.
    pub countries: Vec<CountryChoice>,
}
