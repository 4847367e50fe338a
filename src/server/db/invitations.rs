//! Invitations: one link each, created, looked up, spent, replaced or revoked. Their batches
//! are `invite_batches`.

use super::{now_ms, Db};
use sqlx::{Any, Transaction};

/// Whether any pending invitation has lapsed: usually none has, and this read (index
/// invitations_expiry) spares every invite check a write transaction, which on SQLite would
/// queue them all behind one another. ORDER BY keeps PostgreSQL on the index: without it,
/// guessing that lapsed invitations are common, it read all 500,000 of a large organization's
/// invitations in turn (238 ms, against 0.09 ms).
pub async fn any_lapsed(db: &Db, now: i64) -> Result<bool, sqlx::Error> {
    let lapsed: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM invitations WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT 1",
    )
    .bind(now)
    .fetch_optional(&db.pool)
    .await?;
    Ok(lapsed.is_some())
}

/// Marks lapsed invitations expired, and their still-pending memberships with them; returns
/// those memberships as `(org_id, membership_id)`.
pub async fn expire_lapsed(tx: &mut Transaction<'static, Any>, now: i64) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    let expired: Vec<(i64, i64)> = sqlx::query_as(
        "UPDATE memberships SET status = 'expired' WHERE status = 'pending' AND id IN
            (SELECT membership_id FROM invitations WHERE status = 'pending' AND expires_at <= $1)
         RETURNING org_id, id",
    )
    .bind(now)
    .fetch_all(&mut **tx)
    .await?;
    sqlx::query("UPDATE invitations SET status = 'expired' WHERE status = 'pending' AND expires_at <= $1")
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(expired)
}

pub struct NewInvitation<'a> {
    pub org_id: i64,
    pub membership_id: i64,
    pub batch_id: Option<i64>,
    pub email: &'a str,
    pub token_hash: &'a str,
    pub invited_by: i64,
    pub expires_at: i64,
    pub outbox_job_id: i64,
    /// When its first automatic reminder falls due: [`super::reminders::first_due`].
    pub next_reminder_at: Option<i64>,
}

/// A fresh invitation; any earlier one for the membership stops working.
pub async fn create(tx: &mut Transaction<'static, Any>, i: &NewInvitation<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "UPDATE invitations SET status = 'replaced' WHERE membership_id = $1 AND status IN ('pending', 'expired')",
    )
    .bind(i.membership_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query_scalar(
        // A resend stays in the batch of the invitation it replaces, so the batch's counts hold.
        "INSERT INTO invitations (org_id, membership_id, batch_id, email, token_hash, invited_by, status, expires_at, outbox_job_id,
                                  created_at, next_reminder_at)
         VALUES ($1, $2, COALESCE($3, (SELECT batch_id FROM invitations WHERE membership_id = $2 AND status = 'replaced'
                                       ORDER BY id DESC LIMIT 1)), $4, $5, $6, 'pending', $7, $8, $9, $10) RETURNING id",
    )
    .bind(i.org_id)
    .bind(i.membership_id)
    .bind(i.batch_id)
    .bind(i.email)
    .bind(i.token_hash)
    .bind(i.invited_by)
    .bind(i.expires_at)
    .bind(i.outbox_job_id)
    .bind(now_ms())
    .bind(i.next_reminder_at)
    .fetch_one(&mut **tx)
    .await
}

/// A batch's invitation, with whether it is waiting to be fixed (pending, its email failed for
/// good) and what sending it again needs.
#[derive(Debug, sqlx::FromRow)]
pub struct FailedInvitation {
    #[sqlx(try_from = "super::Flag")]
    pub waiting: bool,
    pub membership_id: i64,
    pub batch_id: i64,
    /// Who sent the batch.
    pub inviter: i64,
    pub area_id: i64,
    pub role_id: i64,
}

pub async fn failed_invitation(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    invitation_id: i64,
) -> Result<Option<FailedInvitation>, sqlx::Error> {
    sqlx::query_as(
        "SELECT CASE WHEN i.status = 'pending' AND j.status = 'failed' THEN 1 ELSE 0 END AS waiting,
                i.membership_id, i.batch_id, b.inviter_account_id AS inviter, b.service_area_id AS area_id, b.role_id
         FROM invitations i JOIN outbox_jobs j ON j.id = i.outbox_job_id JOIN invite_batches b ON b.id = i.batch_id
         WHERE i.id = $1 AND i.org_id = $2",
    )
    .bind(invitation_id)
    .bind(org_id)
    .fetch_optional(&mut **tx)
    .await
}

