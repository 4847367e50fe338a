//! Mapping members to Slack or Teams people. Shared by the server and the browser.

pub use crate::domain::onboarding::MappingRow;
use serde::{Deserialize, Serialize};

/// A person in the Slack workspace or the Teams tenant, for the mapping dropdowns.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DirectoryUser {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingPage {
    pub provider: crate::domain::onboarding::Provider,
    /// Whether the provider is set up on this Onboard; without it nothing can be listed.
    pub configured: bool,
    pub rows: Vec<MappingRow>,
    pub total: i64,
    pub page: i64,
    /// The provider's people, for the dropdowns; empty with `directory_error` set if they could not be fetched.
    pub directory: Vec<DirectoryUser>,
    pub directory_error: Option<String>,
}

/// What "Match by email" did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchReport {
    pub matched: i64,
    pub already_mapped: i64,
    /// Members the provider does not know by their address.
    pub unmatched: Vec<String>,
}
