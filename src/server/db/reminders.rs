//! Automatic reminders: an organization's settings, and the pending invitations whose next
//! reminder is due. Each invitation keeps when its next reminder falls due, so every instance's
//! sweep reads only what is due (index `invitations_reminders_due`, migration 0019).

use super::{Backend, Db};
use crate::domain::members::MemberFilter;
use crate::domain::reminders::{ReminderChannel, ReminderSettings};
use crate::domain::time::DAY_MS;
use sqlx::{Any, Transaction};

#[derive(sqlx::FromRow)]
struct SettingsRow {
    #[sqlx(try_from = "super::Flag")]
    reminders_enabled: bool,
    reminder_after_days: i64,
    reminder_before_expiry_days: i64,
    reminder_channel: ReminderChannel,
    reminders_per_minute: i64,
}

pub async fn settings(db: &Db, org_id: i64) -> Result<ReminderSettings, sqlx::Error> {
    let row: Option<SettingsRow> = sqlx::query_as(
        "SELECT reminders_enabled, reminder_after_days, reminder_before_expiry_days, reminder_channel, reminders_per_minute
         FROM organizations WHERE id = $1",
    )
    .bind(org_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map_or_else(ReminderSettings::default, |r| ReminderSettings {
        enabled: r.reminders_enabled,
        after_days: r.reminder_after_days,
        before_expiry_days: r.reminder_before_expiry_days,
        channel: r.reminder_channel,
        per_minute: r.reminders_per_minute,
    }))
}

/// When a new invitation, sent now and expiring at `expires_at`, gets its first reminder.
pub async fn first_due(db: &Db, org_id: i64, expires_at: i64, now: i64) -> Result<Option<i64>, sqlx::Error> {
    Ok(settings(db, org_id).await?.next_after(now, expires_at, now))
}

/// Saves the settings and schedules every pending invitation of the organization by them, in
/// one statement that computes what [`ReminderSettings::next_after`] does: the first point of
/// the schedule inside the invitation's life and after its last reminder (or its sending).
/// Those a "Remind all pending" is still to send stay due. Points already passed but not yet
/// reminded are due at once: turning reminders on catches up, at the organization's rate.
pub async fn update_settings(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    s: &ReminderSettings,
) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "UPDATE organizations SET reminders_enabled = $2, reminder_after_days = $3, reminder_before_expiry_days = $4,
                reminder_channel = $5, reminders_per_minute = $6
         WHERE id = $1",
    )
    .bind(org_id)
    .bind(s.enabled)
    .bind(s.after_days)
    .bind(s.before_expiry_days)
    .bind(s.channel.key())
    .bind(s.per_minute)
    .execute(&mut **tx)
    .await?;
    let (after, before) = if s.enabled { (s.after_days * DAY_MS, s.before_expiry_days * DAY_MS) } else { (0, 0) };
    let done = sqlx::query(
        "UPDATE invitations SET next_reminder_at = CASE
             WHEN $2 > 0 AND created_at + $2 < expires_at AND created_at + $2 > COALESCE(last_reminded_at, created_at)
                  AND NOT ($3 > 0 AND expires_at - $3 > created_at AND expires_at - $3 > COALESCE(last_reminded_at, created_at)
                           AND expires_at - $3 < created_at + $2)
                 THEN created_at + $2
             WHEN $3 > 0 AND expires_at - $3 > created_at AND expires_at - $3 > COALESCE(last_reminded_at, created_at)
                 THEN expires_at - $3
             ELSE NULL END
         WHERE org_id = $1 AND status = 'pending' AND reminder_run_id IS NULL",
    )
    .bind(org_id)
    .bind(after)
    .bind(before)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// The organizations with a reminder due at `now`: one probe of the due index each.
pub async fn orgs_due(db: &Db, now: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT o.id FROM organizations o
         WHERE EXISTS (SELECT 1 FROM invitations i WHERE i.org_id = o.id AND i.status = 'pending'
                       AND i.next_reminder_at IS NOT NULL AND i.next_reminder_at <= $1)",
    )
    .bind(now)
    .fetch_all(&db.pool)
    .await
}

/// A pending invitation whose reminder is due, with what the reminder needs.
#[derive(Debug, sqlx::FromRow)]
pub struct Due {
    pub id: i64,
    pub membership_id: i64,
    pub email: String,
    pub first_name: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// How the inviter is named: their name, else their address.
    pub inviter: String,
    pub slack_id: Option<String>,
    pub teams_id: Option<String>,
}

