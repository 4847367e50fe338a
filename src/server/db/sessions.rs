//! Sessions as stored: under the SHA-256 of their id (the cookie's value), their data sealed, so
//! a copy of the database holds nothing that signs anyone in or continues a registration.

use super::Db;
use crate::server::sealing;
use crate::server::secret::token_hash;

#[derive(Debug, sqlx::FromRow)]
pub struct StoredSession {
    pub data: String,
    pub expires_at: i64,
}

/// The session with this id, its data opened. One that does not open (sealed under a key since
/// rotated away) counts as ended: its owner signs in again.
pub async fn load(db: &Db, id: &str, now: i64) -> Result<Option<StoredSession>, sqlx::Error> {
    let stored: Option<StoredSession> =
        sqlx::query_as("SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2")
            .bind(token_hash(id))
            .bind(now)
            .fetch_optional(&db.pool)
            .await?;
    Ok(stored.and_then(|s| match db.key.open(sealing::SESSION_DATA, &s.data) {
        Ok(data) => Some(StoredSession { data, ..s }),
        Err(e) => {
            tracing::warn!(error = %e, "a session that does not open is treated as ended");
            None
        }
    }))
}

/// Inserts a new session; false when the id is taken.
pub async fn insert(
    db: &Db,
    id: &str,
    account_id: Option<i64>,
    data: &str,
    expires_at: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO sessions (id, account_id, data, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
    )
    .bind(token_hash(id))
    .bind(account_id)
    .bind(db.key.seal(sealing::SESSION_DATA, data))
    .bind(expires_at)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn upsert(
    db: &Db,
    id: &str,
    account_id: Option<i64>,
    data: &str,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id, account_id, data, expires_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET account_id = $2, data = $3, expires_at = $4",
    )
    .bind(token_hash(id))
    .bind(account_id)
    .bind(db.key.seal(sealing::SESSION_DATA, data))
    .bind(expires_at)
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub async fn delete(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id = $1").bind(token_hash(id)).execute(&db.pool).await?;
    Ok(())
}

/// Ends every session of an account (used when it is paused or its password changes).
pub async fn delete_for_account(db: &Db, account_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(account_id).execute(&db.pool).await?;
    Ok(())
}

pub async fn prune(db: &Db, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&db.pool).await?;
    Ok(())
}
