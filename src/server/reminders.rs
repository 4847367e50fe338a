//! Automatic reminders: every instance sweeps the invitations whose next reminder the database
//! says is due, and queues each reminder in the outbox in the transaction that records it, so
//! one is sent once however many instances sweep. Each organization's rate is a budget per
//! minute that sweeps take from with one conditional statement.

use super::auth::Caller;
use super::db::{self, now_ms};
use super::onboarding::{channels_available, reach};
use super::outbox::{enqueue_onboarding, OnboardingDelivery};
use super::AppState;
use crate::api::users::types::{RemindPlan, RemindProgress};
use crate::domain::members::MemberFilter;
use crate::domain::message::{MessageFacts, RegistrationLink};
use crate::domain::onboarding::Channel;
use crate::domain::reminders::ReminderSettings;
use crate::domain::time::MINUTE_MS;
use crate::AppError;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The most reminders one sweep queues for one organization in one transaction.
const SWEEP_BATCH: i64 = 200;

/// Sweeps for lapsed invitations and due reminders every `every` until `stop`.
pub async fn sweep_until_stopped(state: AppState, every: Duration, stop: CancellationToken) {
    loop {
        // Lapsed invitations are marked here too, so `member.expired` is told within a sweep.
        if let Err(e) = super::invitations::expire_lapsed(&state.db).await {
            tracing::warn!(error = %e, "marking lapsed invitations expired failed");
        }
        match sweep(&state, now_ms()).await {
            Ok(0) => {}
            Ok(queued) => tracing::info!(queued, "queued reminders"),
            Err(e) => tracing::warn!(error = %e, "sweeping for due reminders failed"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

/// Queues the reminders due at `now` that each organization's rate allows; returns how many.
pub async fn sweep(state: &AppState, now: i64) -> Result<usize, AppError> {
    let mut queued = 0;
    for org_id in db::reminders::orgs_due(&state.db, now).await? {
        // One organization's failure (its database rows, its settings) leaves the others' reminders going.
        match remind_org(state, org_id, now).await {
            Ok(n) => queued += n,
            Err(e) => tracing::warn!(org_id, error = %e, "sending an organization's due reminders failed"),
        }
    }
    if queued > 0 {
        state.outbox_wake.notify_waiters();
    }
    Ok(queued)
}

/// The organization's due reminders, a batch per transaction until none is due or its budget
/// for the minute is spent. Each batch reads the settings afresh: turning reminders off stops
/// the next batch.
async fn remind_org(state: &AppState, org_id: i64, now: i64) -> Result<usize, AppError> {
    let mut queued = 0;
    loop {
        let settings = db::reminders::settings(&state.db, org_id).await?;
        let batch = remind_due(state, org_id, &settings, now).await?;
        queued += batch.queued;
        if batch.queued == 0 || batch.queued < batch.granted as usize {
            if batch.granted > 0 {
                // Whatever is still due now can no longer be reminded, or another instance holds it.
                db::reminders::drop_stale(&state.db, org_id, now).await?;
            }
            return Ok(queued);
        }
    }
}

struct Batch {
    granted: i64,
    queued: usize,
}

/// One transaction: takes up to [`SWEEP_BATCH`] from the organization's budget for this
/// minute, locks as many due invitations, gives each a fresh link and queues its reminder, and
/// gives back what it did not use.
async fn remind_due(state: &AppState, org_id: i64, settings: &ReminderSettings, now: i64) -> Result<Batch, AppError> {
    let budget = format!("reminders:{org_id}");
    let mut tx = state.db.begin().await?;
    let granted = db::limits::take_up_to(&mut tx, &budget, SWEEP_BATCH, settings.per_minute, MINUTE_MS, now).await?;
    if granted == 0 {
        return Ok(Batch { granted, queued: 0 });
    }
    let due = db::reminders::lock_due(&mut tx, state.db.backend, org_id, now, granted, settings.enabled).await?;
    let general = db::organizations::general(&state.db, org_id).await?.ok_or(AppError::NotFound)?;
    let available = channels_available(state);
    let mut queued = 0;
    for invitation in due {
        let (link, token_hash) = super::invitations::new_registration_link(state);
        let next = settings.next_after(invitation.created_at, invitation.expires_at, now);
        if !db::reminders::reminded(&mut tx, invitation.id, &token_hash, now, next).await? {
            continue;
        }
        let (slack, teams) =
            settings.channel.usable_identities(invitation.slack_id.as_deref(), invitation.teams_id.as_deref());
        let (channel, to) = reach(slack, teams, &invitation.email, available);
        let facts = MessageFacts {
            first_name: invitation.first_name.clone(),
            org: general.name.clone(),
            sender: invitation.inviter.clone(),
            custom: String::new(),
            link: Some(RegistrationLink { url: link, expires_at: invitation.expires_at }),
            still_to_register: true,
        };
        let delivery = OnboardingDelivery {
            message_id: None,
            reminder_of: Some(invitation.id),
            channel,
            to,
            from_name: general.sender_name.clone(),
            facts,
        };
        enqueue_onboarding(&mut tx, state, org_id, delivery).await?;
        queued += 1;
    }
    if (queued as i64) < granted {
        db::limits::give_back(&mut tx, &budget, granted - queued as i64).await?;
    }
    tx.commit().await?;
    Ok(Batch { granted, queued })
}

/// What "Remind all pending" would do for the filter: how many it reaches, over which channels.
pub async fn plan_run(state: &AppState, caller: &Caller, filter: &MemberFilter) -> Result<RemindPlan, AppError> {
    let out_of_reach = super::invitations::roles_out_of_reach(state, caller).await?;
    let reach = db::reminders::pending_reach(&state.db, caller.org_id, filter, &out_of_reach, now_ms()).await?;
    let settings = db::reminders::settings(&state.db, caller.org_id).await?;
    let available = channels_available(state);
    let mut channels: Vec<(Channel, i64)> = Vec::new();
    let mut left_out = 0;
    for group in reach {
        if group.out_of_reach {
            left_out += group.members;
            continue;
        }
        let (slack, teams) =
            settings.channel.usable_identities(group.slack.then_some("mapped"), group.teams.then_some("mapped"));
        let channel = Channel::choose(slack, teams, available);
        match channels.iter_mut().find(|(c, _)| *c == channel) {
            Some((_, n)) => *n += group.members,
            None => channels.push((channel, group.members)),
        }
    }
    channels.sort_by_key(|(c, _)| Channel::ALL.iter().position(|a| a == c));
    let members: i64 = channels.iter().map(|(_, n)| n).sum();
    Ok(RemindPlan { members, channels, per_minute: settings.per_minute, left_out })
}

/// Starts "Remind all pending" for the filter: each reminder is due now and goes out with the
/// sweeps, at the organization's rate. Returns the run's id.
pub async fn start_run(state: &AppState, caller: &Caller, filter: &MemberFilter) -> Result<i64, AppError> {
    let out_of_reach = super::invitations::roles_out_of_reach(state, caller).await?;
    let mut tx = state.db.begin().await?;
    let (run, total) = db::reminders::start_run(
        &mut tx,
        state.db.backend,
        caller.org_id,
        caller.account_id,
        filter,
        &out_of_reach,
        now_ms(),
    )
    .await?;
    if total == 0 {
        return Err(AppError::invalid(
            "filter",
            "Nobody this filter matches is waiting to register: there is nobody to remind.",
        ));
    }
    let detail = format!("run #{run}: {total} pending member(s)");
    db::audit::record(&mut tx, caller.org_id, caller.account_id, "reminders.sent_to_all", &detail).await?;
    tx.commit().await?;
    // A sweep starts at once rather than at its next turn, without holding the answer.
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = sweep(&state, now_ms()).await {
            tracing::warn!(error = %e, "sweeping for the reminders just asked for failed; the next sweep sends them");
        }
    });
    Ok(run)
}

pub async fn run_progress(state: &AppState, caller: &Caller, run: i64) -> Result<RemindProgress, AppError> {
    let (total, waiting) =
        db::reminders::run_progress(&state.db, caller.org_id, run).await?.ok_or(AppError::NotFound)?;
    Ok(RemindProgress { total, done: total - waiting })
}
