//! Inviting people: classify a pasted list against the organization, then store the batch,
//! the pending memberships, the invitations and their emails: the first 10,000 of a batch in the
//! request's transaction, the rest by the outbox, a part per transaction.

use super::auth::Caller;
use super::db::invitations::STORE_CHUNK;
use super::db::outbox::ClaimedJob;
use super::db::{self, now_ms};
use super::integrations::provider::ProviderFailure;
use super::mail::Invitation;
use super::outbox::DeferredInvitations;
use super::outbox::{enqueue_deferred_invitations, enqueue_invitation, JobPayload};
use super::secret::new_token;
use super::AppState;
use crate::domain::email_list::{parse_paste, PasteOutcome, MAX_BATCH, MAX_ENTRIES};
use crate::domain::grouped;
use crate::domain::invites::{ClassifiedEntry, InviteClass, PasteCheck};
use crate::domain::time::DAY_MS;
use crate::domain::{EmailAddress, MembershipStatus, Permission, PermissionSet};
use crate::AppError;

/// Every pasted entry with its class, and the addresses that would be invited.
pub async fn classify(
    state: &AppState,
    org_id: i64,
    text: &str,
) -> Result<(Vec<ClassifiedEntry>, Vec<EmailAddress>), AppError> {
    db::invitations::expire_lapsed(&state.db).await?;
    let report = parse_paste(text);
    if report.overflowed {
        return Err(AppError::invalid(
            "emails",
            format!(
                "This paste holds more than {} entries; paste at most {} addresses at a time.",
                grouped(MAX_ENTRIES as i64),
                grouped(MAX_BATCH as i64)
            ),
        ));
    }
    let valid: Vec<&str> = report.valid().map(|(a, _)| a.as_str()).collect();
    let known = db::memberships::by_email(&state.db, org_id, &valid).await?;
    let mut entries = Vec::with_capacity(report.entries.len());
    let mut new = Vec::new();
    for entry in report.entries {
        let (class, detail) = match entry.outcome {
            PasteOutcome::Invalid(why) => (InviteClass::Invalid, Some(why)),
            PasteOutcome::DuplicateInList(_) => (InviteClass::DuplicateInList, None),
            PasteOutcome::Valid(address) => match known.get(address.as_str()).map(|(_, status)| status) {
                Some(MembershipStatus::Pending) => (InviteClass::AlreadyPending, None),
                Some(MembershipStatus::Active | MembershipStatus::Inactive) => (InviteClass::AlreadyMember, None),
                // Expired invitations may be sent again.
                Some(MembershipStatus::Expired) | None => {
                    new.push(address);
                    (InviteClass::New, None)
                }
            },
        };
        entries.push(ClassifiedEntry { raw: entry.raw, class, detail });
    }
    Ok((entries, new))
}

