use super::Db;

/// Failures for a subject ("account:<email>" or "ip:<addr>") since `since_ms`.
pub async fn count_since(db: &Db, subject: &str, since_ms: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_failures WHERE subject = $1 AND at >= $2")
        .bind(subject)
        .bind(since_ms)
        .fetch_one(&db.pool)
        .await
}

pub async fn record(db: &Db, subjects: &[&str], at: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    for subject in subjects {
        sqlx::query("INSERT INTO sign_in_failures (subject, at) VALUES ($1, $2)")
            .bind(*subject)
            .bind(at)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

pub async fn clear(db: &Db, subject: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sign_in_failures WHERE subject = $1").bind(subject).execute(&db.pool).await?;
    Ok(())
}

pub async fn prune(db: &Db, before_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sign_in_failures WHERE at < $1").bind(before_ms).execute(&db.pool).await?;
    Ok(())
}
