//! Onboarding events and the webhook endpoints that hear them (Settings › Webhooks): which
//! events there are, what an endpoint's form accepts, and how its deliveries read.
//!
//! Deliveries follow the Standard Webhooks specification (https://www.standardwebhooks.com/):
//! a JSON body `{"type", "timestamp", "data"}` signed in the `webhook-id`,
//! `webhook-timestamp` and `webhook-signature` headers (`server::events`).

use crate::AppError;
use serde::{Deserialize, Serialize};

keyed_enum! {
    /// What happened, as a webhook's `type` names it.
    pub enum EventType {
        /// An invitation was created and queued: a first invitation, or one sent again.
        InvitationSent = "invitation.sent",
        /// Its email was accepted by the mail server.
        InvitationDelivered = "invitation.delivered",
        /// Its email failed for good.
        InvitationFailed = "invitation.failed",
        /// The invitee completed registration (details, second factor, agreement).
        MemberRegistered = "member.registered",
        /// The membership became Active: by registering, or by joining with an existing account.
        MemberActivated = "member.activated",
        MemberPaused = "member.paused",
        MemberResumed = "member.resumed",
        /// The membership became Expired before registration: its invitation lapsed, or was
        /// revoked, or its address was replaced.
        MemberExpired = "member.expired",
        AccessRequestCreated = "access_request.created",
        /// Approved or rejected (in the panel, in chat or by a connector's rule), or undone.
        AccessRequestDecided = "access_request.decided",
        /// An onboarding message (or reminder sent as one) reached its channel.
        OnboardingMessageDelivered = "onboarding_message.delivered",
        /// "Send test event": sent to one endpoint on request, whatever it subscribes to.
        WebhookTest = "webhook.test",
    }
}

impl EventType {
    /// The events an endpoint may subscribe to, in the order the form lists them.
    pub const SUBSCRIBABLE: [EventType; 11] = [
        EventType::InvitationSent,
        EventType::InvitationDelivered,
        EventType::InvitationFailed,
        EventType::MemberRegistered,
        EventType::MemberActivated,
        EventType::MemberPaused,
        EventType::MemberResumed,
        EventType::MemberExpired,
        EventType::AccessRequestCreated,
        EventType::AccessRequestDecided,
        EventType::OnboardingMessageDelivered,
    ];

    /// What the form's checkbox says after the type's name.
    pub fn description(self) -> &'static str {
        match self {
            EventType::InvitationSent => "an invitation is created and queued",
            EventType::InvitationDelivered => "the mail server accepts an invitation email",
            EventType::InvitationFailed => "an invitation email fails for good",
            EventType::MemberRegistered => "an invitee completes registration",
            EventType::MemberActivated => "a membership becomes Active",
            EventType::MemberPaused => "an admin or SCIM provisioning pauses a member",
            EventType::MemberResumed => "an admin or SCIM provisioning resumes a member",
            EventType::MemberExpired => "an invitation lapses or is withdrawn before registration",
            EventType::AccessRequestCreated => "a chat user asks for access",
            EventType::AccessRequestDecided => "an access request is approved, rejected or undone",
            EventType::OnboardingMessageDelivered => "an onboarding message reaches its channel",
            EventType::WebhookTest => "sent on request from this page",
        }
    }
}

keyed_enum! {
    /// Where one event's delivery to one endpoint stands.
    pub enum DeliveryStatus {
        /// Queued, or waiting to be retried.
        Pending = "pending",
        /// The endpoint answered 2xx.
        Delivered = "delivered",
        /// Out of attempts, or the endpoint was disabled or deleted meanwhile.
        Failed = "failed",
    }
}

/// The most endpoints one organization may have.
pub const MAX_ENDPOINTS: i64 = 20;
pub const MAX_DESCRIPTION_CHARS: usize = 200;
/// How long a rotated-out secret keeps signing beside the new one, so a receiver can switch
/// over without losing a delivery: 24 hours.
pub const ROTATION_OVERLAP_MS: i64 = super::time::DAY_MS;
/// An endpoint whose attempts have all failed for this long is disabled: 5 days.
pub const DISABLE_AFTER_MS: i64 = 5 * super::time::DAY_MS;

