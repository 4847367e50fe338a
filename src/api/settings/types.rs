//! An organization's settings: general, service areas, roles, the EULA and the audit log. Shared by the server and the browser.

use crate::api::registration::types::CountryChoice;
pub use crate::domain::settings::AuditEntry;
pub use crate::domain::settings::{AgreementStanding, EulaVersion, OrgGeneral, Role, ServiceArea};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrgSettings {
    pub general: OrgGeneral,
    pub areas: Vec<ServiceArea>,
    pub roles: Vec<Role>,
    pub eulas: Vec<EulaVersion>,
    pub agreement: AgreementStanding,
    pub reminders: crate::domain::reminders::ReminderSettings,
    pub audit: Vec<AuditEntry>,
    /// The countries the default country may be.
    pub countries: Vec<CountryChoice>,
}
