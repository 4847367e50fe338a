//! The outbox's vocabulary: what a job does (one enum every service queues and the worker
//! dispatches), queuing one in the caller's transaction, and how jobs read to an admin.

use super::db;
use super::integrations::shared::{NoticeAddress, ReplyAddress};
use super::mail::{EmailMessage, Invitation};
use super::AppState;
use crate::domain::connectors::ChatProvider;
use crate::domain::message::MessageFacts;
use crate::domain::onboarding::Channel;
use crate::domain::outbox::JobKind;
use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

/// What a job does, stored as JSON in the outbox row.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JobPayload {
    Email(EmailMessage),
    /// An invitation email, rendered when it is sent.
    Invitation(Invitation),
    Sms {
        to: String,
        body: String,
    },
    /// A one-time code by email or text message, rendered when it is sent.
    Code(OneTimeCode),
    /// A job that carried a one-time secret, stored before secrets were scrubbed once sent.
    Redacted,
    /// An onboarding message over Slack, Teams or email, rendered when it is sent.
    Onboarding(OnboardingDelivery),
    /// A chat user's message for the connector's agent.
    AgentCall(AgentCall),
    /// A text into a chat conversation: the onboarding message, a rejection notice, an agent's reply.
    ChatSend(ChatSend),
    /// A new chat user's names or picture from the provider.
    ChatProfile(ProfileLookup),
    /// The addresses of an invitation batch after those stored with the answer, stored a part at a time.
    InvitationBatch(DeferredInvitations),
    /// An access request's card for the approvers, posted or brought up to date.
    ApprovalCard(ApprovalCard),
    /// A private answer to someone who clicked an approvers' card.
    ChatNotice(ChatNotice),
    /// An onboarding event's delivery to a webhook endpoint.
    Webhook(WebhookJob),
}

/// A one-time code and where it goes. Admins never read the code: the outbox shows it masked.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OneTimeCode {
    /// An email address, or an E.164 number with `by_sms`.
    pub to: String,
    #[serde(default)]
    pub by_sms: bool,
    /// The organization's sender name, for email.
    pub sender: String,
    pub code: String,
    /// What the code is for: "registering" or "signing in".
    pub purpose: String,
}

impl OneTimeCode {
    pub fn email(&self) -> EmailMessage {
        super::mail::code_email(&self.to, &self.sender, &self.code, &self.purpose)
    }

    pub fn text_message(&self) -> String {
        format!("Your Onboard code for {} is {}. It works once, for 10 minutes.", self.purpose, self.code)
    }

    fn masked(&self) -> Self {
        Self { code: MASK.into(), ..self.clone() }
    }
}

/// What stands for a secret wherever an admin could read it.
const MASK: &str = "••••";

/// A registration link with its token masked: `https://host/register/••••`.
fn masked_link(url: &str) -> String {
    match url.rfind('/') {
        Some(i) => format!("{}/{MASK}", &url[..i]),
        None => MASK.to_string(),
    }
}

/// Who may read a job's one-time secrets on the Outbox page: nobody, except that invitation
/// links are shown in the log-only development mode (no SMTP), where they are how an admin
/// tries registration. Codes are never shown.
#[derive(Clone, Copy, PartialEq)]
pub enum Readers {
    Admins,
    DevelopmentMode,
}

impl Readers {
    /// The development mode is the log-only mailer: nothing is sent, so links are shown instead.
    pub fn of(state: &AppState) -> Self {
        match state.mailer {
            super::mail::Mailer::LogOnly => Readers::DevelopmentMode,
            super::mail::Mailer::Smtp(_) => Readers::Admins,
        }
    }
}

