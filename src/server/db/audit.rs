use super::now_ms;
use sqlx::{Any, Transaction};

/// Records an admin action in the same transaction as the change it describes.
pub async fn record(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    actor: i64,
    action: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    insert(tx, org_id, (Some(actor), None), action, detail).await
}

/// Records a change made by no account (a SCIM provisioning token), under `actor`'s name.
pub async fn record_by(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    insert(tx, org_id, (None, Some(actor)), action, detail).await
}

/// One entry, by an account or under a label.
async fn insert(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    (account, label): (Option<i64>, Option<&str>),
    action: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (org_id, actor_account_id, actor_label, action, detail, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(org_id)
    .bind(account)
    .bind(label)
    .bind(action)
    .bind(detail)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn recent(
    db: &super::Db,
    org_id: i64,
    limit: i64,
) -> Result<Vec<crate::domain::settings::AuditEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.id, l.action, l.detail, l.at, COALESCE(a.email, l.actor_label) AS actor
         FROM audit_log l LEFT JOIN accounts a ON a.id = l.actor_account_id
         WHERE l.org_id = $1 ORDER BY l.id DESC LIMIT $2",
    )
    .bind(org_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await
}
