//! Sending a batch: the batch, the pending memberships, the invitations and their emails, the
//! first 10,000 in the request's transaction and the rest by the outbox, a part per transaction.

use super::auth::Caller;
use super::db::invite_batches::{Invitee, STORE_CHUNK};
use super::db::outbox::ClaimedJob;
use super::db::{self, now_ms};
use super::events;
use super::integrations::provider::ProviderFailure;
use super::invitations::{batch_item, classify, inviter_name, may_grant};
use super::outbox::{enqueue_deferred_invitations, DeferredInvitations};
use super::AppState;
use crate::domain::email_list::MAX_BATCH;
use crate::domain::grouped;
use crate::domain::invites::PasteCheck;
use crate::domain::time::DAY_MS;
use crate::AppError;

/// Validates the choices, stores everything and queues the emails. Returns the batch id.
pub async fn send_batch(
    state: &AppState,
    caller: &Caller,
    text: &str,
    area_id: i64,
    role_id: i64,
) -> Result<i64, AppError> {
    let (entries, new) = classify(state, caller.org_id, text).await?;
    if entries.is_empty() {
        return Err(AppError::invalid("emails", "Enter at least one email address."));
    }
    if new.is_empty() {
        return Err(AppError::invalid(
            "emails",
            "None of these addresses can be invited: see the reason beside each one.",
        ));
    }
    let check = PasteCheck::of(&entries);
    drop(entries);
    let batch = NewInvitations {
        default_area: area_id,
        default_role: role_id,
        invitees: new.into_iter().map(|a| Invitee::pasted(a.as_str().to_owned(), area_id, role_id)).collect(),
        not_invited: db::invite_batches::NotInvited { shown: check.not_invited, total: check.not_invited_total },
        sheet: None,
    };
    store_new_batch(state, caller, batch, "emails").await
}

/// A batch about to be stored, from a paste or a sheet.
pub struct NewInvitations {
    /// The page's service area and role: the batch's, and a pasted address's.
    pub default_area: i64,
    pub default_role: i64,
    /// Everyone to invite, in order; each was checked against the organization.
    pub invitees: Vec<Invitee>,
    pub not_invited: db::invite_batches::NotInvited,
    /// The checked sheet this batch sends, marked sent in the batch's transaction.
    pub sheet: Option<i64>,
}

/// Checks the page's choices, stores the batch with its first people and queues their emails;
/// the rest follow by the outbox. `field` names the page's input a size problem belongs to.
/// Returns the batch id.
pub async fn store_new_batch(
    state: &AppState,
    caller: &Caller,
    batch: NewInvitations,
    field: &str,
) -> Result<i64, AppError> {
    let NewInvitations { default_area: area_id, default_role: role_id, invitees, not_invited, sheet } = batch;
    if invitees.len() > MAX_BATCH {
        return Err(AppError::invalid(
            field,
            format!(
                "That is {} new addresses; send at most {} at a time.",
                grouped(invitees.len() as i64),
                grouped(MAX_BATCH as i64)
            ),
        ));
    }
    let not_invited_json = serde_json::to_string(&not_invited).map_err(|_| AppError::Internal)?;
    let general = db::organizations::general(&state.db, caller.org_id).await?.ok_or(AppError::NotFound)?;
    let expires_at = now_ms() + general.invite_lifetime_days * DAY_MS;
    let inviter = inviter_name(caller);

    // One transaction checks the choices and stores the batch. Classification came first,
    // outside it, because sweeping lapsed invitations is a write of its own.
    let mut tx = state.db.begin().await?;
    if db::service_areas::member_count(&mut tx, caller.org_id, area_id).await?.is_none() {
        return Err(AppError::invalid("area", "Choose a service area."));
    }
    let role = db::roles::get(&mut tx, caller.org_id, role_id)
        .await?
        .ok_or_else(|| AppError::invalid("role", "Choose a role."))?;
    if !may_grant(&caller.permissions, &role.permission_set()) {
        return Err(AppError::invalid(
            "role",
            format!("You cannot give the {} role: it has permissions you do not have.", role.name),
        ));
    }
    // The first parts are stored now and the rest by the outbox, a part per transaction: a
    // batch of 100,000 would otherwise hold the request, and on SQLite every other write, for
    // as long as all of it takes.
    let (first, rest) = invitees.split_at(invitees.len().min(STORED_WITH_THE_ANSWER));
    let rest_json = (!rest.is_empty()).then(|| serde_json::to_string(rest).expect("invitees serialize"));
    let batch_id = db::invite_batches::create_batch(
        &mut tx,
        &db::invite_batches::NewBatch {
            org_id: caller.org_id,
            inviter: caller.account_id,
            area_id,
            role_id,
            not_invited_json: &not_invited_json,
            deferred: rest_json.as_deref().map(|json| (json, rest.len())),
        },
    )
    .await?;
    if let Some(sheet) = sheet {
        if !db::sheet_imports::mark_sent(&mut tx, sheet, batch_id).await? {
            return Err(AppError::Conflict(
                "This sheet was sent already, or its check has expired: check it again to send it.".into(),
            ));
        }
    }
    let target = db::invite_batches::BatchTarget {
        org_id: caller.org_id,
        batch_id,
        inviter: caller.account_id,
        expires_at,
        max_attempts: state.settings.outbox.max_attempts,
        next_reminder_at: db::reminders::first_due(&state.db, caller.org_id, expires_at, now_ms()).await?,
    };
    if !rest.is_empty() {
        // Queued before the first parts' emails, so a worker goes on storing while others send.
        let deferred = DeferredInvitations { batch_id, inviter: inviter.clone() };
        let job = enqueue_deferred_invitations(&mut tx, state, caller.org_id, deferred).await?;
        db::invite_batches::set_deferred_job(&mut tx, batch_id, job).await?;
    }
    let mut parts = first.chunks(STORE_CHUNK);
    let prepare = |part: &[Invitee]| prepare_part(state, &general, &inviter, expires_at, part);
    let mut next = parts.next().map(prepare);
    let mut invited = rest.len();
    while let Some(preparing) = next.take() {
        let items = preparing.await.map_err(|_| AppError::Internal)?;
        next = parts.next().map(prepare);
        let made = db::invite_batches::store_batch(&mut tx, state.db.backend, &target, &items).await?;
        events::invitations_sent(&mut tx, &state.db, caller.org_id, &made).await?;
        invited += made.len();
    }
    let from = if sheet.is_some() { " from a spreadsheet" } else { "" };
    db::audit::record(
        &mut tx,
        caller.org_id,
        caller.account_id,
        "invitations.sent",
        &format!("batch #{batch_id}: {invited} invited{from}"),
    )
    .await?;
    tx.commit().await?;
    state.outbox_wake.notify_waiters();
    Ok(batch_id)
}

