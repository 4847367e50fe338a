//! Attempt budgets: at most `max` attempts per subject ("account:<email>", "ip:<network>",
//! "code-ip:<network>", "totp:<account>", "code-send:<account>:<purpose>") in a fixed window.
//! Each attempt is taken by one conditional statement, so parallel requests cannot all pass a
//! check that was read before any of them wrote (OWASP ASVS 4.0 V2.2.1).

use super::Db;

/// Takes one attempt from `subject`'s budget of `max` per `window_ms`, at `now`. True if it was
/// taken; false when the budget of the current window is spent. A spent budget is not extended
/// by refused attempts: once the window has passed, a new one starts.
pub async fn take(db: &Db, subject: &str, max: i64, window_ms: i64, now: i64) -> Result<bool, sqlx::Error> {
    let taken: Option<i64> = sqlx::query_scalar(
        "INSERT INTO attempt_limits (subject, window_start, count) VALUES ($1, $2, 1)
         ON CONFLICT (subject) DO UPDATE SET
             count = CASE WHEN attempt_limits.window_start <= $3 THEN 1 ELSE attempt_limits.count + 1 END,
             window_start = CASE WHEN attempt_limits.window_start <= $3 THEN $2 ELSE attempt_limits.window_start END
         WHERE attempt_limits.window_start <= $3 OR attempt_limits.count < $4
         RETURNING count",
    )
    .bind(subject)
    .bind(now)
    .bind(now - window_ms)
    .bind(max)
    .fetch_optional(&db.pool)
    .await?;
    Ok(taken.is_some())
}

/// Gives back one attempt that turned out right (a right password or code), so only failures count.
pub async fn refund(db: &Db, subject: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE attempt_limits SET count = count - 1 WHERE subject = $1 AND count > 0")
        .bind(subject)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Forgets the subject's attempts (a successful sign-in clears the account's failures).
pub async fn clear(db: &Db, subject: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM attempt_limits WHERE subject = $1").bind(subject).execute(&db.pool).await?;
    Ok(())
}

/// Drops windows that started before `before_ms`; every window is shorter than a day.
pub async fn prune(db: &Db, before_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM attempt_limits WHERE window_start < $1").bind(before_ms).execute(&db.pool).await?;
    Ok(())
}
