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

/// Takes up to `want` attempts at once from `subject`'s budget of `max` per `window_ms`, at
/// `now`, in the caller's transaction (which holds the budget's row until it ends on
/// PostgreSQL). Returns how many were taken: from 0, when the window's budget is spent, to
/// `want`. One conditional statement, as [`take`]; `last_taken` keeps what this take got, since
/// the row returned holds only the new count.
pub async fn take_up_to(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    subject: &str,
    want: i64,
    max: i64,
    window_ms: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let fresh = want.min(max);
    let taken: Option<i64> = sqlx::query_scalar(
        "INSERT INTO attempt_limits (subject, window_start, count, last_taken) VALUES ($1, $2, $4, $4)
         ON CONFLICT (subject) DO UPDATE SET
             count = CASE WHEN attempt_limits.window_start <= $3 THEN $4
                          WHEN attempt_limits.count + $6 < $5 THEN attempt_limits.count + $6 ELSE $5 END,
             last_taken = CASE WHEN attempt_limits.window_start <= $3 THEN $4
                               WHEN attempt_limits.count + $6 < $5 THEN $6 ELSE $5 - attempt_limits.count END,
             window_start = CASE WHEN attempt_limits.window_start <= $3 THEN $2 ELSE attempt_limits.window_start END
         WHERE attempt_limits.window_start <= $3 OR attempt_limits.count < $5
         RETURNING last_taken",
    )
    .bind(subject)
    .bind(now)
    .bind(now - window_ms)
    .bind(fresh)
    .bind(max)
    .bind(want)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(taken.unwrap_or(0))
}

/// Gives back `unused` attempts of a [`take_up_to`] in the same transaction.
pub async fn give_back(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    subject: &str,
    unused: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE attempt_limits SET count = count - $2 WHERE subject = $1 AND count >= $2")
        .bind(subject)
        .bind(unused)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