/// An endpoint as Settings › Webhooks shows it; its secret is never sent back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    pub id: i64,
    pub url: String,
    pub description: String,
    pub event_types: Vec<EventType>,
    /// When it was turned off, and why; `None` while it receives events.
    pub disabled_at: Option<i64>,
    pub disabled_reason: Option<String>,
    /// When its current run of failures began (ms); `None` after a success.
    pub failing_since: Option<i64>,
    /// Until when (ms) the secret it replaced still signs beside the current one.
    pub previous_secret_until: Option<i64>,
    pub created_at: i64,
}

/// A secret as it is shown once: on creating an endpoint or rotating its secret. Its `Debug`
/// leaves the secret out, so no log line carries it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ShownSecret {
    pub endpoint_id: i64,
    /// `whsec_` and the base64 of its 24 random bytes.
    pub secret: String,
}

impl std::fmt::Debug for ShownSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShownSecret").field("endpoint_id", &self.endpoint_id).field("secret", &"••••").finish()
    }
}

/// One event's delivery to one endpoint, as its delivery log shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct WebhookDelivery {
    pub id: i64,
    /// The `webhook-id` header: the same on every retry and replay.
    pub message_id: String,
    pub event_type: EventType,
    pub status: DeliveryStatus,
    pub attempts: i64,
    /// The HTTP status of the last attempt; `None` when the endpoint was not reached.
    pub response_status: Option<i64>,
    /// How long the last attempt took, in ms.
    pub latency_ms: Option<i64>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<i64>,
    pub created_at: i64,
}

/// An endpoint's form, as typed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointForm {
    pub url: String,
    #[serde(default)]
    pub description: String,
    /// Event type keys, as the checkboxes send them.
    #[serde(default)]
    pub event_types: Vec<String>,
}

/// An endpoint's form once every field passed.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedEndpoint {
    pub url: String,
    pub description: String,
    pub event_types: Vec<EventType>,
}

impl EndpointForm {
    /// Checks every field at once. Errors: `Invalid`/`InvalidFields` on `url` (not HTTPS, or
    /// plain http to a host other than this machine), `description` (over 200 characters) and
    /// `event_types` (none chosen, or one that is not an event).
    pub fn check(&self) -> Result<CheckedEndpoint, AppError> {
        let mut problems = Vec::new();
        let url = super::connectors::https_address(&self.url).unwrap_or_else(|| {
            problems.push((
                "url".to_string(),
                "Enter the endpoint's HTTPS address, like https://hooks.example.com/onboard (plain http only for localhost)."
                    .to_string(),
            ));
            String::new()
        });
        let description: String = self.description.chars().filter(|c| !c.is_control()).collect();
        let description = description.trim().to_string();
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            problems.push(("description".into(), format!("At most {MAX_DESCRIPTION_CHARS} characters.")));
        }
        let mut event_types = Vec::new();
        for key in &self.event_types {
            match EventType::parse(key.trim()).filter(|t| EventType::SUBSCRIBABLE.contains(t)) {
                Some(t) if !event_types.contains(&t) => event_types.push(t),
                Some(_) => {}
                None => {
                    problems.push(("event_types".into(), format!("“{}” is not an event Onboard sends.", key.trim())))
                }
            }
        }
        if event_types.is_empty() && self.event_types.is_empty() {
            problems.push(("event_types".into(), "Choose at least one event.".into()));
        }
        // In the form's order, so each field shows its first problem.
        event_types.sort_by_key(|t| EventType::SUBSCRIBABLE.iter().position(|s| s == t));
        match AppError::invalid_fields(problems) {
            Some(e) => Err(e),
            None => Ok(CheckedEndpoint { url, description, event_types }),
        }
    }
}

/// `data` of the `invitation.*` events.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct InvitationData {
    pub invitation_id: i64,
    pub membership_id: i64,
    pub email: String,
    pub service_area: Option<String>,
    pub role: String,
    #[serde(serialize_with = "rfc3339")]
    pub expires_at: i64,
    /// Why its email failed, for `invitation.failed`: the mail server's answer.
    #[cfg_attr(feature = "ssr", sqlx(default))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `data` of the `member.*` events: the membership as it stands after the change.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct MemberData {
    pub membership_id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub status: super::MembershipStatus,
    pub service_area: Option<String>,
    pub role: String,
}

