use super::{now_ms, Db};
use sqlx::{Any, Transaction};

pub async fn create(db: &Db, account_id: i64, token_hash: &str, expires_at: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO password_links (account_id, token_hash, expires_at, created_at) VALUES ($1, $2, $3, $4)")
        .bind(account_id)
        .bind(token_hash)
        .bind(expires_at)
        .bind(now_ms())
        .execute(&db.pool)
        .await?;
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
pub struct LinkState {
    pub email: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// Looks a link up without using it: opening the page must not spend it.
pub async fn peek(db: &Db, token_hash: &str) -> Result<Option<LinkState>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.email, l.expires_at, l.used_at FROM password_links l JOIN accounts a ON a.id = l.account_id WHERE l.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(&db.pool)
    .await
}

/// Spends the link in one conditional update, so two tabs cannot both succeed.
pub async fn redeem(tx: &mut Transaction<'static, Any>, token_hash: &str) -> Result<Option<i64>, sqlx::Error> {
    let now = now_ms();
    sqlx::query_scalar(
        "UPDATE password_links SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING account_id",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await
}
