//! Access requests: whether a chat user may reach the agent through a connector.

use super::{now_ms, Db};
use crate::domain::chat_users::{AccessFilter, AccessRequestRow};
use crate::domain::chat_users::{AccessStatus, Decision};
use crate::domain::members::PAGE_SIZE;
use sqlx::{Any, Transaction};

/// Opens a pending request unless one exists. Only the caller that created it gets `true`: with
/// the unique (connector, chat user) pair this is what sends the onboarding message exactly once,
/// however many first messages race.
pub async fn open_once(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    connector_id: i64,
    chat_user_id: i64,
    first_message: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO access_requests (org_id, connector_id, chat_user_id, first_message, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (connector_id, chat_user_id) DO NOTHING",
    )
    .bind(org_id)
    .bind(connector_id)
    .bind(chat_user_id)
    .bind(first_message)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a member let in by the connector's rule as approved, with nobody as the decider:
/// a new request, or one still pending. A decision someone made stands: `false` when there was
/// one (made since the request was read).
pub async fn let_in(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    connector_id: i64,
    chat_user_id: i64,
    first_message: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO access_requests (org_id, connector_id, chat_user_id, first_message, created_at, status, decided_at)
         VALUES ($1, $2, $3, $4, $5, 'approved', $5)
         ON CONFLICT (connector_id, chat_user_id) DO UPDATE SET status = 'approved', decided_at = excluded.decided_at,
             decided_by = NULL
         WHERE access_requests.status = 'pending'",
    )
    .bind(org_id)
    .bind(connector_id)
    .bind(chat_user_id)
    .bind(first_message)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes back an approval the rule for members gave (nobody decided it): the person is no
/// longer a member, or the rule is off, and asks like anyone. A person's approval stays.
pub async fn withdraw_let_in(
    tx: &mut Transaction<'static, Any>,
    connector_id: i64,
    chat_user_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM access_requests
         WHERE connector_id = $1 AND chat_user_id = $2 AND status = 'approved' AND decided_by IS NULL",
    )
    .bind(connector_id)
    .bind(chat_user_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Where the chat user's request on the connector stands, if they have one.
pub async fn status_of(
    tx: &mut Transaction<'static, Any>,
    connector_id: i64,
    chat_user_id: i64,
) -> Result<Option<AccessStatus>, sqlx::Error> {
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM access_requests WHERE connector_id = $1 AND chat_user_id = $2")
            .bind(connector_id)
            .bind(chat_user_id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(status.as_deref().and_then(AccessStatus::parse))
}

/// Marks a rejected user as told; `true` for the one caller that gets to tell them.
pub async fn tell_rejection_once(
    tx: &mut Transaction<'static, Any>,
    connector_id: i64,
    chat_user_id: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE access_requests SET rejection_told = TRUE
         WHERE connector_id = $1 AND chat_user_id = $2 AND status = 'rejected' AND rejection_told = FALSE",
    )
    .bind(connector_id)
    .bind(chat_user_id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

const ROW: &str = "SELECT r.id, r.chat_user_id, u.first_name, u.last_name, u.platform_id, u.avatar_url, u.provider,
        r.connector_id, c.name AS connector_name, r.status, r.first_message, r.created_at,
        a.email AS decided_by, r.decided_at
     FROM access_requests r
     JOIN chat_users u ON u.id = r.chat_user_id
     JOIN connectors c ON c.id = r.connector_id
     LEFT JOIN accounts a ON a.id = r.decided_by";

/// A page of requests, newest first, with the filter's status, connector and search applied.
pub async fn page(db: &Db, org_id: i64, f: &AccessFilter) -> Result<(Vec<AccessRequestRow>, i64), sqlx::Error> {
    let filter = "r.org_id = $1 AND ($2 = '' OR r.status = $2) AND ($3 = 0 OR r.connector_id = $3)
        AND ($4 = '' OR LOWER(u.first_name || ' ' || u.last_name || ' ' || u.platform_id || ' ' || r.first_message) LIKE $4)";
    let pattern =
        if f.search.trim().is_empty() { String::new() } else { format!("%{}%", f.search.trim().to_lowercase()) };
    let rows = sqlx::query_as(&format!("{ROW} WHERE {filter} ORDER BY r.id DESC LIMIT $5 OFFSET $6"))
        .bind(org_id)
        .bind(&f.status)
        .bind(f.connector)
        .bind(&pattern)
        .bind(PAGE_SIZE)
        .bind((f.page.max(1) - 1) * PAGE_SIZE)
        .fetch_all(&db.pool)
        .await?;
    let (total,): (i64,) = sqlx::query_as(&format!(
        "SELECT COUNT(*) FROM access_requests r JOIN chat_users u ON u.id = r.chat_user_id WHERE {filter}"
    ))
    .bind(org_id)
    .bind(&f.status)
    .bind(f.connector)
    .bind(&pattern)
    .fetch_one(&db.pool)
    .await?;
    Ok((rows, total))
}

/// (pending, approved, rejected) across the organization.
pub async fn counts(db: &Db, org_id: i64) -> Result<(i64, i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0),
                COALESCE(SUM(CASE WHEN status = 'approved' THEN 1 ELSE 0 END), 0),
                COALESCE(SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END), 0)
         FROM access_requests WHERE org_id = $1",
    )
    .bind(org_id)
    .fetch_one(&db.pool)
    .await
}

pub async fn for_chat_user(db: &Db, org_id: i64, chat_user_id: i64) -> Result<Vec<AccessRequestRow>, sqlx::Error> {
    sqlx::query_as(&format!("{ROW} WHERE r.org_id = $1 AND r.chat_user_id = $2 ORDER BY r.id"))
        .bind(org_id)
        .bind(chat_user_id)
        .fetch_all(&db.pool)
        .await
}

/// Whether the organization has this request.
pub async fn exists(tx: &mut Transaction<'static, Any>, org_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM access_requests WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(found.is_some())
}

/// Applies a decision to one request: who it was about, or `None` when it already stood so.
/// Undo clears who decided, and lets a later rejection be told again.
pub async fn decide(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    id: i64,
    decision: Decision,
    by: i64,
) -> Result<Option<String>, sqlx::Error> {
    let target = decision.target();
    let (decided_by, decided_at) = match decision {
        Decision::Undo => (None, None),
        _ => (Some(by), Some(now_ms())),
    };
    let changed: Option<(i64, i64)> = sqlx::query_as(
        "UPDATE access_requests SET status = $3, decided_by = $4, decided_at = $5, rejection_told = FALSE
         WHERE org_id = $1 AND id = $2 AND status <> $3
         RETURNING chat_user_id, connector_id",
    )
    .bind(org_id)
    .bind(id)
    .bind(target.key())
    .bind(decided_by)
    .bind(decided_at)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((chat_user_id, connector_id)) = changed else {
        return Ok(None);
    };
    let (first, last, platform_id, connector): (String, String, String, String) = sqlx::query_as(
        "SELECT u.first_name, u.last_name, u.platform_id, c.name FROM chat_users u, connectors c
         WHERE u.id = $1 AND c.id = $2",
    )
    .bind(chat_user_id)
    .bind(connector_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(Some(format!("{} on {connector}", crate::domain::chat_users::display_name(&first, &last, &platform_id))))
}