/// `data` of the `access_request.*` events: the request as it stands after the change.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AccessRequestData {
    pub access_request_id: i64,
    pub connector_id: i64,
    pub connector: String,
    /// `slack`, `teams`, `telegram`, `d360` or `twilio`.
    pub platform: String,
    pub platform_id: String,
    pub first_name: String,
    pub last_name: String,
    pub first_message: String,
    /// `pending` (new, or a decision undone), `approved` or `rejected`.
    pub status: String,
    /// The email of the member who decided; none for a new request, an undo or a rule.
    pub decided_by: Option<String>,
}

/// `data` of `onboarding_message.delivered`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct OnboardingMessageData {
    pub onboarding_message_id: i64,
    pub membership_id: i64,
    pub email: String,
    /// `slack`, `teams` or `email`.
    pub channel: String,
}

fn rfc3339<S: serde::Serializer>(ms: &i64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&super::time::format_rfc3339(*ms))
}

/// How the audit log names an endpoint: "endpoint #3 (hooks.example.com)". Only the host: the
/// rest of a receiver's address may carry its own token.
pub fn endpoint_label(id: i64, url: &str) -> String {
    let rest = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!("endpoint #{id} ({host})")
}

/// Event types as one column holds them: between commas, so `LIKE '%,member.paused,%'` finds
/// an endpoint subscribed to `member.paused`.
pub fn stored_event_types(types: &[EventType]) -> String {
    let keys: Vec<&str> = types.iter().map(|t| t.key()).collect();
    format!(",{},", keys.join(","))
}

/// The LIKE pattern that finds `event_type` in a column of [`stored_event_types`].
pub fn subscribed_pattern(event_type: EventType) -> String {
    format!("%,{},%", event_type.key())
}

/// The event types a column holds; a key this version does not know is skipped.
pub fn read_event_types(stored: &str) -> Vec<EventType> {
    stored.split(',').filter_map(EventType::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(url: &str, types: &[&str]) -> EndpointForm {
        EndpointForm {
            url: url.into(),
            description: " CRM sync\u{7} ".into(),
            event_types: types.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn an_endpoint_form_takes_https_and_known_events_in_the_forms_order() {
        let checked = form("https://hooks.example.com/in", &["member.paused", "invitation.sent", "member.paused"])
            .check()
            .unwrap();
        assert_eq!(checked.url, "https://hooks.example.com/in");
        assert_eq!(checked.description, "CRM sync");
        assert_eq!(checked.event_types, [EventType::InvitationSent, EventType::MemberPaused]);
        assert_eq!(stored_event_types(&checked.event_types), ",invitation.sent,member.paused,");
        assert_eq!(read_event_types(",invitation.sent,member.paused,"), checked.event_types);
        assert!(form("http://127.0.0.1:9000/in", &["member.paused"]).check().is_ok());
    }

    #[test]
    fn an_endpoint_form_names_each_wrong_field() {
        let fields = |e: AppError| match e {
            AppError::Invalid { field, .. } => vec![field],
            AppError::InvalidFields(all) => all.into_iter().map(|(f, _)| f).collect(),
            other => panic!("{other:?}"),
        };
        assert_eq!(fields(form("http://hooks.example.com/in", &[]).check().unwrap_err()), ["url", "event_types"]);
        assert_eq!(fields(form("https://u:p@hooks.example.com/", &["member.paused"]).check().unwrap_err()), ["url"]);
        // The test event is sent on request; nobody subscribes to it.
        assert_eq!(fields(form("https://hooks.example.com/", &["webhook.test"]).check().unwrap_err()), ["event_types"]);
        let long = EndpointForm { description: "x".repeat(201), ..form("https://h.example/", &["member.paused"]) };
        assert_eq!(fields(long.check().unwrap_err()), ["description"]);
    }
}