impl JobPayload {
    fn kind(&self) -> JobKind {
        match self {
            JobPayload::Email(_) | JobPayload::Invitation(_) | JobPayload::Redacted => JobKind::Email,
            JobPayload::Code(code) if code.by_sms => JobKind::Sms,
            JobPayload::Code(_) => JobKind::Email,
            JobPayload::Sms { .. } => JobKind::Sms,
            JobPayload::Onboarding(d) => d.channel.into(),
            JobPayload::AgentCall(_) => JobKind::Agent,
            JobPayload::ChatSend(send) => send.provider.into(),
            JobPayload::ChatProfile(_) => JobKind::Profile,
            JobPayload::InvitationBatch(_) => JobKind::Batch,
            JobPayload::ApprovalCard(_) => JobKind::Card,
            JobPayload::ChatNotice(notice) => notice.provider.into(),
            JobPayload::Webhook(_) => JobKind::Webhook,
        }
    }

    /// The same job with the one-time secrets `readers` may not see masked, or `None` when there
    /// is nothing to mask.
    fn masked(&self, readers: Readers) -> Option<JobPayload> {
        let keep_links = readers == Readers::DevelopmentMode;
        match self {
            JobPayload::Code(code) => Some(JobPayload::Code(code.masked())),
            JobPayload::Invitation(i) if !keep_links => {
                Some(JobPayload::Invitation(Invitation { link: masked_link(&i.link), ..i.clone() }))
            }
            // Only an email kept in the development mode was not sent; a chat message was.
            JobPayload::Onboarding(d)
                if d.facts.link.is_some()
                    && !(keep_links && d.channel == crate::domain::onboarding::Channel::Email) =>
            {
                let mut masked = d.clone();
                if let Some(link) = masked.facts.link.as_mut() {
                    link.url = masked_link(&link.url);
                }
                Some(JobPayload::Onboarding(masked))
            }
            _ => None,
        }
    }

    /// The payload to keep once the job is done: its secrets are of no further use to anyone
    /// but the `readers` the Outbox page shows them to.
    pub fn scrubbed(&self, readers: Readers) -> Option<String> {
        self.masked(readers).map(|p| serde_json::to_string(&p).expect("job payloads always serialize"))
    }

    /// What the recipient reads (an email's plain text, or a text message), with the secrets
    /// `readers` may not see masked.
    pub fn readable_body(&self, readers: Readers) -> String {
        match self.masked(readers) {
            Some(masked) => masked.plain_text(),
            None => self.plain_text(),
        }
    }

    fn plain_text(&self) -> String {
        match self {
            JobPayload::Email(message) => message.text.clone(),
            JobPayload::Invitation(invitation) => invitation.render().text,
            JobPayload::Sms { body, .. } => body.clone(),
            JobPayload::Code(code) if code.by_sms => code.text_message(),
            JobPayload::Code(code) => code.email().text,
            JobPayload::Redacted => "Not kept: it carried a one-time code or link.".to_string(),
            JobPayload::Onboarding(d) => crate::domain::message::compose(&d.facts).to_plain(),
            JobPayload::AgentCall(call) => format!("Chat message #{} for the agent", call.message_id),
            JobPayload::ChatSend(send) => send.text.clone(),
            JobPayload::ChatProfile(lookup) => format!("Profile of {}", lookup.platform_id),
            JobPayload::InvitationBatch(rest) => format!("The rest of invitation batch #{}", rest.batch_id),
            JobPayload::ApprovalCard(card) => format!("The approvers' card of access request #{}", card.request_id),
            JobPayload::ChatNotice(notice) => notice.text.clone(),
            JobPayload::Webhook(job) => format!("Webhook delivery #{}", job.delivery_id),
        }
    }
}

/// The outbox as admins read it: each job with the text it carries, secrets masked.
pub fn readable(stored: Vec<db::outbox::StoredJob>, readers: Readers) -> Vec<crate::api::outbox::types::OutboxJob> {
    stored
        .into_iter()
        .map(|s| crate::api::outbox::types::OutboxJob {
            body: serde_json::from_str::<JobPayload>(&s.payload).ok().map(|p| p.readable_body(readers)),
            ..s.job
        })
        .collect()
}