/// The roles a caller may hand out: none with a permission the caller lacks.
pub fn may_grant(caller: &PermissionSet, role: &PermissionSet) -> bool {
    role.iter().all(|p| caller.contains(p))
}

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
    if new.len() > MAX_BATCH {
        return Err(AppError::invalid(
            "emails",
            format!(
                "That is {} new addresses; send at most {} at a time.",
                grouped(new.len() as i64),
                grouped(MAX_BATCH as i64)
            ),
        ));
    }
    if new.is_empty() {
        return Err(AppError::invalid(
            "emails",
            "None of these addresses can be invited: see the reason beside each one.",
        ));
    }
    let check = PasteCheck::of(&entries);
    let not_invited = db::invitations::NotInvited { shown: check.not_invited, total: check.not_invited_total };
    let not_invited_json = serde_json::to_string(&not_invited).map_err(|_| AppError::Internal)?;
    drop(entries);
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
    let (first, rest) = new.split_at(new.len().min(STORED_WITH_THE_ANSWER));
    let rest_json = (!rest.is_empty()).then(|| {
        serde_json::to_string(&rest.iter().map(EmailAddress::as_str).collect::<Vec<_>>()).expect("strings serialize")
    });
    let batch_id = db::invitations::create_batch(
        &mut tx,
        &db::invitations::NewBatch {
            org_id: caller.org_id,
            inviter: caller.account_id,
            area_id,
            role_id,
            not_invited_json: &not_invited_json,
            deferred: rest_json.as_deref().map(|json| (json, rest.len())),
        },
    )
    .await?;
    let target = db::invitations::BatchTarget {
        org_id: caller.org_id,
        batch_id,
        inviter: caller.account_id,
        area_id,
        role_id,
        expires_at,
        max_attempts: state.settings.outbox.max_attempts,
    };
    if !rest.is_empty() {
        // Queued before the first parts' emails, so a worker goes on storing while others send.
        let deferred = DeferredInvitations { batch_id, inviter: inviter.clone() };
        let job = enqueue_deferred_invitations(&mut tx, state, caller.org_id, deferred).await?;
        db::invitations::set_deferred_job(&mut tx, batch_id, job).await?;
    }
    let addresses: Vec<String> = first.iter().map(|a| a.as_str().to_owned()).collect();
    let mut parts = addresses.chunks(STORE_CHUNK);
    let prepare = |part: &[String]| prepare_part(state, &general, &inviter, expires_at, part);
    let mut next = parts.next().map(prepare);
    let mut invited = rest.len();
    while let Some(preparing) = next.take() {
        let items = preparing.await.map_err(|_| AppError::Internal)?;
        next = parts.next().map(prepare);
        invited += db::invitations::store_batch(&mut tx, state.db.backend, &target, &items).await?;
    }
    db::audit::record(
        &mut tx,
        caller.org_id,
        caller.account_id,
        "invitations.sent",
        &format!("batch #{batch_id}: {invited} invited"),
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
    part: &[String],
) -> tokio::task::JoinHandle<Vec<db::invitations::BatchItem>> {
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
    let Some(batch) = db::invitations::deferred(&state.db, rest.batch_id).await? else { return Ok(true) };
    let general = db::organizations::general(&state.db, batch.org_id).await?.ok_or(AppError::NotFound)?;
    let lifetime = general.invite_lifetime_days * DAY_MS;
    let lease_ms = state.settings.outbox.lease_seconds * 1000;
    let to_store = batch.addresses.get(batch.stored as usize..).unwrap_or_default();
    let mut parts = to_store.chunks(STORE_CHUNK);
    let prepare = |part: &[String]| {
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
        let target = db::invitations::BatchTarget {
            org_id: batch.org_id,
            batch_id: rest.batch_id,
            inviter: batch.inviter,
            area_id: batch.area_id,
            role_id: batch.role_id,
            expires_at,
            max_attempts: state.settings.outbox.max_attempts,
        };
        let to = from + items.len() as i64;
        let mut tx = state.db.begin().await?;
        if !db::outbox::extend_lease(&mut tx, job.id, worker, now_ms() + lease_ms).await?
            || !db::invitations::mark_deferred_stored(&mut tx, rest.batch_id, from, to, batch.total).await?
        {
            tracing::info!(batch = rest.batch_id, "another worker holds the batch's job now; this one stops");
            return Ok(false);
        }
        db::invitations::store_batch(&mut tx, state.db.backend, &target, &items).await?;
        tx.commit().await?;
        state.outbox_wake.notify_waiters();
        from = to;
    }
    Ok(true)
}

/// How the caller is named to the people they invite or remind.
pub fn inviter_name(caller: &Caller) -> String {
    let m = &caller.membership;
    let name = format!("{} {}", m.first_name, m.last_name).trim().to_string();
    if name.is_empty() {
        m.email.clone()
    } else {
        name
    }
}

/// A fresh token for one address and the email that carries it, sealed for the outbox.
fn batch_item(
    state: &AppState,
    org: &crate::api::settings::types::OrgGeneral,
    inviter: &str,
    email: String,
    expires_at: i64,
) -> db::invitations::BatchItem {
    let (invitation, token_hash) = invitation(state, org, inviter, &email, expires_at);
    let subject = invitation.subject();
    let payload = serde_json::to_string(&JobPayload::Invitation(invitation)).expect("job payloads always serialize");
    let sealed_payload = state.db.key.seal(crate::server::sealing::OUTBOX_PAYLOAD, &payload);
    db::invitations::BatchItem { email, token_hash, subject, sealed_payload }
}

