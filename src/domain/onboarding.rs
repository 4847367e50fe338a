//! Onboarding management: a member's onboarding status, and the channel an onboarding message
//! reaches them on.

use super::MembershipStatus;
use serde::{Deserialize, Serialize};

keyed_enum! {
    /// Where a member stands, derived with this precedence: Onboarded > Notified > Connected > Not connected.
    pub enum OnboardingStatus {
        Onboarded = "onboarded",
        Notified = "notified",
        Connected = "connected",
        NotConnected = "not-connected",
    }
}

impl OnboardingStatus {
    /// A paused (Inactive) member has registered, 2FA and EULA included: reminding them to
    /// register would be wrong, so they count as onboarded like the Active ones.
    pub fn derive(membership: MembershipStatus, notified: bool, connected: bool) -> Self {
        match membership {
            MembershipStatus::Active | MembershipStatus::Inactive => Self::Onboarded,
            _ if notified => Self::Notified,
            _ if connected => Self::Connected,
            _ => Self::NotConnected,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Onboarded => "Onboarded",
            Self::Notified => "Notified",
            Self::Connected => "Connected",
            Self::NotConnected => "Not connected",
        }
    }

    pub fn is_onboarded(self) -> bool {
        self == Self::Onboarded
    }
}

keyed_enum! {
    /// The chat providers a member's identity can be mapped to.
    pub enum Provider {
        Slack = "slack",
        Teams = "teams",
    }
}

impl Provider {
    pub fn label(self) -> &'static str {
        match self {
            Self::Slack => "Slack",
            Self::Teams => "Microsoft Teams",
        }
    }
}

keyed_enum! {
    /// How an onboarding message travels.
    pub enum Channel {
        Slack = "slack",
        Teams = "teams",
        Email = "email",
    }
}

impl Channel {
    pub fn label(self) -> &'static str {
        match self {
            Self::Slack => "Slack",
            Self::Teams => "Microsoft Teams",
            Self::Email => "Email",
        }
    }

    /// Slack when the member is mapped there and Slack is set up, else Teams likewise, else email:
    /// everyone can be reached at the address they were invited with.
    pub fn choose(slack: Option<&str>, teams: Option<&str>, available: ChannelsAvailable) -> Self {
        match (slack, teams) {
            (Some(_), _) if available.slack => Self::Slack,
            (_, Some(_)) if available.teams => Self::Teams,
            _ => Self::Email,
        }
    }
}

keyed_enum! {
    /// Where an onboarding message to one person stands.
    pub enum DeliveryStatus {
        Queued = "queued",
        Delivered = "delivered",
        Failed = "failed",
    }
}

/// Which chat providers this Onboard can send through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelsAvailable {
    pub slack: bool,
    pub teams: bool,
}

/// Why connecting one's own chat account did not work; travels in the profile page's address
/// as a key, so nobody can make the page say something else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnectProblem {
    Unavailable,
    Cancelled,
    Expired,
    NotConfirmed,
    Failed,
}

impl ConnectProblem {
    const ALL: [ConnectProblem; 5] =
        [Self::Unavailable, Self::Cancelled, Self::Expired, Self::NotConfirmed, Self::Failed];

    pub fn key(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
            Self::NotConfirmed => "not-confirmed",
            Self::Failed => "failed",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.key() == key)
    }

    pub fn message(self, provider: Provider) -> String {
        let p = provider.label();
        match self {
            Self::Unavailable => format!("Connecting {p} is not set up on this Onboard. Ask an administrator."),
            Self::Cancelled => format!("{p} sign-in was cancelled, so nothing was connected."),
            Self::Expired => "That sign-in did not start here or took too long. Please connect again.".to_string(),
            Self::NotConfirmed => format!("{p} did not confirm who signed in. Please connect again."),
            Self::Failed => "Something went wrong on our side. Please try again in a moment.".to_string(),
        }
    }
}

/// Teams shown per page of the dashboard.
pub const TEAMS_PER_PAGE: i64 = 50;
/// Pages past this are clamped to it, so an offset never overflows.
const MAX_TEAM_PAGE: i64 = 1_000_000;

/// Which teams the dashboard shows: a page of them by name, optionally those whose name
/// contains `find`. It travels in the page's address (`teams_page`, `find`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TeamFilter {
    /// 1-based.
    pub page: i64,
    pub find: String,
}

