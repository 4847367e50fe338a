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

/// Counts one try at the code, unless it already had `max`: the number of tries so far, or
/// `None` when none are left. One conditional statement, so parallel tries cannot exceed `max`.
pub async fn take_attempt(db: &Db, id: i64, max: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = $1 AND attempts < $2 AND used_at IS NULL
         RETURNING attempts",
    )
    .bind(id)
    .bind(max)
    .fetch_optional(&db.pool)
    .await
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