/// How many addresses of a batch the request stores before it answers: two parts, the second
/// stored while the first is prepared. A batch of 10,000 is stored whole, as before batches were
/// split; one of 100,000 answers in about a tenth of the time storing all of it takes.
pub const STORED_WITH_THE_ANSWER: usize = 2 * STORE_CHUNK;

/// The tokens and sealed emails of a part of a batch, made on a blocking thread so that the
/// part before can be stored meanwhile.
fn prepare_part(
    state: &AppState,
    general: &crate::api::settings::types::OrgGeneral,
    inviter: &str,
    expires_at: i64,
    part: &[Invitee],
) -> tokio::task::JoinHandle<Vec<db::invite_batches::BatchItem>> {
    let (state, general, inviter, part) = (state.clone(), general.clone(), inviter.to_owned(), part.to_vec());
    tokio::task::spawn_blocking(move || {
        part.into_iter().map(|a| batch_item(&state, &general, &inviter, a, expires_at)).collect()
    })
}

/// Stores the deferred addresses of a batch as outbox job `job`, [`STORE_CHUNK`] per transaction,
/// each part prepared while the one before is stored. Each part's transaction also moves the
/// batch's progress on and renews `worker`'s lease, so a part is stored once even when a
/// stalled worker's lease passes to another. A part's links expire `invite_lifetime_days` after
/// it is prepared. `None` when it stopped between parts (`shutdown`, or the lease was lost): the
/// job stays the outbox's to run.
pub async fn store_deferred(
    state: &AppState,
    worker: &str,
    job: &ClaimedJob,
    rest: &DeferredInvitations,
    shutdown: &tokio_util::sync::CancellationToken,
) -> Option<Result<&'static str, ProviderFailure>> {
    match store_deferred_parts(state, worker, job, rest, shutdown).await {
        Ok(true) => Some(Ok("stored")),
        Ok(false) => None,
        Err(e) => Some(Err(ProviderFailure::transient(format!("storing a part of the batch failed: {e}")))),
    }
}

/// [`store_deferred`]'s parts; `Ok(false)` when it stopped before the last.
async fn store_deferred_parts(
    state: &AppState,
    worker: &str,
    job: &ClaimedJob,
    rest: &DeferredInvitations,
    shutdown: &tokio_util::sync::CancellationToken,
) -> Result<bool, AppError> {
    let Some(batch) = db::invite_batches::deferred(&state.db, rest.batch_id).await? else { return Ok(true) };
    let general = db::organizations::general(&state.db, batch.org_id).await?.ok_or(AppError::NotFound)?;
    let lifetime = general.invite_lifetime_days * DAY_MS;
    let lease_ms = state.settings.outbox.lease_seconds * 1000;
    let to_store = batch.invitees.get(batch.stored as usize..).unwrap_or_default();
    let mut parts = to_store.chunks(STORE_CHUNK);
    let prepare = |part: &[Invitee]| {
        let expires_at = now_ms() + lifetime;
        (expires_at, prepare_part(state, &general, &rest.inviter, expires_at, part))
    };
    let mut next = parts.next().map(prepare);
    let mut from = batch.stored;
    while let Some((expires_at, preparing)) = next.take() {
        if shutdown.is_cancelled() {
            return Ok(false);
        }
        let items = preparing.await.map_err(|_| AppError::Internal)?;
        next = parts.next().map(prepare);
        let target = db::invite_batches::BatchTarget {
            org_id: batch.org_id,
            batch_id: rest.batch_id,
            inviter: batch.inviter,
            expires_at,
            max_attempts: state.settings.outbox.max_attempts,
            next_reminder_at: db::reminders::first_due(&state.db, batch.org_id, expires_at, now_ms()).await?,
        };
        let to = from + items.len() as i64;
        let mut tx = state.db.begin().await?;
        if !db::outbox::extend_lease(&mut tx, job.id, worker, now_ms() + lease_ms).await?
            || !db::invite_batches::mark_deferred_stored(&mut tx, rest.batch_id, from, to, batch.total).await?
        {
            tracing::info!(batch = rest.batch_id, "another worker holds the batch's job now; this one stops");
            return Ok(false);
        }
        let made = db::invite_batches::store_batch(&mut tx, state.db.backend, &target, &items).await?;
        events::invitations_sent(&mut tx, &state.db, batch.org_id, &made).await?;
        tx.commit().await?;
        state.outbox_wake.notify_waiters();
        from = to;
    }
    Ok(true)
}