/// Queues an email in the caller's transaction, so it goes out only if the change commits.
pub async fn enqueue_email(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    org_id: i64,
    message: EmailMessage,
) -> Result<i64, sqlx::Error> {
    let (recipient, subject) = (message.to.clone(), message.subject.clone());
    enqueue(tx, state, org_id, &recipient, &subject, JobPayload::Email(message)).await
}

/// Queues an invitation email in the caller's transaction.
pub async fn enqueue_invitation(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    org_id: i64,
    invitation: Invitation,
) -> Result<i64, sqlx::Error> {
    let (recipient, subject) = (invitation.to.clone(), invitation.subject());
    enqueue(tx, state, org_id, &recipient, &subject, JobPayload::Invitation(invitation)).await
}

/// Queues a one-time code, by email or text message, in the caller's transaction.
pub async fn enqueue_code(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    org_id: i64,
    code: OneTimeCode,
) -> Result<i64, sqlx::Error> {
    let recipient = code.to.clone();
    let subject = if code.by_sms { "Text message".to_string() } else { code.email().subject };
    enqueue(tx, state, org_id, &recipient, &subject, JobPayload::Code(code)).await
}

/// Queues an onboarding message in the caller's transaction.
pub async fn enqueue_onboarding(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    org_id: i64,
    delivery: OnboardingDelivery,
) -> Result<i64, sqlx::Error> {
    let recipient = delivery.to.clone();
    let subject = crate::domain::message::compose(&delivery.facts).subject;
    enqueue(tx, state, org_id, &recipient, &subject, JobPayload::Onboarding(delivery)).await
}

/// Queues a chat job (an agent call, a chat send, a profile lookup) in the caller's transaction.
pub async fn enqueue_chat(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    org_id: i64,
    recipient: &str,
    payload: JobPayload,
) -> Result<i64, sqlx::Error> {
    let subject = match &payload {
        JobPayload::AgentCall(_) => "Message for the agent".to_string(),
        JobPayload::ChatSend(send) => format!("Message on {}", send.provider.label()),
        JobPayload::ChatProfile(_) => "Chat user profile".to_string(),
        JobPayload::ApprovalCard(_) => "Access request card".to_string(),
        JobPayload::ChatNotice(notice) => format!("Private answer on {}", notice.provider.label()),
        _ => String::new(),
    };
    enqueue(tx, state, org_id, recipient, &subject, payload).await
}

/// Queues the storing of a batch's addresses after those stored with the answer, in the transaction that
/// accepts the batch.
pub async fn enqueue_deferred_invitations(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    org_id: i64,
    rest: DeferredInvitations,
) -> Result<i64, sqlx::Error> {
    let recipient = format!("Invitation batch #{}", rest.batch_id);
    let payload = JobPayload::InvitationBatch(rest);
    enqueue_with(tx, state, org_id, &recipient, "Storing the rest of the batch", payload, DEFERRED_BATCH_ATTEMPTS).await
}

/// Attempts for the job that stores a batch's deferred addresses: its failures are the
/// database's (busy, unreachable), and with the backoff capped at an hour these span two days.
/// Every kill or lease handover of its worker also counts as one.
const DEFERRED_BATCH_ATTEMPTS: i64 = 50;

async fn enqueue(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    org_id: i64,
    recipient: &str,
    subject: &str,
    payload: JobPayload,
) -> Result<i64, sqlx::Error> {
    enqueue_with(tx, state, org_id, recipient, subject, payload, state.settings.outbox.max_attempts).await
}

async fn enqueue_with(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    org_id: i64,
    recipient: &str,
    subject: &str,
    payload: JobPayload,
    max_attempts: i64,
) -> Result<i64, sqlx::Error> {
    let json = serde_json::to_string(&payload).expect("job payloads always serialize");
    db::outbox::enqueue(
        tx,
        &state.db.key,
        &db::outbox::NewJob {
            org_id: Some(org_id),
            kind: payload.kind(),
            recipient,
            subject,
            payload: &json,
            max_attempts,
        },
    )
    .await
}