/// An invitation email with a fresh link, and the hash of the link's token, which is all that is kept of it.
fn invitation(
    state: &AppState,
    org: &crate::api::settings::types::OrgGeneral,
    inviter: &str,
    email: &str,
    expires_at: i64,
) -> (Invitation, String) {
    let (link, token_hash) = new_registration_link(state);
    let invitation = Invitation {
        to: email.to_string(),
        org: org.name.clone(),
        sender: org.sender_name.clone(),
        inviter: inviter.to_string(),
        link,
        expires_at,
    };
    (invitation, token_hash)
}

/// A fresh registration link, and the hash of its token, which is all that is kept of it.
pub fn new_registration_link(state: &AppState) -> (String, String) {
    let (token, token_hash) = new_token();
    (format!("{}/register/{}", state.settings.public_base(), token.expose()), token_hash)
}

/// One invitation with a fresh token and its email in the outbox.
#[allow(clippy::too_many_arguments)]
async fn invite(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    state: &AppState,
    caller: &Caller,
    org: &crate::api::settings::types::OrgGeneral,
    inviter: &str,
    membership_id: i64,
    batch_id: Option<i64>,
    email: &str,
    expires_at: i64,
) -> Result<(), AppError> {
    let (invitation, token_hash) = invitation(state, org, inviter, email, expires_at);
    let job = enqueue_invitation(tx, state, caller.org_id, invitation).await?;
    db::invitations::create(
        tx,
        &db::invitations::NewInvitation {
            org_id: caller.org_id,
            membership_id,
            batch_id,
            email,
            token_hash: &token_hash,
            invited_by: caller.account_id,
            expires_at,
            outbox_job_id: job,
        },
    )
    .await?;
    Ok(())
}

/// Sends a pending or expired member a fresh invitation; the old link stops working.
pub async fn resend(state: &AppState, caller: &Caller, membership_id: i64) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let target = db::memberships::target(&mut tx, caller.org_id, membership_id).await?.ok_or(AppError::NotFound)?;
    super::auth::ensure_outranks(caller, &target.email, &target.permissions)?;
    let status = MembershipStatus::parse(&target.status);
    if !matches!(status, Some(MembershipStatus::Pending | MembershipStatus::Expired)) {
        return Err(AppError::Conflict(format!("{} has already registered.", target.email)));
    }
    let general = db::organizations::general(&state.db, caller.org_id).await?.ok_or(AppError::NotFound)?;
    let expires_at = now_ms() + general.invite_lifetime_days * DAY_MS;
    if status == Some(MembershipStatus::Expired) {
        db::memberships::change_status(
            &mut tx,
            caller.org_id,
            membership_id,
            MembershipStatus::Expired,
            MembershipStatus::Pending,
        )
        .await?;
    }
    invite(&mut tx, state, caller, &general, &inviter_name(caller), membership_id, None, &target.email, expires_at)
        .await?;
    db::audit::record(&mut tx, caller.org_id, caller.account_id, "invitation.resent", &target.email).await?;
    tx.commit().await?;
    state.outbox_wake.notify_waiters();
    Ok(())
}

