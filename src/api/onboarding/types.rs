//! The onboarding dashboard, its teams and members, and onboarding messages. Shared by the server and the browser.

use crate::domain::onboarding::DeliveryStatus;
pub use crate::domain::onboarding::{RecipientOutcome, StatusCounts, TeamMemberRow, TeamSummary};
use serde::{Deserialize, Serialize};

/// Tools › Onboarding: every team with its progress, and the organization's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnboardingOverview {
    /// One page of teams (`TEAMS_PER_PAGE`), by name.
    pub teams: Vec<TeamSummary>,
    /// How many teams the filter matches in all.
    pub teams_total: i64,
    /// The page and name filter this overview shows.
    pub teams_filter: crate::domain::onboarding::TeamFilter,
    pub overall: StatusCounts,
    /// Whether the caller may message people (`onboarding.message`).
    pub can_message: bool,
    /// Whether the caller may create, rename and fill teams (`users.manage`).
    pub can_edit_teams: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMembersPage {
    pub team: TeamSummary,
    pub rows: Vec<TeamMemberRow>,
    pub page: i64,
    pub total: i64,
    pub can_message: bool,
    pub can_edit_teams: bool,
}

/// Who a "Send message" will reach and how, for the modal's preview and details.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePlan {
    /// "Ada Lovelace" or "team Platform".
    pub audience: String,
    pub team_id: Option<i64>,
    pub membership_id: Option<i64>,
    pub org: String,
    pub sender: String,
    /// What a fresh registration link looks like; the real one is made when the message is sent.
    pub link_preview: crate::domain::message::RegistrationLink,
    pub recipients: Vec<PlannedRecipient>,
    /// Team members left out because they have already onboarded.
    pub already_onboarded: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedRecipient {
    pub membership_id: i64,
    pub name: String,
    pub first_name: String,
    pub email: String,
    pub channel: crate::domain::onboarding::Channel,
    /// Whether this message carries them a fresh registration link (they have not registered
    /// and the sender may renew invitations).
    pub needs_link: bool,
    /// Whether they have not registered yet.
    pub still_to_register: bool,
}

impl MessagePlan {
    /// The facts `compose` turns into what this recipient reads, with the custom text.
    pub fn facts_for(&self, recipient: &PlannedRecipient, custom: &str) -> crate::domain::message::MessageFacts {
        crate::domain::message::MessageFacts {
            first_name: recipient.first_name.clone(),
            org: self.org.clone(),
            sender: self.sender.clone(),
            custom: custom.to_string(),
            link: recipient.needs_link.then(|| self.link_preview.clone()),
            still_to_register: recipient.still_to_register,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendProgress {
    pub id: i64,
    pub recipients: Vec<RecipientOutcome>,
}

impl SendProgress {
    pub fn count(&self, status: DeliveryStatus) -> usize {
        self.recipients.iter().filter(|r| r.status == status).count()
    }
}
