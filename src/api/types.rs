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
    /// The picture of a Slack or Teams account they connected (an https or data: URL), shown
    /// instead of their initials.
    pub picture: Option<String>,
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
    /// At most `PAGE_SIZE` members, in address order.
    pub rows: Vec<MemberRow>,
    /// How many members match; with a search, at most `SEARCH_COUNT_LIMIT` + 1, which reads
    /// "more than 10,000".
    pub total: i64,
    /// Whether the list goes on before the first row and after the last.
    pub has_previous: bool,
    pub has_next: bool,
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
    /// The address already has an Onboard account: its owner signs in to join.
    SignIn,
    /// Signed in as the invited account: accept the agreement and join.
    Join,
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
    /// With `SignIn`: the other account this browser is signed in as, which cannot accept.
    pub signed_in_as: Option<String>,
    /// The organization's default country for mobile numbers (ISO 3166-1 alpha-2), or empty.
    pub default_country: String,
    /// With `Details`: the countries to choose from; empty at other steps.
    pub countries: Vec<CountryChoice>,
}

/// A country a mobile number may be in: ISO 3166-1 alpha-2 code, ISO name, calling code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountryChoice {
    pub code: String,
    pub name: String,
    pub calling_code: u16,
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
    /// Accepted addresses whose invitation is not stored yet: a large batch is stored a part
    /// at a time after the first 10,000.
    pub preparing: i64,
    /// Accepted addresses that were not stored because the job storing them failed for good;
    /// it can be tried again on the Outbox page.
    pub unstored: i64,
    /// Pasted entries that were not invited, with why: the first `SHOWN_ENTRIES` of them.
    pub not_invited: Vec<crate::domain::invites::ClassifiedEntry>,
    /// How many pasted entries were not invited in all.
    pub not_invited_total: usize,
    /// Invitations whose email failed for good, each to fix and send again.
    pub failures: Vec<FailedDelivery>,
}

impl BatchProgress {
    /// Emails still to go out: those queued or being retried, and those of the addresses still
    /// being stored, which have none queued yet.
    pub fn still_to_send(&self) -> i64 {
        self.remaining + self.preparing
    }
}

/// An invitation email that failed for good: a refused address, or one the mail server cannot take.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct FailedDelivery {
    pub invitation: i64,
    pub email: String,
    /// The mail server's or the transport's reason; never a secret.
    pub reason: Option<String>,
}

/// A person in the Slack workspace or the Teams tenant, for the mapping dropdowns.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DirectoryUser {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
}

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

/// The signed-in member's own profile, with their chat accounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub email: String,
    pub name: String,
    pub org_name: String,
    pub connections: Vec<Connection>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub provider: crate::domain::onboarding::Provider,
    /// The mapped account's name, and how the mapping was made ('manual', 'email', 'oauth').
    pub account: Option<(String, String)>,
    /// Whether this Onboard can sign people in with the provider.
    pub can_connect: bool,
}

/// One credential on a connector card: plain settings in full, secrets as a hint only.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CredentialView {
    pub key: String,
    pub label: String,
    pub secret: bool,
    /// The value, or for a secret its hint (`••••abcd`).
    pub shown: String,
    pub help: String,
}

/// A connector as its card shows it. Secrets never leave the server in full.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConnectorCard {
    pub id: i64,
    pub provider: crate::domain::connectors::ChatProvider,
    pub name: String,
    pub enabled: bool,
    pub policy: crate::domain::connectors::Policy,
    pub onboarding_message: String,
    pub agent_url: String,
    pub agent_secret_hint: String,
    pub credentials: Vec<CredentialView>,
    pub webhook_url: String,
    pub pending_requests: i64,
    pub chat_users: i64,
}

/// What the connector form sends. A blank secret on an existing connector keeps the stored one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorDraft {
    /// None to create.
    pub id: Option<i64>,
    pub provider: String,
    pub name: String,
    pub agent_url: String,
    pub agent_secret: String,
    pub credentials: Vec<(String, String)>,
}

/// An access request with who asked, for the Access Requests panel.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AccessRequestRow {
    pub id: i64,
    pub chat_user_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub platform_id: String,
    pub avatar_url: Option<String>,
    /// A `ChatProvider` key.
    pub provider: String,
    pub connector_id: i64,
    pub connector_name: String,
    /// An `AccessStatus` key.
    pub status: String,
    pub first_message: String,
    pub created_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccessFilter {
    /// An `AccessStatus` key, or empty for all.
    pub status: String,
    /// 0 for every connector.
    pub connector: i64,
    pub search: String,
    pub page: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRequestPage {
    pub rows: Vec<AccessRequestRow>,
    pub total: i64,
    pub page: i64,
    pub pending: i64,
    pub approved: i64,
    pub rejected: i64,
    /// (id, name) of every connector, for the filter.
    pub connectors: Vec<(i64, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ChatUserRow {
    pub id: i64,
    /// A `ChatProvider` key.
    pub provider: String,
    pub platform_id: String,
    pub first_name: String,
    pub last_name: String,
    pub avatar_url: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub messages: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatUserPage {
    pub rows: Vec<ChatUserRow>,
    pub total: i64,
    pub page: i64,
}

/// One message in a conversation, in or out.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ChatMessageRow {
    pub id: i64,
    pub connector_name: String,
    /// 'in' or 'out'.
    pub direction: String,
    /// 'user', 'onboarding', 'agent' or 'rejection'.
    pub kind: String,
    pub text: String,
    pub status: String,
    pub detail: String,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatUserDetail {
    pub user: ChatUserRow,
    pub requests: Vec<AccessRequestRow>,
    pub messages: Vec<ChatMessageRow>,
}