/// Sends a failed invitation again: to the same address, once the mail server can take it, or
/// to a corrected one, which is invited in the failed one's batch, service area and role while
/// the failed address is no longer invited. The failed invitation is marked replaced by the same
/// conditional statement that makes a second click a conflict.
pub async fn fix_failed(state: &AppState, caller: &Caller, invitation_id: i64, email: &str) -> Result<(), AppError> {
    let address = EmailAddress::parse(email).map_err(|e| AppError::invalid("email", e.to_string()))?;
    let gone = || {
        AppError::Conflict("This invitation is no longer waiting to be fixed: it was sent again or withdrawn.".into())
    };
    let mut tx = state.db.begin().await?;
    let failed =
        db::invitations::failed_invitation(&mut tx, caller.org_id, invitation_id).await?.ok_or(AppError::NotFound)?;
    if !failed.waiting {
        return Err(gone());
    }
    // Inviters fix their own batches; other batches are for those who manage users.
    if failed.inviter != caller.account_id && !caller.permissions.contains(Permission::UsersManage) {
        return Err(AppError::NotAllowed);
    }
    let target =
        db::memberships::target(&mut tx, caller.org_id, failed.membership_id).await?.ok_or(AppError::NotFound)?;
    super::auth::ensure_outranks(caller, &target.email, &target.permissions)?;
    // Two fixes to the same new address must not both pass the check below.
    db::organizations::lock(&mut tx, state.db.backend, caller.org_id).await?;
    let general = db::organizations::general(&state.db, caller.org_id).await?.ok_or(AppError::NotFound)?;
    let expires_at = now_ms() + general.invite_lifetime_days * DAY_MS;
    let inviter = inviter_name(caller);
    // The account's address, which is in today's form even when the invitation's is older.
    let same = address.as_str() == target.email;
    if !same {
        let known = db::memberships::by_email(&state.db, caller.org_id, &[address.as_str()]).await?;
        match known.get(address.as_str()).map(|(_, status)| status) {
            Some(MembershipStatus::Pending) => {
                return Err(AppError::invalid("email", format!("{address} already has a pending invitation.")))
            }
            Some(MembershipStatus::Active | MembershipStatus::Inactive) => {
                return Err(AppError::invalid("email", format!("{address} is already a member.")))
            }
            Some(MembershipStatus::Expired) | None => {}
        }
    }
    if !db::invitations::replace(&mut tx, invitation_id).await? {
        return Err(gone());
    }
    if same {
        let batch = Some(failed.batch_id);
        invite(&mut tx, state, caller, &general, &inviter, failed.membership_id, batch, &target.email, expires_at)
            .await?;
    } else {
        let role = db::roles::get(&mut tx, caller.org_id, failed.role_id).await?.ok_or(AppError::NotFound)?;
        if !may_grant(&caller.permissions, &role.permission_set()) {
            return Err(AppError::NotAllowed);
        }
        // The failed address is no longer invited.
        let withdrawn = db::memberships::change_status(
            &mut tx,
            caller.org_id,
            failed.membership_id,
            MembershipStatus::Pending,
            MembershipStatus::Expired,
        )
        .await?;
        if !withdrawn {
            return Err(gone());
        }
        let target = db::invitations::BatchTarget {
            org_id: caller.org_id,
            batch_id: failed.batch_id,
            inviter: caller.account_id,
            area_id: failed.area_id,
            role_id: failed.role_id,
            expires_at,
            max_attempts: state.settings.outbox.max_attempts,
        };
        let item = batch_item(state, &general, &inviter, address.as_str().to_owned(), expires_at);
        if db::invitations::store_batch(&mut tx, state.db.backend, &target, &[item]).await? == 0 {
            return Err(AppError::Conflict(format!("{address} was invited or joined meanwhile.")));
        }
    }
    let what = format!("{} → {address}", target.email);
    db::audit::record(&mut tx, caller.org_id, caller.account_id, "invitation.fixed", &what).await?;
    tx.commit().await?;
    state.outbox_wake.notify_waiters();
    Ok(())
}

/// Withdraws a pending invitation: the link stops working and the person is no longer a member.
pub async fn revoke(state: &AppState, caller: &Caller, membership_id: i64) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let target = db::memberships::target(&mut tx, caller.org_id, membership_id).await?.ok_or(AppError::NotFound)?;
    super::auth::ensure_outranks(caller, &target.email, &target.permissions)?;
    if !db::invitations::revoke(&mut tx, caller.org_id, membership_id).await? {
        return Err(AppError::Conflict(format!("{} has no pending invitation.", target.email)));
    }
    db::memberships::change_status(
        &mut tx,
        caller.org_id,
        membership_id,
        MembershipStatus::Pending,
        MembershipStatus::Expired,
    )
    .await?;
    db::audit::record(&mut tx, caller.org_id, caller.account_id, "invitation.revoked", &target.email).await?;
    tx.commit().await?;
    Ok(())
}
