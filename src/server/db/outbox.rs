//! The outbox: durable jobs (emails now, chat sends later) that survive restarts and are done
//! once even with several app instances on one PostgreSQL database.

use super::{now_ms, Backend, Db};
use crate::api::types::{OutboxJob, OutboxStatusCounts};
use crate::server::sealing::{self, ServerKey};
use sqlx::{Any, Transaction};

pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const DONE: &str = "done";
pub const FAILED: &str = "failed";

pub struct NewJob<'a> {
    pub org_id: Option<i64>,
    pub kind: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    /// The job's JSON, sealed before it is written: pending jobs carry links and codes.
    pub payload: &'a str,
    pub max_attempts: i64,
}

pub async fn enqueue(
    tx: &mut Transaction<'static, Any>,
    key: &ServerKey,
    job: &NewJob<'_>,
) -> Result<i64, sqlx::Error> {
    let now = now_ms();
    sqlx::query_scalar(
        "INSERT INTO outbox_jobs (org_id, kind, recipient, subject, payload, status, attempts, max_attempts, run_at, created_at)
         VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $7, $7) RETURNING id",
    )
    .bind(job.org_id)
    .bind(job.kind)
    .bind(job.recipient)
    .bind(job.subject)
    .bind(key.seal(sealing::OUTBOX_PAYLOAD, job.payload))
    .bind(job.max_attempts)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
}

#[derive(Debug, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub attempts: i64,
    pub max_attempts: i64,
}

/// Claims the next due job for `worker` until `now + lease`: one whose lease ran out (its worker
/// died) first, as it is the oldest, else the oldest queued one. Two single-status lookups, not
/// one with an OR, so each reads its index in order and stops at the first row: expired leases
/// the `outbox_jobs_leases` index (migration 0012), queued jobs the due index. PostgreSQL
/// skips rows another instance is claiming; SQLite has one writer at a time, so the same
/// statement without the lock clause is already exclusive.
pub async fn claim(db: &Db, worker: &str, lease_ms: i64) -> Result<Option<ClaimedJob>, sqlx::Error> {
    let lock = match db.backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let now = now_ms();
    let lookups = [
        ("status = 'running' AND locked_until < $3", "locked_until, id"),
        ("status = 'queued' AND run_at <= $3", "status, run_at, id"),
    ];
    for (due, order) in lookups {
        let sql = format!(
            "UPDATE outbox_jobs SET status = 'running', locked_by = $1, locked_until = $2, attempts = attempts + 1
             WHERE id = (SELECT id FROM outbox_jobs WHERE {due} ORDER BY {order} LIMIT 1 {lock})
             RETURNING id, kind, payload, attempts, max_attempts"
        );
        let claimed: Option<ClaimedJob> =
            sqlx::query_as(&sql).bind(worker).bind(now + lease_ms).bind(now).fetch_optional(&db.pool).await?;
        if let Some(mut job) = claimed {
            // A payload that does not open reaches the worker empty, which fails it for good
            // (an unreadable payload) rather than leaving it to be claimed again forever.
            job.payload = db.key.open_stored(sealing::OUTBOX_PAYLOAD, &job.payload).unwrap_or_default();
            return Ok(Some(job));
        }
    }
    Ok(None)
}

/// Marks a job done. `locked_by` keeps the worker (instance and number) that did it, to trace a
/// delivery to the instance whose log tells more.
/// Records the job done; `scrubbed` replaces the payload when it carried a one-time secret.
pub async fn complete(
    db: &Db,
    id: i64,
    worker: &str,
    delivery: &str,
    scrubbed: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox_jobs SET status = 'done', delivery = $3, done_at = $4, locked_until = NULL, last_error = NULL,
                payload = COALESCE($5, payload)
         WHERE id = $1 AND locked_by = $2",
    )
    .bind(id)
    .bind(worker)
    .bind(delivery)
    .bind(now_ms())
    .bind(scrubbed.map(|p| db.key.seal(sealing::OUTBOX_PAYLOAD, p)))
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Records a failed attempt: due again after `retry_in_ms`, or failed for good when none are left.
/// `scrubbed` replaces the payload if the job fails for good and carried a one-time code, which
/// no retry could still use.
pub async fn fail(
    db: &Db,
    job: &ClaimedJob,
    worker: &str,
    error: &str,
    retry_in_ms: Option<i64>,
    scrubbed: Option<&str>,
) -> Result<(), sqlx::Error> {
    let now = now_ms();
    let (status, run_at) = match retry_in_ms {
        Some(delay) if job.attempts < job.max_attempts => (QUEUED, now + delay),
        _ => (FAILED, now),
    };
    sqlx::query(
        "UPDATE outbox_jobs SET status = $3, run_at = $4, last_error = $5, locked_by = NULL, locked_until = NULL,
                done_at = CASE WHEN $3 = 'failed' THEN $4 ELSE NULL END,
                payload = CASE WHEN $3 = 'failed' THEN COALESCE($6, payload) ELSE payload END
         WHERE id = $1 AND locked_by = $2",
    )
    .bind(job.id)
    .bind(worker)
    .bind(status)
    .bind(run_at)
    .bind(error)
    .bind(scrubbed.map(|p| db.key.seal(sealing::OUTBOX_PAYLOAD, p)))
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Hands back what this worker still holds (graceful shutdown); the attempt does not count.
pub async fn release(db: &Db, worker: &str) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE outbox_jobs SET status = 'queued', locked_by = NULL, locked_until = NULL, attempts = attempts - 1
         WHERE locked_by = $1 AND status = 'running'",
    )
    .bind(worker)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected())
}

/// An admin asks for a failed job to be tried again from scratch.
pub async fn retry(tx: &mut Transaction<'static, Any>, org_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE outbox_jobs SET status = 'queued', attempts = 0, run_at = $3, done_at = NULL
         WHERE id = $2 AND org_id = $1 AND status = 'failed'",
    )
    .bind(org_id)
    .bind(id)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A job as stored, its payload opened but still to be read.
#[derive(sqlx::FromRow)]
pub struct StoredJob {
    #[sqlx(flatten)]
    pub job: OutboxJob,
    pub payload: String,
}

pub async fn recent(db: &Db, org_id: i64, limit: i64) -> Result<Vec<StoredJob>, sqlx::Error> {
    let rows: Vec<StoredJob> = sqlx::query_as(
        "SELECT id, kind, recipient, subject, payload, status, attempts, max_attempts, run_at, last_error, delivery, created_at, done_at
         FROM outbox_jobs WHERE org_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(org_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|mut stored: StoredJob| {
            // One payload that does not open shows as unreadable rather than hiding the whole list.
            stored.payload = db.key.open_stored(sealing::OUTBOX_PAYLOAD, &stored.payload).unwrap_or_default();
            stored
        })
        .collect::<Vec<_>>())
}

pub async fn counts(db: &Db, org_id: i64) -> Result<OutboxStatusCounts, sqlx::Error> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM outbox_jobs WHERE org_id = $1 GROUP BY status")
            .bind(org_id)
            .fetch_all(&db.pool)
            .await?;
    let mut counts = OutboxStatusCounts::default();
    for (status, n) in rows {
        match status.as_str() {
            QUEUED => counts.queued = n,
            RUNNING => counts.running = n,
            DONE => counts.done = n,
            FAILED => counts.failed = n,
            _ => {}
        }
    }
    Ok(counts)
}
