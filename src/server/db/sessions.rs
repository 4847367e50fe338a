use super::Db;

#[derive(Debug, sqlx::FromRow)]
pub struct StoredSession {
    pub data: String,
    pub expires_at: i64,
}

pub async fn load(db: &Db, id: &str, now: i64) -> Result<Option<StoredSession>, sqlx::Error> {
    sqlx::query_as("SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2")
        .bind(id)
        .bind(now)
        .fetch_optional(&db.pool)
        .await
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
    .bind(id)
    .bind(account_id)
    .bind(data)
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
    .bind(id)
    .bind(account_id)
    .bind(data)
    .bind(expires_at)
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub async fn delete(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(&db.pool).await?;
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