/// Marks a pending invitation replaced, if it still is pending; false otherwise.
pub async fn replace(tx: &mut Transaction<'static, Any>, invitation_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE invitations SET status = 'replaced' WHERE id = $1 AND status = 'pending'")
        .bind(invitation_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Link {
    pub id: i64,
    pub org_id: i64,
    pub membership_id: i64,
    pub account_id: i64,
    pub email: String,
    pub status: String,
    pub expires_at: i64,
    pub org_name: String,
    #[sqlx(try_from = "super::Flag")]
    pub require_2fa: bool,
    /// The membership's status: only a Pending one can be joined through a link.
    pub membership_status: String,
    /// The organization's default country for mobile numbers, or empty.
    pub default_country: String,
    /// Whether the account is already someone's: it has a password, or is a member somewhere
    /// (an Owner who has not yet used their set-password link). Such a person joins by signing in.
    #[sqlx(try_from = "super::Flag")]
    pub registered: bool,
    pub prefill_first_name: String,
    pub prefill_last_name: String,
    pub prefill_mobile: String,
    /// When the latest email carrying a link to it was sent: the invitation's own (once
    /// delivered) or its latest reminder's (once queued). Ms since the epoch.
    pub delivered_at: Option<i64>,
    pub last_reminded_at: Option<i64>,
    /// Whether the funnel has counted an open of the link, as the person's or as a possible
    /// mail scanner's; both once the person entered their details, after which the page's
    /// later loads are no opens.
    #[sqlx(try_from = "super::Flag")]
    pub opened: bool,
    #[sqlx(try_from = "super::Flag")]
    pub scanner_opened: bool,
}

/// Looks an invitation up by its token's hash, without using it: the newest link's, or that of
/// an earlier email about it which a reminder's link joined.
pub async fn by_token_hash(db: &Db, token_hash: &str) -> Result<Option<Link>, sqlx::Error> {
    sqlx::query_as(
        "SELECT i.id, i.org_id, i.membership_id, m.account_id, i.email, i.status, i.expires_at,
                o.name AS org_name, o.require_2fa, m.status AS membership_status, o.default_country,
                CASE WHEN a.password_hash IS NOT NULL OR EXISTS (SELECT 1 FROM memberships own
                     WHERE own.account_id = a.id AND own.status IN ('active', 'inactive')) THEN 1 ELSE 0 END AS registered,
                m.prefill_first_name, m.prefill_last_name, m.prefill_mobile,
                (SELECT j.done_at FROM outbox_jobs j WHERE j.id = i.outbox_job_id AND j.status = 'done') AS delivered_at,
                i.last_reminded_at,
                CASE WHEN mf.link_opened_at IS NULL AND mf.details_at IS NULL THEN 0 ELSE 1 END AS opened,
                CASE WHEN mf.scanner_opened_at IS NULL AND mf.details_at IS NULL THEN 0 ELSE 1 END AS scanner_opened
         FROM invitations i JOIN memberships m ON m.id = i.membership_id JOIN organizations o ON o.id = i.org_id
              JOIN accounts a ON a.id = m.account_id LEFT JOIN membership_funnel mf ON mf.membership_id = m.id
         WHERE i.id = COALESCE((SELECT id FROM invitations WHERE token_hash = $1),
                               (SELECT invitation_id FROM invitation_links WHERE token_hash = $1))",
    )
    .bind(token_hash)
    .fetch_optional(&db.pool)
    .await
}

/// Spends the invitation in one conditional update: two tabs cannot both succeed, and a link
/// whose membership is no longer Pending (registered, paused, withdrawn) does nothing.
pub async fn redeem(tx: &mut Transaction<'static, Any>, id: i64) -> Result<bool, sqlx::Error> {
    let now = now_ms();
    let done = sqlx::query(
        "UPDATE invitations SET status = 'accepted', accepted_at = $2
         WHERE id = $1 AND status = 'pending' AND expires_at > $2
           AND membership_id IN (SELECT id FROM memberships WHERE status = 'pending')",
    )
    .bind(id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes the pending invitation of a membership; false when there is none.
pub async fn revoke(tx: &mut Transaction<'static, Any>, org_id: i64, membership_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE invitations SET status = 'revoked' WHERE org_id = $1 AND membership_id = $2 AND status = 'pending'",
    )
    .bind(org_id)
    .bind(membership_id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The `invitation.*` events' facts about these invitations, with their organizations.
#[derive(Debug, sqlx::FromRow)]
pub struct InvitationEvent {
    pub org_id: i64,
    #[sqlx(flatten)]
    pub data: crate::domain::events::InvitationData,
}

const EVENT_COLUMNS: &str = "i.org_id, i.id AS invitation_id, i.membership_id, i.email, sa.name AS service_area,
        r.name AS role, i.expires_at";
const EVENT_JOINS: &str = "JOIN memberships m ON m.id = i.membership_id JOIN roles r ON r.id = m.role_id
        LEFT JOIN service_areas sa ON sa.id = m.service_area_id";

pub async fn event_data(tx: &mut Transaction<'static, Any>, ids: &[i64]) -> Result<Vec<InvitationEvent>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM invitations i {EVENT_JOINS} WHERE i.id IN ({}) ORDER BY i.id",
        super::parameters(1, ids.len())
    );
    let mut query = sqlx::query_as(&sql);
    for id in ids {
        query = query.bind(id);
    }
    query.fetch_all(&mut **tx).await
}

/// The invitations whose emails these outbox jobs sent, in organizations with an endpoint
/// listening for `event_type`; `error` is the job's last error.
pub async fn listened_by_jobs(
    tx: &mut Transaction<'static, Any>,
    job_ids: &[i64],
    event_type: crate::domain::events::EventType,
) -> Result<Vec<InvitationEvent>, sqlx::Error> {
    if job_ids.is_empty() {
        return Ok(Vec::new());
    }
    // From each job to its invitation through indexed columns only (the recipient's account,
    // its membership, that membership's invitations): no index leads from a job to its invitation.
    let sql = format!(
        "SELECT {EVENT_COLUMNS}, j.last_error AS error
         FROM outbox_jobs j JOIN accounts a ON a.email = j.recipient
         JOIN memberships m ON m.org_id = j.org_id AND m.account_id = a.id
         JOIN invitations i ON i.membership_id = m.id AND i.outbox_job_id = j.id
         JOIN roles r ON r.id = m.role_id LEFT JOIN service_areas sa ON sa.id = m.service_area_id
         WHERE j.id IN ({})
           AND EXISTS (SELECT 1 FROM webhook_endpoints e
                       WHERE e.org_id = j.org_id AND e.disabled_at IS NULL AND e.event_types LIKE $1)
         ORDER BY i.id",
        super::parameters(2, job_ids.len())
    );
    let mut query = sqlx::query_as(&sql).bind(crate::domain::events::subscribed_pattern(event_type));
    for id in job_ids {
        query = query.bind(id);
    }
    query.fetch_all(&mut **tx).await
}
