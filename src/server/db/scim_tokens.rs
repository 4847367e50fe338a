//! SCIM provisioning tokens: each organization's, kept as the SHA-256 of the token only.

use super::{now_ms, Db};
use crate::domain::provisioning::{ScimToken, MAX_TOKENS};
use crate::domain::time::MINUTE_MS;
use sqlx::{Any, Transaction};

const LISTED: &str = "SELECT t.id, t.name, t.service_area_id, sa.name AS service_area, t.role_id, r.name AS role,
            t.send_invitations, a.email AS created_by, t.created_at, t.last_used_at
     FROM scim_tokens t JOIN service_areas sa ON sa.id = t.service_area_id JOIN roles r ON r.id = t.role_id
     LEFT JOIN accounts a ON a.id = t.created_by";

pub async fn list(db: &Db, org_id: i64) -> Result<Vec<ScimToken>, sqlx::Error> {
    sqlx::query_as(&format!("{LISTED} WHERE t.org_id = $1 ORDER BY t.id")).bind(org_id).fetch_all(&db.pool).await
}

pub async fn one(tx: &mut Transaction<'static, Any>, org_id: i64, id: i64) -> Result<Option<ScimToken>, sqlx::Error> {
    sqlx::query_as(&format!("{LISTED} WHERE t.org_id = $1 AND t.id = $2"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

/// A token's choices for what it creates, checked when saved.
pub struct TokenDefaults<'a> {
    pub name: &'a str,
    pub service_area_id: i64,
    pub role_id: i64,
    pub send_invitations: bool,
}

/// Adds a token, unless the organization has [`MAX_TOKENS`] already (judged by the INSERT
/// itself; the caller locks the organization's row on PostgreSQL). Returns its id.
pub async fn create(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    token_hash: &str,
    defaults: &TokenDefaults<'_>,
    created_by: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO scim_tokens (org_id, name, token_hash, service_area_id, role_id, send_invitations, created_by, created_at)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8
         WHERE (SELECT COUNT(*) FROM scim_tokens WHERE org_id = $1) < $9
         RETURNING id",
    )
    .bind(org_id)
    .bind(defaults.name)
    .bind(token_hash)
    .bind(defaults.service_area_id)
    .bind(defaults.role_id)
    .bind(defaults.send_invitations)
    .bind(created_by)
    .bind(now_ms())
    .bind(MAX_TOKENS)
    .fetch_optional(&mut **tx)
    .await
}

/// Saves a token's name and choices; false if the organization has no such token.
pub async fn update(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    id: i64,
    defaults: &TokenDefaults<'_>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE scim_tokens SET name = $3, service_area_id = $4, role_id = $5, send_invitations = $6
         WHERE org_id = $1 AND id = $2",
    )
    .bind(org_id)
    .bind(id)
    .bind(defaults.name)
    .bind(defaults.service_area_id)
    .bind(defaults.role_id)
    .bind(defaults.send_invitations)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(tx: &mut Transaction<'static, Any>, org_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM scim_tokens WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The names of the organization's tokens that create people in the service area or with the
/// role: either may not be deleted while one does.
pub async fn using(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    service_area_id: Option<i64>,
    role_id: Option<i64>,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT name FROM scim_tokens WHERE org_id = $1 AND (service_area_id = $2 OR role_id = $3) ORDER BY id",
    )
    .bind(org_id)
    .bind(service_area_id.unwrap_or(-1))
    .bind(role_id.unwrap_or(-1))
    .fetch_all(&mut **tx)
    .await
}

/// Who calls with a token: its organization and its choices for what it creates.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ScimClient {
    pub token_id: i64,
    pub org_id: i64,
    pub name: String,
    pub service_area_id: i64,
    pub role_id: i64,
    #[sqlx(try_from = "crate::domain::columns::Flag")]
    pub send_invitations: bool,
    /// The admin who made the token: the inviter of record of the people it invites.
    pub created_by: i64,
    /// The permissions the token acts with: its maker's role's, while they are an Active member
    /// of the organization; `None` once they are not.
    pub creator_permissions: Option<String>,
    /// The permissions of the role it gives, as they stand now.
    pub role_permissions: String,
    pub last_used_at: Option<i64>,
}

/// The token whose hash this is, if any, with its maker's standing in its organization now.
pub async fn by_hash(db: &Db, token_hash: &str) -> Result<Option<ScimClient>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.id AS token_id, t.org_id, t.name, t.service_area_id, t.role_id, t.send_invitations, t.created_by,
                r.permissions AS creator_permissions, tr.permissions AS role_permissions, t.last_used_at
         FROM scim_tokens t JOIN roles tr ON tr.id = t.role_id
         LEFT JOIN memberships m ON m.org_id = t.org_id AND m.account_id = t.created_by AND m.status = 'active'
         LEFT JOIN roles r ON r.id = m.role_id
         WHERE t.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(&db.pool)
    .await
}

/// Notes that the token was used now, at most once a minute (one conditional statement).
pub async fn touch(db: &Db, token_id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE scim_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)",
    )
    .bind(token_id)
    .bind(now)
    .bind(now - MINUTE_MS)
    .execute(&db.pool)
    .await?;
    Ok(())
}
