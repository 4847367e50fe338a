use super::{now_ms, Db};
use crate::domain::settings::Role;
use crate::domain::PermissionSet;
use sqlx::{Any, Transaction};

/// A role's columns as [`Role`] reads them from `roles r`, with how many members it holds, read
/// from the counts triggers keep (`member_counts`, migration 0010) rather than counted: a million
/// members made that count most of the Users list's time, and most of a batch's checks.
const ROLE_COLUMNS: &str = "r.id, r.name, r.permissions, r.locked,
    (SELECT CAST(COALESCE(SUM(c.members), 0) AS BIGINT) FROM member_counts c
     WHERE c.org_id = r.org_id AND c.role_id = r.id) AS members";

/// The organization's roles, each with how many members it holds.
pub async fn list(db: &Db, org_id: i64) -> Result<Vec<Role>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {ROLE_COLUMNS} FROM roles r WHERE r.org_id = $1 ORDER BY r.id"))
        .bind(org_id)
        .fetch_all(&db.pool)
        .await
}

/// Every role of the organization with its stored permissions: (id, permissions).
pub async fn permissions(db: &Db, org_id: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as("SELECT id, permissions FROM roles WHERE org_id = $1").bind(org_id).fetch_all(&db.pool).await
}

pub async fn create(tx: &mut Transaction<'static, Any>, org_id: i64, name: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO roles (org_id, name, permissions, locked, created_at) VALUES ($1, $2, '', FALSE, $3) RETURNING id",
    )
    .bind(org_id)
    .bind(name)
    .bind(now_ms())
    .fetch_one(&mut **tx)
    .await
}

/// This organization's role, as the transaction sees it.
pub async fn get(tx: &mut Transaction<'static, Any>, org_id: i64, id: i64) -> Result<Option<Role>, sqlx::Error> {
    // The counts are the transaction's own: triggers keep them within it.
    sqlx::query_as(&format!("SELECT {ROLE_COLUMNS} FROM roles r WHERE r.id = $2 AND r.org_id = $1"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

/// This organization's role, its row locked until the transaction ends, so two edits of its
/// permissions read and write one after the other and neither is lost. (A no-op UPDATE takes the
/// row lock on PostgreSQL; SQLite's write transactions are already one at a time.)
pub async fn get_for_update(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    id: i64,
) -> Result<Option<Role>, sqlx::Error> {
    sqlx::query("UPDATE roles SET permissions = permissions WHERE id = $2 AND org_id = $1")
        .bind(org_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    get(tx, org_id, id).await
}

pub async fn rename(tx: &mut Transaction<'static, Any>, org_id: i64, id: i64, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE roles SET name = $3 WHERE id = $2 AND org_id = $1")
        .bind(org_id)
        .bind(id)
        .bind(name)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn set_permissions(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    id: i64,
    permissions: PermissionSet,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE roles SET permissions = $3 WHERE id = $2 AND org_id = $1 AND locked = FALSE")
        .bind(org_id)
        .bind(id)
        .bind(permissions.to_stored())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn delete(tx: &mut Transaction<'static, Any>, org_id: i64, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM roles WHERE id = $2 AND org_id = $1 AND locked = FALSE")
        .bind(org_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
