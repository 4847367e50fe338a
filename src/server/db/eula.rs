use super::{now_ms, Db};
use crate::domain::settings::EulaVersion;
use sqlx::{Any, Transaction};

pub async fn list(db: &Db, org_id: i64) -> Result<Vec<EulaVersion>, sqlx::Error> {
    sqlx::query_as(
        "SELECT e.id, e.version, e.body, e.published_at, a.email AS published_by
         FROM eula_versions e LEFT JOIN accounts a ON a.id = e.published_by
         WHERE e.org_id = $1 ORDER BY e.version DESC",
    )
    .bind(org_id)
    .fetch_all(&db.pool)
    .await
}

/// Publishes the next version. Versions are never edited: the table refuses updates.
pub async fn publish(tx: &mut Transaction<'static, Any>, org_id: i64, body: &str, by: i64) -> Result<i64, sqlx::Error> {
    let next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) + 1 FROM eula_versions WHERE org_id = $1")
        .bind(org_id)
        .fetch_one(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO eula_versions (org_id, version, body, published_by, published_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(org_id)
    .bind(next)
    .bind(body)
    .bind(by)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(next)
}
