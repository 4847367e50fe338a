//! The outbox: durable jobs (emails now, chat sends later) that survive restarts and are done
//! once even with several app instances on one PostgreSQL database.

use super::{now_ms, Backend, Db};
use crate::domain::outbox::{JobKind, JobStatus};
use crate::domain::outbox::{OutboxJob, OutboxStatusCounts};
use crate::server::sealing::{self, ServerKey};
use sqlx::{Any, Transaction};

pub struct NewJob<'a> {
    pub org_id: Option<i64>,
    pub kind: JobKind,
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

/// Jobs of one kind for one organization in one statement, each `(recipient, subject, payload)`
/// with its payload sealed here: the many outbox jobs of a batch.
pub async fn enqueue_all(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    key: &ServerKey,
    org_id: i64,
    kind: JobKind,
    max_attempts: i64,
    jobs: &[(String, String, String)],
) -> Result<(), sqlx::Error> {
    #[derive(serde::Serialize)]
    struct Row<'a> {
        r: &'a str,
        s: &'a str,
        p: String,
    }
    let rows: Vec<Row> =
        jobs.iter().map(|(r, s, payload)| Row { r, s, p: key.seal(sealing::OUTBOX_PAYLOAD, payload) }).collect();
    let now = now_ms();
    sqlx::query(&format!(
        "INSERT INTO outbox_jobs (org_id, kind, recipient, subject, payload, status, attempts, max_attempts, run_at, created_at)
         SELECT $1, $2, value ->> 'r', value ->> 's', value ->> 'p', 'queued', 0, $3, $4, $4 FROM {}",
        backend.json_rows(5, false)
    ))
    .bind(org_id)
    .bind(kind)
    .bind(max_attempts)
    .bind(now)
    .bind(serde_json::to_string(&rows).expect("strings serialize"))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: i64,
    /// Text, not a `JobKind`: a job of a kind this version does not know (queued by a newer
    /// instance) fails on its own when its payload is read, instead of failing every claim.
    pub kind: String,
    pub payload: String,
    pub attempts: i64,
    pub max_attempts: i64,
    /// When the job was due, in ms since the epoch: with `id`, its place in the queue.
    pub run_at: i64,
}

/// A job its worker finished, for [`complete_all`].
#[derive(Debug)]
pub struct DoneJob {
    pub id: i64,
    /// The name the job was claimed under (the jobs of one claim share it): a report under a
    /// name whose lease passed to another claim is ignored.
    pub worker: String,
    /// Which transport delivered it ("smtp", "slack", ...).
    pub delivery: &'static str,
    /// Replaces the payload when it carried a one-time secret.
    pub scrubbed: Option<String>,
    /// Whether it sent an invitation, whose delivery is an event.
    pub invitation: bool,
}

/// Records jobs done, in one statement; returns the ids recorded (a job whose lease passed to
/// another worker is not, nor one recorded already). `locked_by` keeps the worker (instance and claim) that did each, to
/// trace a delivery to the instance whose log tells more.
pub async fn complete_all<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    key: &ServerKey,
    done: &[DoneJob],
) -> Result<Vec<i64>, sqlx::Error> {
    if done.is_empty() {
        return Ok(Vec::new());
    }
    // `done.column1` and so on: the names SQL gives the columns of a VALUES list.
    let rows: Vec<String> =
        (0..done.len()).map(|i| format!("(${}, ${}, ${}, ${})", 4 * i + 2, 4 * i + 3, 4 * i + 4, 4 * i + 5)).collect();
    let sql = format!(
        "UPDATE outbox_jobs SET status = 'done', delivery = done.column3, done_at = $1, locked_until = NULL,
                last_error = NULL, payload = COALESCE(done.column4, outbox_jobs.payload)
         FROM (VALUES {}) AS done
         WHERE outbox_jobs.id = done.column1 AND outbox_jobs.locked_by = done.column2
           AND outbox_jobs.status = 'running'
         RETURNING outbox_jobs.id",
        rows.join(", ")
    );
    let mut query = sqlx::query_scalar(&sql).bind(now_ms());
    for job in done {
        let scrubbed = job.scrubbed.as_deref().map(|p| key.seal(sealing::OUTBOX_PAYLOAD, p));
        query = query.bind(job.id).bind(job.worker.as_str()).bind(job.delivery).bind(scrubbed);
    }
    query.fetch_all(executor).await
}

/// Records a failed attempt: due again after `retry_in_ms`, or failed for good when none are left.
/// `scrubbed` replaces the payload if the job fails for good and carried a one-time code, which
/// no retry could still use. Returns whether it failed for good (false too when the worker no
/// longer held the job).
pub async fn fail<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    key: &ServerKey,
    job: &ClaimedJob,
    worker: &str,
    error: &str,
    retry_in_ms: Option<i64>,
    scrubbed: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let now = now_ms();
    let (status, run_at) = match retry_in_ms {
        Some(delay) if job.attempts < job.max_attempts => (JobStatus::Queued, now + delay),
        _ => (JobStatus::Failed, now),
    };
    let done = sqlx::query(
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
    .bind(scrubbed.map(|p| key.seal(sealing::OUTBOX_PAYLOAD, p)))
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1 && status == JobStatus::Failed)
}

/// Hands back what any claim of `instance` still holds (graceful shutdown): those named
/// `{instance}-{claim}`. The attempt does not count. `instance` is used as a LIKE pattern, so it
/// must hold no `%`, `_` or `\`.
pub async fn release_instance(db: &Db, instance: &str) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE outbox_jobs SET status = 'queued', locked_by = NULL, locked_until = NULL, attempts = attempts - 1
         WHERE locked_by LIKE $1 AND status = 'running'",
    )
    .bind(format!("{instance}-%"))
    .execute(&db.outbox_pool)
    .await?;
    Ok(done.rows_affected())
}

/// Keeps `worker`'s lease on a long job until `until` (ms since the epoch), in the transaction
/// of the work done under it; `false` when the worker no longer holds the job (its lease ran out
/// and another worker took it), and then that work must not commit.
pub async fn extend_lease(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    worker: &str,
    until: i64,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE outbox_jobs SET locked_until = $3 WHERE id = $1 AND locked_by = $2 AND status = 'running'")
            .bind(id)
            .bind(worker)
            .bind(until)
            .execute(&mut **tx)
            .await?;
    Ok(done.rows_affected() == 1)
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
    let rows: Vec<(JobStatus, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM outbox_jobs WHERE org_id = $1 GROUP BY status")
            .bind(org_id)
            .fetch_all(&db.pool)
            .await?;
    let mut counts = OutboxStatusCounts::default();
    for (status, n) in rows {
        match status {
            JobStatus::Queued => counts.queued = n,
            JobStatus::Running => counts.running = n,
            JobStatus::Done => counts.done = n,
            JobStatus::Failed => counts.failed = n,
        }
    }
    Ok(counts)
}
