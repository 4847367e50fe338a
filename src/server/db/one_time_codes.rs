//! Six-digit codes sent by email (or SMS) to prove a second factor. Only a hash is stored.

use super::{now_ms, Db};

#[derive(Debug, sqlx::FromRow)]
pub struct LiveCode {
    pub id: i64,
    pub code_hash: String,
    pub attempts: i64,
}

pub async fn create(
    db: &Db,
    account_id: i64,
    purpose: &str,
    code_hash: &str,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    // Only the newest code works.
    sqlx::query("UPDATE one_time_codes SET used_at = $3 WHERE account_id = $1 AND purpose = $2 AND used_at IS NULL")
        .bind(account_id)
        .bind(purpose)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO one_time_codes (account_id, purpose, code_hash, attempts, expires_at, created_at) VALUES ($1, $2, $3, 0, $4, $5)")
        .bind(account_id)
        .bind(purpose)
        .bind(code_hash)
        .bind(expires_at)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// How many codes were sent to the account for this purpose since `since`.
pub async fn sent_since(db: &Db, account_id: i64, purpose: &str, since: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM one_time_codes WHERE account_id = $1 AND purpose = $2 AND created_at >= $3",
    )
    .bind(account_id)
    .bind(purpose)
    .bind(since)
    .fetch_one(&db.pool)
    .await
}

/// Whether an unused code was sent since `since`: the person may still be reading it.
pub async fn unused_since(db: &Db, account_id: i64, purpose: &str, since: i64) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM one_time_codes WHERE account_id = $1 AND purpose = $2 AND created_at >= $3 AND used_at IS NULL",
    )
    .bind(account_id)
    .bind(purpose)
    .bind(since)
    .fetch_one(&db.pool)
    .await?;
    Ok(n > 0)
}

pub async fn live(db: &Db, account_id: i64, purpose: &str) -> Result<Option<LiveCode>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, code_hash, attempts FROM one_time_codes
         WHERE account_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 ORDER BY id DESC LIMIT 1",
    )
    .bind(account_id)
    .bind(purpose)
    .bind(now_ms())
    .fetch_optional(&db.pool)
    .await
}

pub async fn count_attempt(db: &Db, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = $1").bind(id).execute(&db.pool).await?;
    Ok(())
}

/// Spends the code; false if another request spent it first.
pub async fn spend(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE one_time_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL")
        .bind(id)
        .bind(now_ms())
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}
