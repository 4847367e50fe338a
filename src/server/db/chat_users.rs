//! Chat users: the people who write to a connector, one per (provider, platform id).

use super::{now_ms, Db, Flag};
use crate::domain::chat_users::AccessStatus;
use crate::domain::chat_users::ChatProfile;
use crate::domain::chat_users::ChatUserRow;
use crate::domain::members::PAGE_SIZE;
use sqlx::{Any, Transaction};

/// A message's sender as the policy needs them.
pub struct Sender {
    pub id: i64,
    /// Whether the provider was asked for their profile already.
    pub profile_checked: bool,
    /// Their access request on the connector written to, if any.
    pub request: Option<AccessStatus>,
    /// That request was approved by the connector's rule for members, not by a person.
    pub let_in_as_member: bool,
}

/// Records the sender, keeping names already known when the webhook carried none, and reads
/// their access request on `connector_id` in the same statement (this is the webhooks' hot path).
pub async fn upsert(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    connector_id: i64,
    provider: &str,
    platform_id: &str,
    first_name: &str,
    last_name: &str,
) -> Result<Sender, sqlx::Error> {
    let (id, checked, request, as_member): (i64, Flag, Option<String>, Flag) = sqlx::query_as(
        "INSERT INTO chat_users (org_id, provider, platform_id, first_name, last_name, created_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         ON CONFLICT (org_id, provider, platform_id) DO UPDATE SET
            last_seen_at = excluded.last_seen_at,
            first_name = CASE WHEN excluded.first_name <> '' OR excluded.last_name <> '' THEN excluded.first_name ELSE chat_users.first_name END,
            last_name = CASE WHEN excluded.first_name <> '' OR excluded.last_name <> '' THEN excluded.last_name ELSE chat_users.last_name END
         RETURNING id, profile_checked,
            (SELECT r.status FROM access_requests r WHERE r.connector_id = $7 AND r.chat_user_id = chat_users.id),
            (SELECT COUNT(*) FROM access_requests r WHERE r.connector_id = $7 AND r.chat_user_id = chat_users.id
               AND r.status = 'approved' AND r.decided_by IS NULL)",
    )
    .bind(org_id)
    .bind(provider)
    .bind(platform_id)
    .bind(first_name)
    .bind(last_name)
    .bind(now_ms())
    .bind(connector_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(Sender {
        id,
        profile_checked: checked.0,
        request: request.as_deref().and_then(AccessStatus::parse),
        let_in_as_member: as_member.0,
    })
}

pub async fn mark_profile_checked(tx: &mut Transaction<'static, Any>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE chat_users SET profile_checked = TRUE WHERE id = $1").bind(id).execute(&mut **tx).await?;
    Ok(())
}

/// What the provider said about the person; names it did not give stay as they were.
pub async fn set_profile(db: &Db, id: i64, profile: &ChatProfile) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE chat_users SET
            first_name = CASE WHEN $2 <> '' OR $3 <> '' THEN $2 ELSE first_name END,
            last_name = CASE WHEN $2 <> '' OR $3 <> '' THEN $3 ELSE last_name END,
            avatar_url = COALESCE($4, avatar_url)
         WHERE id = $1",
    )
    .bind(id)
    .bind(&profile.first_name)
    .bind(&profile.last_name)
    .bind(&profile.avatar_url)
    .execute(&db.pool)
    .await?;
    Ok(())
}

const ROW: &str =
    "SELECT u.id, u.provider, u.platform_id, u.first_name, u.last_name, u.avatar_url, u.created_at, u.last_seen_at,
        (SELECT COUNT(*) FROM chat_messages m WHERE m.chat_user_id = u.id) AS messages
     FROM chat_users u";

/// A page of the organization's chat users, most recently seen first.
pub async fn page(
    db: &Db,
    org_id: i64,
    provider: &str,
    search: &str,
    page: i64,
) -> Result<(Vec<ChatUserRow>, i64), sqlx::Error> {
    let filter = "u.org_id = $1 AND ($2 = '' OR u.provider = $2)
        AND ($3 = '' OR LOWER(u.first_name || ' ' || u.last_name || ' ' || u.platform_id) LIKE $3)";
    let pattern = if search.trim().is_empty() { String::new() } else { format!("%{}%", search.trim().to_lowercase()) };
    let rows =
        sqlx::query_as(&format!("{ROW} WHERE {filter} ORDER BY u.last_seen_at DESC, u.id DESC LIMIT $4 OFFSET $5"))
            .bind(org_id)
            .bind(provider)
            .bind(&pattern)
            .bind(PAGE_SIZE)
            .bind((page.max(1) - 1) * PAGE_SIZE)
            .fetch_all(&db.pool)
            .await?;
    let (total,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM chat_users u WHERE {filter}"))
        .bind(org_id)
        .bind(provider)
        .bind(&pattern)
        .fetch_one(&db.pool)
        .await?;
    Ok((rows, total))
}

pub async fn get(db: &Db, org_id: i64, id: i64) -> Result<Option<ChatUserRow>, sqlx::Error> {
    sqlx::query_as(&format!("{ROW} WHERE u.org_id = $1 AND u.id = $2"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(&db.pool)
        .await
}

/// For the outbox: (first name, last name, platform id).
pub async fn names(db: &Db, id: i64) -> Result<Option<(String, String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT first_name, last_name, platform_id FROM chat_users WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await
}
