//! Onboarding management: whom a "Send message" reaches and how, queuing the messages, and
//! delivering each one from the outbox over Slack, Microsoft Teams or email.

use super::auth::Caller;
use super::db::{self, now_ms, onboarding_messages::NewMessage};
use super::events::About;
use super::integrations::provider::ProviderFailure;
use super::invitations::{inviter_name, new_registration_link, roles_out_of_reach};
use super::mail::EmailMessage;
use super::outbox::OnboardingDelivery;
use super::outbox::{enqueue_onboarding, JobPayload};
use super::AppState;
use crate::api::onboarding::types::{MessagePlan, PlannedRecipient, TeamMemberRow};
use crate::domain::message::{compose, MessageFacts, RegistrationLink};
use crate::domain::onboarding::{Channel, ChannelsAvailable};
use crate::domain::time::DAY_MS;
use crate::domain::MembershipStatus;
use crate::AppError;

pub fn channels_available(state: &AppState) -> ChannelsAvailable {
    ChannelsAvailable { slack: state.slack.is_some(), teams: state.teams.is_some() }
}

/// Whom a send reaches: one member, or the team's members who have not onboarded.
struct Audience {
    name: String,
    team_id: Option<i64>,
    rows: Vec<TeamMemberRow>,
    already_onboarded: i64,
}

async fn audience(
    state: &AppState,
    caller: &Caller,
    team: Option<i64>,
    member: Option<i64>,
) -> Result<Audience, AppError> {
    match (team, member) {
        (Some(team_id), None) => {
            let summary = db::teams::summary(&state.db, caller.org_id, team_id).await?.ok_or(AppError::NotFound)?;
            let rows = db::teams::not_onboarded(&state.db, caller.org_id, team_id).await?;
            if rows.is_empty() {
                return Err(AppError::Conflict(format!(
                    "Everyone on {} has finished onboarding: there is nobody to message.",
                    summary.name
                )));
            }
            Ok(Audience {
                name: format!("team {}", summary.name),
                team_id: Some(team_id),
                already_onboarded: summary.onboarded,
                rows,
            })
        }
        (None, Some(membership_id)) => {
            let row = db::teams::member(&state.db, caller.org_id, membership_id).await?.ok_or(AppError::NotFound)?;
            if row.status().is_onboarded() {
                return Err(AppError::Conflict(format!("{} has already finished onboarding.", row.display_name())));
            }
            Ok(Audience { name: row.display_name(), team_id: None, rows: vec![row], already_onboarded: 0 })
        }
        _ => Err(AppError::invalid("", "Choose one member or one team to message.")),
    }
}

fn channel_of(row: &TeamMemberRow, available: ChannelsAvailable) -> (Channel, String) {
    reach(row.slack_id.as_deref(), row.teams_id.as_deref(), &row.email, available)
}

/// The channel a message to someone travels on ([`Channel::choose`]) and the address it goes
/// to there: their Slack user id, their Entra object id, or their email address.
pub(super) fn reach(
    slack: Option<&str>,
    teams: Option<&str>,
    email: &str,
    available: ChannelsAvailable,
) -> (Channel, String) {
    let channel = Channel::choose(slack, teams, available);
    let address = match channel {
        Channel::Slack => slack,
        Channel::Teams => teams,
        Channel::Email => None,
    };
    (channel, address.unwrap_or(email).to_string())
}

/// The members still to register whose invitation the caller may renew. A fresh link replaces
/// (and so extends, or revives) an invitation: only holders of `users.manage` send one with a
/// message, as they may resend invitations anyway, and not to anyone whose role holds a
/// permission they lack (resend refuses those too).
struct Renewable {
    may_renew: bool,
    out_of_reach: std::collections::HashSet<i64>,
}

impl Renewable {
    async fn for_caller(state: &AppState, caller: &Caller) -> Result<Self, AppError> {
        let may_renew = caller.permissions.contains(crate::domain::Permission::UsersManage);
        if !may_renew {
            return Ok(Self { may_renew, out_of_reach: Default::default() });
        }
        let higher = roles_out_of_reach(state, caller).await?;
        let out_of_reach = db::memberships::unregistered_with_roles(&state.db, caller.org_id, &higher).await?;
        Ok(Self { may_renew, out_of_reach })
    }