/// Exponential backoff from 5 s, capped at an hour, with jitter so retries from many jobs spread out.
pub fn backoff_ms(attempt: i64) -> i64 {
    let base = 5_000i64.saturating_mul(1 << attempt.clamp(0, 20).saturating_sub(1)).min(3_600_000);
    base + rand::random::<u32>() as i64 % (base / 5 + 1)
}

/// Forward one inbound message to the connector's agent endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentCall {
    pub message_id: i64,
    pub connector_id: i64,
    pub reply_to: ReplyAddress,
    /// Whether the conversation is a channel or group chat; absent in jobs stored before, which
    /// are judged by `reply_to`.
    #[serde(default)]
    pub shared: Option<bool>,
}

/// Send a text into a conversation through the connector's provider.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatSend {
    pub message_id: i64,
    pub connector_id: i64,
    pub provider: ChatProvider,
    pub reply_to: ReplyAddress,
    pub text: String,
}

/// Post an access request's card in its connector's approvers' conversation, or, once posted,
/// update it to show the request as it stands when the job runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApprovalCard {
    pub request_id: i64,
}

/// Tell the person who clicked an approvers' card something only they read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatNotice {
    /// The Slack or Teams connector whose card was clicked.
    pub connector_id: i64,
    pub provider: ChatProvider,
    pub to: NoticeAddress,
    pub text: String,
}

/// Send one onboarding event's delivery to its webhook endpoint (`server::events`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookJob {
    pub delivery_id: i64,
}

/// Fill in a new chat user's names or picture from the provider.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileLookup {
    pub chat_user_id: i64,
    pub connector_id: i64,
    pub platform_id: String,
}

/// The addresses of a batch after those stored with the answer, which the outbox stores a part
/// at a time.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeferredInvitations {
    pub batch_id: i64,
    /// How the emails name the inviter, as when the batch was sent.
    pub inviter: String,
}

/// One onboarding message in the outbox: everything needed to render and send it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OnboardingDelivery {
    /// The onboarding message it delivers; `None` for an automatic reminder.
    pub message_id: Option<i64>,
    /// The invitation an automatic reminder is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder_of: Option<i64>,
    pub channel: Channel,
    /// A Slack user id, an Entra object id, or an email address.
    pub to: String,
    /// The organization's sender name, for email.
    pub from_name: String,
    pub facts: MessageFacts,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_never_read_codes_and_read_links_only_in_development_mode() {
        let code = JobPayload::Code(OneTimeCode {
            to: "ada@example.com".into(),
            by_sms: false,
            sender: "Acme".into(),
            code: "493817".into(),
            purpose: "signing in".into(),
        });
        for readers in [Readers::Admins, Readers::DevelopmentMode] {
            assert!(!code.readable_body(readers).contains("493817"));
        }
        let invitation = JobPayload::Invitation(Invitation {
            to: "ada@example.com".into(),
            org: "Acme".into(),
            sender: "Acme".into(),
            inviter: "Bo".into(),
            link: "https://onboard.example/register/SECRETTOKEN".into(),
            expires_at: 0,
        });
        assert!(!invitation.readable_body(Readers::Admins).contains("SECRETTOKEN"));
        assert!(invitation.readable_body(Readers::Admins).contains("https://onboard.example/register/••••"));
        assert!(invitation.readable_body(Readers::DevelopmentMode).contains("SECRETTOKEN"));
        for done in [code.scrubbed(Readers::Admins).unwrap(), invitation.scrubbed(Readers::Admins).unwrap()] {
            assert!(!done.contains("493817") && !done.contains("SECRETTOKEN"), "{done}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!((5_000..=6_000).contains(&backoff_ms(1)));
        assert!((10_000..=12_000).contains(&backoff_ms(2)));
        assert!(backoff_ms(30) <= 3_600_000 + 720_000);
    }
}