/// Locks up to `limit` of the organization's due reminders for the caller's transaction, the
/// earliest first; with reminders turned off, only those a "Remind all pending" asked for. PostgreSQL skips those another instance holds, and re-reads a row it waited
/// for, so a reminder another instance sent meanwhile is no longer due; SQLite's write
/// transaction already holds the database. Only invitations still pending, unexpired and whose
/// membership is still pending are due: registering, revoking, pausing or replacing stops them.
pub async fn lock_due(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    org_id: i64,
    now: i64,
    limit: i64,
    enabled: bool,
) -> Result<Vec<Due>, sqlx::Error> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE OF i SKIP LOCKED",
        Backend::Sqlite => "",
    };
    sqlx::query_as(&format!(
        "SELECT i.id, i.membership_id, a.email, COALESCE(NULLIF(a.first_name, ''), m.prefill_first_name) AS first_name,
                i.created_at, i.expires_at,
                COALESCE(NULLIF(TRIM(inviter.first_name || ' ' || inviter.last_name), ''), inviter.email) AS inviter,
                (SELECT external_id FROM identity_mappings x WHERE x.membership_id = m.id AND x.provider = 'slack') AS slack_id,
                (SELECT external_id FROM identity_mappings x WHERE x.membership_id = m.id AND x.provider = 'teams') AS teams_id
         FROM invitations i JOIN memberships m ON m.id = i.membership_id JOIN accounts a ON a.id = m.account_id
              JOIN accounts inviter ON inviter.id = i.invited_by
         WHERE i.status = 'pending' AND i.next_reminder_at IS NOT NULL AND i.next_reminder_at <= $2
           AND i.org_id = $1 AND i.expires_at > $2 AND m.status = 'pending' AND ($4 OR i.reminder_run_id IS NOT NULL)
         ORDER BY i.next_reminder_at, i.id LIMIT $3{lock}"
    ))
    .bind(org_id)
    .bind(now)
    .bind(limit)
    .bind(enabled)
    .fetch_all(&mut **tx)
    .await
}

/// Records a reminder sent at `now` with a fresh link (`token_hash`; the earlier links keep
/// working as long as the invitation does) and schedules the next. False when the invitation is
/// no longer due.
pub async fn reminded(
    tx: &mut Transaction<'static, Any>,
    invitation_id: i64,
    token_hash: &str,
    now: i64,
    next: Option<i64>,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "INSERT INTO invitation_links (token_hash, invitation_id)
         SELECT token_hash, id FROM invitations WHERE id = $1 AND status = 'pending' AND next_reminder_at <= $2",
    )
    .bind(invitation_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let done = sqlx::query(
        "UPDATE invitations SET token_hash = $2, reminders_sent = reminders_sent + 1, last_reminded_at = $3,
                next_reminder_at = $4, reminder_run_id = NULL
         WHERE id = $1 AND status = 'pending' AND next_reminder_at <= $3",
    )
    .bind(invitation_id)
    .bind(token_hash)
    .bind(now)
    .bind(next)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether a queued reminder about the invitation should still go out: it is pending and
/// unexpired, and so is its membership (the person may have registered, or been withdrawn,
/// since it was queued).
pub async fn still_waiting(db: &Db, invitation_id: i64, now: i64) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT i.id FROM invitations i JOIN memberships m ON m.id = i.membership_id
         WHERE i.id = $1 AND i.status = 'pending' AND i.expires_at > $2 AND m.status = 'pending'",
    )
    .bind(invitation_id)
    .bind(now)
    .fetch_optional(&db.pool)
    .await?;
    Ok(found.is_some())
}

/// Stops the reminders of the organization's due invitations that can no longer be reminded
/// (expired, or the membership is no longer pending), so sweeps stop finding them.
pub async fn drop_stale(db: &Db, org_id: i64, now: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE invitations SET next_reminder_at = NULL
         WHERE org_id = $1 AND status = 'pending' AND next_reminder_at IS NOT NULL AND next_reminder_at <= $2
           AND (expires_at <= $2 OR NOT EXISTS (SELECT 1 FROM memberships m WHERE m.id = membership_id AND m.status = 'pending'))",
    )
    .bind(org_id)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected())
}

/// How the pending members a filter matches can be reached, for "Remind all pending".
#[derive(Debug, sqlx::FromRow)]
pub struct Reach {
    /// Their role holds a permission the caller lacks: the caller may not renew their links.
    #[sqlx(try_from = "super::Flag")]
    pub out_of_reach: bool,
    #[sqlx(try_from = "super::Flag")]
    pub slack: bool,
    #[sqlx(try_from = "super::Flag")]
    pub teams: bool,
    pub members: i64,
}