    fn gets_link(&self, row: &TeamMemberRow) -> bool {
        self.may_renew && needs_link(row) && !self.out_of_reach.contains(&row.membership_id)
    }
}

fn needs_link(row: &TeamMemberRow) -> bool {
    matches!(row.membership_status, MembershipStatus::Pending | MembershipStatus::Expired)
}

/// What the modal shows before sending: the recipients, their channels, and the facts for the preview.
pub async fn plan(
    state: &AppState,
    caller: &Caller,
    team: Option<i64>,
    member: Option<i64>,
) -> Result<MessagePlan, AppError> {
    let audience = audience(state, caller, team, member).await?;
    let general = db::organizations::general(&state.db, caller.org_id).await?.ok_or(AppError::NotFound)?;
    let available = channels_available(state);
    let renewable = Renewable::for_caller(state, caller).await?;
    Ok(MessagePlan {
        audience: audience.name,
        team_id: audience.team_id,
        membership_id: member,
        org: general.name,
        sender: inviter_name(caller),
        link_preview: RegistrationLink {
            url: format!("{}/register/…", state.settings.public_base()),
            expires_at: now_ms() + general.invite_lifetime_days * DAY_MS,
        },
        recipients: audience
            .rows
            .iter()
            .map(|row| PlannedRecipient {
                membership_id: row.membership_id,
                name: row.display_name(),
                first_name: row.first_name.clone(),
                email: row.email.clone(),
                channel: channel_of(row, available).0,
                needs_link: renewable.gets_link(row),
                still_to_register: needs_link(row),
            })
            .collect(),
        already_onboarded: audience.already_onboarded,
    })
}

/// Queues one message per recipient in one transaction and returns the send's id. Each
/// recipient still to register gets a fresh link (their earlier one stops working).
pub async fn send(
    state: &AppState,
    caller: &Caller,
    team: Option<i64>,
    member: Option<i64>,
    custom: &str,
) -> Result<i64, AppError> {
    let custom = crate::domain::message::custom_text(custom).map_err(|r| AppError::invalid("custom", r))?;
    let audience = audience(state, caller, team, member).await?;
    let general = db::organizations::general(&state.db, caller.org_id).await?.ok_or(AppError::NotFound)?;
    let expires_at = now_ms() + general.invite_lifetime_days * DAY_MS;
    let (available, sender) = (channels_available(state), inviter_name(caller));
    let renewable = Renewable::for_caller(state, caller).await?;
    let next_reminder_at = db::reminders::first_due(&state.db, caller.org_id, expires_at, now_ms()).await?;

    let mut tx = state.db.begin().await?;
    let send_id =
        db::onboarding_messages::create_send(&mut tx, caller.org_id, caller.account_id, audience.team_id, &custom)
            .await?;
    for row in &audience.rows {
        let (channel, to) = channel_of(row, available);
        let link = renewable.gets_link(row).then(|| new_registration_link(state));
        let message_id = db::onboarding_messages::create(
            &mut tx,
            &NewMessage {
                org_id: caller.org_id,
                send_id,
                membership_id: row.membership_id,
                channel: channel.key(),
                address: &to,
            },
        )
        .await?;
        let facts = MessageFacts {
            first_name: row.first_name.clone(),
            org: general.name.clone(),
            sender: sender.clone(),
            custom: custom.clone(),
            link: link.as_ref().map(|(url, _)| RegistrationLink { url: url.clone(), expires_at }),
            still_to_register: needs_link(row),
        };
        let delivery = OnboardingDelivery {
            message_id: Some(message_id),
            reminder_of: None,
            channel,
            to,
            from_name: general.sender_name.clone(),
            facts,
        };
        let job = enqueue_onboarding(&mut tx, state, caller.org_id, delivery).await?;
        db::onboarding_messages::link_job(&mut tx, message_id, job).await?;
        if let Some((_, token_hash)) = link {
            if row.membership_status == MembershipStatus::Expired {
                db::memberships::change_status(
                    &mut tx,
                    caller.org_id,
                    row.membership_id,
                    MembershipStatus::Expired,
                    MembershipStatus::Pending,
                )
                .await?;
            }
            let made = db::invitations::create(
                &mut tx,
                &db::invitations::NewInvitation {
                    org_id: caller.org_id,
                    membership_id: row.membership_id,
                    batch_id: None,
                    email: &row.email,
                    token_hash: &token_hash,
                    invited_by: caller.account_id,
                    expires_at,
                    outbox_job_id: job,
                    next_reminder_at,
                },
            )
            .await?;
            super::events::invitations_sent(&mut tx, &state.db, caller.org_id, &[made]).await?;
        }
    }
    let detail = format!("{}: {} recipient(s)", audience.name, audience.rows.len());
    db::audit::record(&mut tx, caller.org_id, caller.account_id, "onboarding.messaged", &detail).await?;
    tx.commit().await?;
    state.outbox_wake.notify_waiters();
    Ok(send_id)
}

