//! The onboarding dashboard, its teams and members, and onboarding messages. Shared by the server and the browser.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct TeamSummary {
    pub id: i64,
    pub name: String,
    pub members: i64,
    pub onboarded: i64,
}

/// How many members of the organization are in each onboarding status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct StatusCounts {
    pub total: i64,
    pub onboarded: i64,
    pub notified: i64,
    pub connected: i64,
}

impl StatusCounts {
    pub fn not_connected(&self) -> i64 {
        self.total - self.onboarded - self.notified - self.connected
    }
}

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

/// One member of a team as the dashboard shows them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct TeamMemberRow {
    pub membership_id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// A `MembershipStatus` key.
    pub membership_status: String,
    pub notified_at: Option<i64>,
    pub slack_id: Option<String>,
    pub teams_id: Option<String>,
    /// The latest onboarding message to them: its channel, state ('queued', 'delivered',
    /// 'failed'), error and time.
    pub last_channel: Option<String>,
    pub last_state: Option<String>,
    pub last_error: Option<String>,
    pub last_at: Option<i64>,
}

impl TeamMemberRow {
    pub fn status(&self) -> crate::domain::onboarding::OnboardingStatus {
        let membership = crate::domain::MembershipStatus::parse(&self.membership_status)
            .unwrap_or(crate::domain::MembershipStatus::Pending);
        crate::domain::onboarding::OnboardingStatus::derive(
            membership,
            self.notified_at.is_some(),
            self.slack_id.is_some() || self.teams_id.is_some(),
        )
    }

    pub fn display_name(&self) -> String {
        let name = format!("{} {}", self.first_name, self.last_name).trim().to_string();
        if name.is_empty() {
            self.email.clone()
        } else {
            name
        }
    }
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

/// One recipient of a send and what became of their message.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct RecipientOutcome {
    pub membership_id: i64,
    pub email: String,
    pub name: String,
    pub channel: String,
    /// 'queued', 'delivered' or 'failed'.
    pub status: String,
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendProgress {
    pub id: i64,
    pub recipients: Vec<RecipientOutcome>,
}

impl SendProgress {
    pub fn count(&self, status: &str) -> usize {
        self.recipients.iter().filter(|r| r.status == status).count()
    }
}