impl TeamFilter {
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            page: get("teams_page").and_then(|p| p.parse().ok()).unwrap_or(1),
            find: get("find").unwrap_or_default(),
        }
        .normalized()
    }

    /// The filter as the dashboard reads it, however it arrived: page 1 or later, and `find`
    /// trimmed, without control characters, at most a team name's 100 characters; the page
    /// between 1 and a million.
    pub fn normalized(self) -> Self {
        let find: String = self.find.chars().filter(|c| !c.is_control()).collect();
        Self { page: self.page.clamp(1, MAX_TEAM_PAGE), find: find.trim().chars().take(100).collect() }
    }

    pub fn offset(&self) -> i64 {
        (self.page.clamp(1, MAX_TEAM_PAGE) - 1) * TEAMS_PER_PAGE
    }

    /// The dashboard's address with one team open (and its members' `member_page`), keeping
    /// this page of teams, so "All teams" leads back to it.
    pub fn href_for_team(&self, team: i64, member_page: i64) -> String {
        format!("{}&team={team}&page={member_page}", self.href_for_page(self.page))
    }

    /// The dashboard's address for another page of these teams.
    pub fn href_for_page(&self, page: i64) -> String {
        super::query::href("/onboarding", &[("teams_page", page.to_string()), ("find", self.find.clone())])
    }
}

/// A percentage for a progress bar, rounded down so 99.9% never reads as done.
pub fn percent(done: i64, total: i64) -> i64 {
    if total <= 0 {
        0
    } else {
        (done.clamp(0, total) * 100) / total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MembershipStatus::*;
    use OnboardingStatus::*;

    #[test]
    fn status_follows_the_precedence_onboarded_notified_connected() {
        assert_eq!(OnboardingStatus::derive(Active, true, true), Onboarded);
        assert_eq!(OnboardingStatus::derive(Inactive, false, false), Onboarded);
        assert_eq!(OnboardingStatus::derive(Pending, true, true), Notified);
        assert_eq!(OnboardingStatus::derive(Expired, true, false), Notified);
        assert_eq!(OnboardingStatus::derive(Pending, false, true), Connected);
        assert_eq!(OnboardingStatus::derive(Pending, false, false), NotConnected);
    }

    #[test]
    fn the_channel_is_the_first_mapped_provider_that_is_set_up_else_email() {
        let both = ChannelsAvailable { slack: true, teams: true };
        let teams_only = ChannelsAvailable { slack: false, teams: true };
        assert_eq!(Channel::choose(Some("U1"), Some("aad"), both), Channel::Slack);
        assert_eq!(Channel::choose(Some("U1"), Some("aad"), teams_only), Channel::Teams);
        assert_eq!(Channel::choose(Some("U1"), None, teams_only), Channel::Email);
        assert_eq!(Channel::choose(None, None, both), Channel::Email);
    }

    #[test]
    fn percentages_round_down_and_survive_empty_teams() {
        assert_eq!(percent(999, 1000), 99);
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(0, 0), 0);
        assert_eq!(percent(5, 5), 100);
    }
}

/// A member and their mapping on one provider, for the identity-mapping pages.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct MappingRow {
    pub membership_id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub external_id: Option<String>,
    pub external_name: Option<String>,
    /// 'manual', 'email' or 'oauth'.
    pub source: Option<String>,
}

/// One recipient of a send and what became of their message.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct RecipientOutcome {
    pub membership_id: i64,
    pub email: String,
    pub name: String,
    pub channel: Channel,
    pub status: DeliveryStatus,
    pub error: Option<String>,
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

/// One member of a team as the dashboard shows them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct TeamMemberRow {
    pub membership_id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub membership_status: MembershipStatus,
    pub notified_at: Option<i64>,
    pub slack_id: Option<String>,
    pub teams_id: Option<String>,
    /// The latest onboarding message to them: its channel, state, error and time.
    pub last_channel: Option<Channel>,
    pub last_state: Option<DeliveryStatus>,
    pub last_error: Option<String>,
    pub last_at: Option<i64>,
}

impl TeamMemberRow {
    pub fn status(&self) -> crate::domain::onboarding::OnboardingStatus {
        crate::domain::onboarding::OnboardingStatus::derive(
            self.membership_status,
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

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct TeamSummary {
    pub id: i64,
    pub name: String,
    pub members: i64,
    pub onboarded: i64,
}
