//! A provider's people, whichever provider a mapping page is about.

use super::provider::ProviderFailure;
use super::{slack, teams};

/// The people of a Slack workspace or a Teams tenant, whichever a mapping page is about.
pub enum Directory<'a> {
    Slack(&'a slack::SlackClient),
    Teams(&'a teams::TeamsClient),
}

impl Directory<'_> {
    pub fn of(state: &crate::server::AppState, provider: crate::domain::onboarding::Provider) -> Option<Directory<'_>> {
        use crate::domain::onboarding::Provider;
        match provider {
            Provider::Slack => state.slack.as_ref().map(Directory::Slack),
            Provider::Teams => state.teams.as_ref().map(Directory::Teams),
        }
    }

    pub async fn users(&self) -> Result<Vec<crate::api::identity::types::DirectoryUser>, ProviderFailure> {
        match self {
            Directory::Slack(c) => c.directory.get_or_fetch(c.users()).await,
            Directory::Teams(c) => c.directory.get_or_fetch(c.users()).await,
        }
    }

    pub async fn lookup_by_email(
        &self,
        email: &str,
    ) -> Result<Option<crate::api::identity::types::DirectoryUser>, ProviderFailure> {
        match self {
            Directory::Slack(c) => c.lookup_by_email(email).await,
            Directory::Teams(c) => c.lookup_by_email(email).await,
        }
    }
}