/// The members `f` matches who are Pending with an unexpired invitation, grouped by whether
/// their role is in `out_of_reach` and by the chat identities they are mapped to. One pass.
pub async fn pending_reach(
    db: &Db,
    org_id: i64,
    f: &MemberFilter,
    out_of_reach: &[i64],
    now: i64,
) -> Result<Vec<Reach>, sqlx::Error> {
    let (mut s, pending) = remindable(db.backend, org_id, f, now);
    let beyond = role_in(&mut s, out_of_reach);
    let sql = format!(
        "SELECT CASE WHEN {beyond} THEN 1 ELSE 0 END AS out_of_reach,
                CASE WHEN EXISTS (SELECT 1 FROM identity_mappings x WHERE x.membership_id = m.id AND x.provider = 'slack')
                     THEN 1 ELSE 0 END AS slack,
                CASE WHEN EXISTS (SELECT 1 FROM identity_mappings x WHERE x.membership_id = m.id AND x.provider = 'teams')
                     THEN 1 ELSE 0 END AS teams,
                COUNT(*) AS members
         FROM memberships m WHERE {} AND EXISTS (SELECT 1 FROM invitations i WHERE i.membership_id = m.id AND {pending})
         GROUP BY 1, 2, 3",
        s.filter()
    );
    s.bind(sqlx::query_as(&sql)).fetch_all(&db.pool).await
}

/// The filter's Pending members, and the condition on `i` (invitations) that their invitation
/// is pending and unexpired at `now`.
fn remindable(backend: Backend, org_id: i64, f: &MemberFilter, now: i64) -> (super::member_list::Statement, String) {
    let mut s = super::member_list::matching(backend, org_id, f);
    s.condition("m.status = 'pending'");
    let now = s.int(now);
    (s, format!("i.status = 'pending' AND i.expires_at > {now}"))
}

/// The condition that the member's role (`m.role_id`) is one of `roles`.
fn role_in(s: &mut super::member_list::Statement, roles: &[i64]) -> String {
    if roles.is_empty() {
        return "1 = 0".into();
    }
    let values: Vec<String> = roles.iter().map(|role| s.int(*role)).collect();
    format!("m.role_id IN ({})", values.join(", "))
}

/// Starts a "Remind all pending" for `account_id`: every invitation [`pending_reach`] counts
/// within reach is due at `now` and names the run. Returns the run's id and how many it reaches.
pub async fn start_run(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    org_id: i64,
    account_id: i64,
    f: &MemberFilter,
    out_of_reach: &[i64],
    now: i64,
) -> Result<(i64, i64), sqlx::Error> {
    let run: i64 = sqlx::query_scalar(
        "INSERT INTO reminder_runs (org_id, account_id, requested_at, total) VALUES ($1, $2, $3, 0) RETURNING id",
    )
    .bind(org_id)
    .bind(account_id)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    let (mut s, pending) = remindable(backend, org_id, f, now);
    let beyond = role_in(&mut s, out_of_reach);
    s.condition(format!("NOT ({beyond})"));
    let (due, named) = (s.int(now), s.int(run));
    let sql = format!(
        "UPDATE invitations SET next_reminder_at = {due}, reminder_run_id = {named}
         WHERE id IN (SELECT i.id FROM memberships m JOIN invitations i ON i.membership_id = m.id WHERE {} AND {pending})",
        s.filter()
    );
    let total = s.bind_query(sqlx::query(&sql)).execute(&mut **tx).await?.rows_affected() as i64;
    sqlx::query("UPDATE reminder_runs SET total = $2 WHERE id = $1").bind(run).bind(total).execute(&mut **tx).await?;
    Ok((run, total))
}

/// A run's size and how many of its reminders are still waiting for a sweep (those no longer
/// pending, such as people who registered meanwhile, wait no more). `None` for another
/// organization's run.
pub async fn run_progress(db: &Db, org_id: i64, run: i64) -> Result<Option<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.total, (SELECT COUNT(*) FROM invitations i WHERE i.reminder_run_id = r.id AND i.status = 'pending'
                            AND i.next_reminder_at IS NOT NULL AND i.next_reminder_at <= r.requested_at) AS waiting
         FROM reminder_runs r WHERE r.id = $1 AND r.org_id = $2",
    )
    .bind(run)
    .bind(org_id)
    .fetch_optional(&db.pool)
    .await
}