/// Sends one onboarding message or automatic reminder over its channel, as outbox job `job`.
/// Returns how it went out; a reminder for someone no longer waiting to register is not sent.
pub async fn deliver(state: &AppState, job: i64, d: &OnboardingDelivery) -> Result<&'static str, ProviderFailure> {
    if let Some(invitation) = d.reminder_of {
        let waiting = db::reminders::still_waiting(&state.db, invitation, now_ms())
            .await
            .map_err(|e| ProviderFailure::transient(format!("checking the invitation failed: {e}")))?;
        if !waiting {
            // Registered, withdrawn or replaced since the reminder was queued.
            return Ok("not sent: no longer waiting to register");
        }
    }
    let message = compose(&d.facts);
    match d.channel {
        Channel::Slack => {
            let slack = state
                .slack
                .as_ref()
                .ok_or_else(|| ProviderFailure::permanent("Slack is not set up on this Onboard"))?;
            slack.send_direct(&d.to, &message.to_slack()).await.map(|_| "slack")
        }
        Channel::Teams => {
            let teams = state
                .teams
                .as_ref()
                .ok_or_else(|| ProviderFailure::permanent("Microsoft Teams is not set up on this Onboard"))?;
            teams.send_direct(&d.to, &message.to_html()).await.map(|_| "teams")
        }
        Channel::Email => {
            let email = EmailMessage {
                to: d.to.clone(),
                from_name: Some(d.from_name.clone()),
                subject: message.subject.clone(),
                text: message.to_plain(),
                html: message.to_html(),
            };
            state.mailer.send(&email, job).await.map_err(Into::into)
        }
    }
}

/// What the outbox worker reports back to the onboarding message once an attempt is over.
pub async fn record_attempt(
    state: &AppState,
    payload: &JobPayload,
    outcome: &Result<&'static str, ProviderFailure>,
    final_failure: bool,
) {
    let JobPayload::Onboarding(OnboardingDelivery { message_id: Some(message_id), .. }) = payload else {
        return;
    };
    let recorded = match outcome {
        Ok(_) => delivered(state, *message_id).await,
        Err(f) => db::onboarding_messages::attempt_failed(&state.db, *message_id, &f.message, final_failure).await,
    };
    if let Err(e) = recorded {
        tracing::error!(error = %e, message = message_id, "recording an onboarding message's delivery failed");
    }
}

/// Records an onboarding message delivered, and tells the endpoints listening, in one transaction.
async fn delivered(state: &AppState, message_id: i64) -> Result<(), sqlx::Error> {
    let mut tx = state.db.begin().await?;
    if let Some(org_id) = db::onboarding_messages::delivered(&mut tx, message_id).await? {
        let delivered = crate::domain::events::EventType::OnboardingMessageDelivered;
        super::events::emit(&mut tx, &state.db.key, org_id, delivered, About::OnboardingMessage(message_id)).await?;
    }
    tx.commit().await
}
