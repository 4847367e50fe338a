use super::{now_ms, Db};
use crate::domain::settings::ServiceArea;
use sqlx::{Any, Transaction};

/// How many members the service area `s` holds, read from the counts triggers keep within each
/// transaction (`member_counts`, migration 0010) rather than counted: at a million members that
/// count was most of the Users list's time, and a hundred thousand rows for each batch.
const MEMBERS: &str = "(SELECT CAST(COALESCE(SUM(c.members), 0) AS BIGINT) FROM member_counts c
     WHERE c.org_id = s.org_id AND c.service_area_id = s.id)";

/// The organization's service areas, each with how many members it holds.
pub async fn list(db: &Db, org_id: i64) -> Result<Vec<ServiceArea>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT s.id, s.name, {MEMBERS} AS members FROM service_areas s WHERE s.org_id = $1 ORDER BY s.name, s.id"
    ))
    .bind(org_id)
    .fetch_all(&db.pool)
    .await
}

pub async fn create(tx: &mut Transaction<'static, Any>, org_id: i64, name: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO service_areas (org_id, name, created_at) VALUES ($1, $2, $3) RETURNING id")
        .bind(org_id)
        .bind(name)
        .bind(now_ms())
        .fetch_one(&mut **tx)
        .await
}

/// Renames an area of this organization; false when there is no such area here.
pub async fn rename(tx: &mut Transaction<'static, Any>, org_id: i64, id: i64, name: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE service_areas SET name = $3 WHERE id = $2 AND org_id = $1")
        .bind(org_id)
        .bind(id)
        .bind(name)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// How many members the organization's service area holds; `None` when it has no such area.
pub async fn member_count(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    id: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(&format!("SELECT {MEMBERS} FROM service_areas s WHERE s.id = $2 AND s.org_id = $1"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

pub async fn delete(tx: &mut Transaction<'static, Any>, org_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM service_areas WHERE id = $2 AND org_id = $1")
        .bind(org_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}
