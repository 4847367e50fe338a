//! Inviting people: a pasted list classified against the organization, one invitation and its
//! email, sent again, fixed or withdrawn. Sending a whole batch is `invite_batches`.

use super::auth::Caller;
use super::db::{self, now_ms};
use super::events::{self, About};
use super::mail::Invitation;
use super::outbox::{enqueue_invitation, JobPayload};
use super::secret::new_token;
use super::AppState;
use crate::domain::email_list::{parse_paste, PasteOutcome, MAX_BATCH, MAX_ENTRIES};
use crate::domain::events::EventType;
use crate::domain::grouped;
use crate::domain::invites::{ClassifiedEntry, InviteClass};
use crate::domain::time::DAY_MS;
use crate::domain::{EmailAddress, MembershipStatus, Permission, PermissionSet};
use crate::AppError;

/// Marks lapsed invitations expired, with their still-pending memberships, and tells the
/// endpoints listening for `member.expired`, in one transaction.
pub async fn expire_lapsed(db: &db::Db) -> Result<(), sqlx::Error> {
    let now = now_ms();
    if !db::invitations::any_lapsed(db, now).await? {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    let expired = db::invitations::expire_lapsed(&mut tx, now).await?;
    // A whole batch lapses at once: each organization's listeners are looked up once.
    let mut orgs: Vec<i64> = expired.iter().map(|(org_id, _)| *org_id).collect();
    orgs.sort_unstable();
    orgs.dedup();
    for org_id in orgs {
        let endpoints = events::listeners(&mut tx, org_id, EventType::MemberExpired).await?;
        if endpoints.is_empty() {
            continue;
        }
        for (_, membership_id) in expired.iter().filter(|(org, _)| *org == org_id) {
            events::emit(&mut tx, &db.key, org_id, EventType::MemberExpired, About::Member(*membership_id)).await?;
        }
    }
    tx.commit().await
}

/// Every pasted entry with its class, and the addresses that would be invited.
pub async fn classify(
    state: &AppState,
    org_id: i64,
    text: &str,
) -> Result<(Vec<ClassifiedEntry>, Vec<EmailAddress>), AppError> {
    expire_lapsed(&state.db).await?;
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

/// The organization's roles holding a permission the caller lacks: the caller may not grant
/// them, nor renew the links of the people invited to them.
pub async fn roles_out_of_reach(state: &AppState, caller: &Caller) -> Result<Vec<i64>, AppError> {
    Ok(db::roles::permissions(&state.db, caller.org_id)
        .await?
        .into_iter()
        .filter(|(_, stored)| !may_grant(&caller.permissions, &PermissionSet::parse(stored)))
        .map(|(id, _)| id)
        .collect())
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
pub(super) fn batch_item(
    state: &AppState,
    org: &crate::api::settings::types::OrgGeneral,
    inviter: &str,
    invitee: db::invite_batches::Invitee,
    expires_at: i64,
) -> db::invite_batches::BatchItem {
    let (invitation, token_hash) = invitation(state, org, inviter, &invitee.email, expires_at);
    let subject = invitation.subject();
    let payload = serde_json::to_string(&JobPayload::Invitation(invitation)).expect("job payloads always serialize");
    let sealed_payload = state.db.key.seal(crate::server::sealing::OUTBOX_PAYLOAD, &payload);
    db::invite_batches::BatchItem { invitee, token_hash, subject, sealed_payload }
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

/// Who an invitation is from: the account of record, and the name its email gives.
pub struct Inviter<'a> {
    pub account_id: i64,
    pub name: &'a str,
}

/// When a fresh invitation lapses, and when its first automatic reminder falls due. Read before
/// the transaction that sends it, so that transaction needs no second connection.
#[derive(Clone, Copy)]
pub struct Lifetime {
    pub expires_at: i64,
    pub next_reminder_at: Option<i64>,
}

impl Lifetime {
    /// A lifetime starting now, by the organization's settings.
    pub async fn starting_now(db: &db::Db, org: &crate::api::settings::types::OrgGeneral) -> Result<Self, sqlx::Error> {
        let now = now_ms();
        let expires_at = now + org.invite_lifetime_days * DAY_MS;
        Ok(Lifetime { expires_at, next_reminder_at: db::reminders::first_due(db, org.id, expires_at, now).await? })
    }
}

/// One invitation to the organization `org` with a fresh token and its email in the outbox.
#[allow(clippy::too_many_arguments)]
pub async fn invite(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    state: &AppState,
    org: &crate::api::settings::types::OrgGeneral,
    inviter: &Inviter<'_>,
    membership_id: i64,
    batch_id: Option<i64>,
    email: &str,
    lifetime: &Lifetime,
) -> Result<(), AppError> {
    let Lifetime { expires_at, next_reminder_at } = *lifetime;
    let (invitation, token_hash) = invitation(state, org, inviter.name, email, expires_at);
    let job = enqueue_invitation(tx, state, org.id, invitation).await?;
    let made = db::invitations::create(
        tx,
        &db::invitations::NewInvitation {
            org_id: org.id,
            membership_id,
            batch_id,
            email,
            token_hash: &token_hash,
            invited_by: inviter.account_id,
            expires_at,
            outbox_job_id: job,
            next_reminder_at,
        },
    )
    .await?;
    events::invitations_sent(tx, &state.db, org.id, &[made]).await?;
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
    let lifetime = Lifetime::starting_now(&state.db, &general).await?;
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
    let inviter = Inviter { account_id: caller.account_id, name: &inviter_name(caller) };
    invite(&mut tx, state, &general, &inviter, membership_id, None, &target.email, &lifetime).await?;
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
    let lifetime = Lifetime::starting_now(&state.db, &general).await?;
    let expires_at = lifetime.expires_at;
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
        let from = Inviter { account_id: caller.account_id, name: &inviter };
        invite(&mut tx, state, &general, &from, failed.membership_id, batch, &target.email, &lifetime).await?;
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
        events::emit(
            &mut tx,
            &state.db.key,
            caller.org_id,
            EventType::MemberExpired,
            About::Member(failed.membership_id),
        )
        .await?;
        let target = db::invite_batches::BatchTarget {
            org_id: caller.org_id,
            batch_id: failed.batch_id,
            inviter: caller.account_id,
            expires_at,
            max_attempts: state.settings.outbox.max_attempts,
            next_reminder_at: lifetime.next_reminder_at,
        };
        let invitee = db::invite_batches::Invitee::pasted(address.as_str().to_owned(), failed.area_id, failed.role_id);
        let item = batch_item(state, &general, &inviter, invitee, expires_at);
        let made = db::invite_batches::store_batch(&mut tx, state.db.backend, &target, &[item]).await?;
        if made.is_empty() {
            return Err(AppError::Conflict(format!("{address} was invited or joined meanwhile.")));
        }
        events::invitations_sent(&mut tx, &state.db, caller.org_id, &made).await?;
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
    let expired = db::memberships::change_status(
        &mut tx,
        caller.org_id,
        membership_id,
        MembershipStatus::Pending,
        MembershipStatus::Expired,
    )
    .await?;
    if expired {
        let member = About::Member(membership_id);
        events::emit(&mut tx, &state.db.key, caller.org_id, EventType::MemberExpired, member).await?;
    }
    db::audit::record(&mut tx, caller.org_id, caller.account_id, "invitation.revoked", &target.email).await?;
    tx.commit().await?;
    Ok(())
}
