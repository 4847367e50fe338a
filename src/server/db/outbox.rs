//! The outbox: durable jobs (emails now, chat sends later) that survive restarts and are done
//! once even with several app instances on one PostgreSQL database.

use super::{now_ms, Backend, Db};
use crate::api::outbox::types::{OutboxJob, OutboxStatusCounts};
use crate::server::sealing::{self, ServerKey};
use sqlx::{Any, Transaction};
use std::time::{Duration, Instant};

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
    /// When the job was due, in ms since the epoch: with `id`, its place in the queue.
    pub run_at: i64,
}

/// Where one instance last claimed a queued job, as `(run_at, id)`: the due index's
/// order. PostgreSQL keeps the index entries of claimed jobs until VACUUM, so a lookup from the
/// front of the queue steps over every job claimed since; during a batch of 100,000 that grew
/// to hundreds of pages per claim. A lookup after the last claim starts past them.
///
/// A job can still become due behind the cursor: a transaction that queued it with an earlier
/// `run_at` commits late, or a stopping worker hands a job back. So a claim sweeps from the front
/// (expired leases first, then the queue) whenever the cursor finds nothing, and at least once
/// every [`QueueCursor::SWEEP`].
///
/// Once a sweep finds the queue empty, the instance looks again after a pause, unless
/// [`QueueCursor::look_again`] says work was queued here. On PostgreSQL that look also steps
/// over the entries of jobs a batch is queueing in a transaction not yet committed: 0.6 s for
/// 100,000 of them, which looking every second would spend over and over while the batch is
/// stored. The pause is four times the look's own duration (at most 5 s), and at least the
/// workers' poll interval, so looking takes at most a fifth of a core.
pub struct QueueCursor {
    place: std::sync::Mutex<Place>,
    /// The least pause before an empty queue is looked at again: the workers' poll interval.
    pause: Duration,
    /// Held by the claim sweeping a queue last found empty, when several claim through one cursor.
    probe: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Place {
    /// The last claim's place; `None` once the queue is found empty (or before the first claim).
    after: Option<(i64, i64)>,
    swept_at: Option<Instant>,
    /// Until when an empty queue is taken to stay empty.
    quiet_until: Option<Instant>,
    /// How many times work was queued here: a look that began before the last one cannot say
    /// the queue is empty.
    wakes: u64,
}

enum Start {
    After((i64, i64)),
    Sweep,
    /// The queue was found empty; a sweep under the probe lock looks again.
    Probe,
    /// The queue was found empty a moment ago.
    Quiet,
}

impl Default for QueueCursor {
    fn default() -> Self {
        Self::new(Self::SWEEP)
    }
}

impl QueueCursor {
    /// How long a claim may go from the cursor without a sweep from the front.
    pub const SWEEP: Duration = Duration::from_secs(1);
    /// The longest pause after an empty look (unless the poll interval is longer): a look slowed
    /// by waiting for a connection must not keep the instance away from its queue for long.
    const LONGEST_QUIET: Duration = Duration::from_secs(5);

    /// A cursor whose empty queue is looked at again after `pause` at the least.
    pub fn new(pause: Duration) -> Self {
        Self { place: Default::default(), probe: Default::default(), pause }
    }

    fn place(&self) -> std::sync::MutexGuard<'_, Place> {
        self.place.lock().expect("the queue cursor is never poisoned")
    }

    /// Work was queued by this instance: the next claim looks at once, and a look already under
    /// way cannot make the instance wait.
    pub fn look_again(&self) {
        let mut place = self.place();
        place.quiet_until = None;
        place.wakes += 1;
    }

    /// Where the next claim starts. One claim per period sweeps; the others keep to the cursor.
    fn start(&self) -> Start {
        let mut place = self.place();
        let now = Instant::now();
        match place.after {
            None if place.quiet_until.is_some_and(|until| now < until) => Start::Quiet,
            None => Start::Probe,
            Some(after) if place.swept_at.is_some_and(|at| now < at + Self::SWEEP) => Start::After(after),
            Some(_) => {
                place.swept_at = Some(now);
                Start::Sweep
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Lookup {
    /// A job whose lease ran out (its worker died), oldest lease first.
    Expired,
    /// A due queued job, in the due index's order.
    Queued,
    /// A due queued job after this place in the queue.
    QueuedAfter(i64, i64),
}

/// A sweep's lookups, from the front of the queue.
const FROM_THE_FRONT: [Lookup; 2] = [Lookup::Expired, Lookup::Queued];

/// Claims up to `limit` due jobs for `worker` until `now + lease_ms`, in one statement: from
/// `cursor` onwards when it holds a place, otherwise a sweep that takes jobs whose lease ran out
/// first (they are the oldest), else the first queued ones. Each lookup names one status, so it
/// reads its index in order and stops after `limit` rows: expired leases the
/// `outbox_jobs_leases` index (migration 0012), queued jobs the due index. PostgreSQL skips rows
/// another instance is claiming; SQLite has one writer at a time, so the same statement without
/// the lock clause is already exclusive. The jobs come in queue order; empty when nothing is due.
pub async fn claim_up_to(
    db: &Db,
    worker: &str,
    lease_ms: i64,
    cursor: &QueueCursor,
    limit: usize,
) -> Result<Vec<ClaimedJob>, sqlx::Error> {
    let start = match cursor.start() {
        Start::Probe => match cursor.probe.try_lock() {
            Ok(_probing) => return take_first(db, worker, lease_ms, cursor, &FROM_THE_FRONT, limit).await,
            // Another claim is looking: its answer stands for this one too.
            Err(_) => {
                drop(cursor.probe.lock().await);
                cursor.start()
            }
        },
        start => start,
    };
    match start {
        Start::Quiet => Ok(Vec::new()),
        // Still no place after that look (it took an expired lease, or work was queued here since).
        Start::Probe | Start::Sweep => take_first(db, worker, lease_ms, cursor, &FROM_THE_FRONT, limit).await,
        Start::After((run_at, id)) => {
            let lookups = [Lookup::QueuedAfter(run_at, id), Lookup::Expired, Lookup::Queued];
            take_first(db, worker, lease_ms, cursor, &lookups, limit).await
        }
    }
}

/// Claims the next due job for `worker`, as [`claim_up_to`] does; `None` when nothing is due.
pub async fn claim(
    db: &Db,
    worker: &str,
    lease_ms: i64,
    cursor: &QueueCursor,
) -> Result<Option<ClaimedJob>, sqlx::Error> {
    Ok(claim_up_to(db, worker, lease_ms, cursor, 1).await?.into_iter().next())
}

/// The jobs of the first lookup that finds any, the cursor moved past them (or cleared when none does).
async fn take_first(
    db: &Db,
    worker: &str,
    lease_ms: i64,
    cursor: &QueueCursor,
    lookups: &[Lookup],
    limit: usize,
) -> Result<Vec<ClaimedJob>, sqlx::Error> {
    let (looking, wakes) = (Instant::now(), cursor.place().wakes);
    for &lookup in lookups {
        let jobs = claim_in(db, worker, lease_ms, lookup, limit).await?;
        if let Some(last) = jobs.last() {
            let mut place = cursor.place();
            if !matches!(lookup, Lookup::Expired) {
                place.after = Some((last.run_at, last.id));
            }
            if matches!(lookup, Lookup::Queued) {
                place.swept_at = Some(Instant::now());
            }
            return Ok(jobs);
        }
    }
    let mut place = cursor.place();
    place.after = None;
    if place.wakes == wakes {
        let pause = (looking.elapsed() * 4).min(QueueCursor::LONGEST_QUIET).max(cursor.pause);
        place.quiet_until = Some(Instant::now() + pause);
    }
    Ok(Vec::new())
}

async fn claim_in(
    db: &Db,
    worker: &str,
    lease_ms: i64,
    lookup: Lookup,
    limit: usize,
) -> Result<Vec<ClaimedJob>, sqlx::Error> {
    let (due, order, after) = match lookup {
        Lookup::Expired => ("status = 'running' AND locked_until < $3", "locked_until, id", None),
        Lookup::Queued => ("status = 'queued' AND run_at <= $3", "run_at, id", None),
        Lookup::QueuedAfter(run_at, id) => {
            ("status = 'queued' AND run_at <= $3 AND (run_at, id) > ($5, $6)", "run_at, id", Some((run_at, id)))
        }
    };
    let due = format!("SELECT id FROM outbox_jobs WHERE {due} ORDER BY {order} LIMIT $4");
    // On PostgreSQL the lookup is an init plan, run once before any row is updated.
    let chosen = match db.backend {
        Backend::Postgres => format!("id = ANY(ARRAY({due} FOR UPDATE SKIP LOCKED))"),
        Backend::Sqlite => format!("id IN ({due})"),
    };
    let sql = format!(
        "UPDATE outbox_jobs SET status = 'running', locked_by = $1, locked_until = $2, attempts = attempts + 1
         WHERE {chosen}
         RETURNING id, kind, payload, attempts, max_attempts, run_at"
    );
    let now = now_ms();
    let mut query =
        sqlx::query_as::<_, ClaimedJob>(&sql).bind(worker).bind(now + lease_ms).bind(now).bind(limit as i64);
    if let Some((run_at, id)) = after {
        query = query.bind(run_at).bind(id);
    }
    let mut jobs = query.fetch_all(&db.outbox_pool).await?;
    jobs.sort_unstable_by_key(|job| (job.run_at, job.id));
    for job in &mut jobs {
        // A payload that does not open reaches the worker empty, which fails it for good
        // (an unreadable payload) rather than leaving it to be claimed again forever.
        job.payload = db.key.open_stored(sealing::OUTBOX_PAYLOAD, &job.payload).unwrap_or_default();
    }
    Ok(jobs)
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
}

/// Records jobs done, in one statement. `locked_by` keeps the worker (instance and claim) that
/// did each, to trace a delivery to the instance whose log tells more.
pub async fn complete_all(db: &Db, done: &[DoneJob]) -> Result<(), sqlx::Error> {
    if done.is_empty() {
        return Ok(());
    }
    // `done.column1` and so on: the names SQL gives the columns of a VALUES list.
    let rows: Vec<String> =
        (0..done.len()).map(|i| format!("(${}, ${}, ${}, ${})", 4 * i + 2, 4 * i + 3, 4 * i + 4, 4 * i + 5)).collect();
    let sql = format!(
        "UPDATE outbox_jobs SET status = 'done', delivery = done.column3, done_at = $1, locked_until = NULL,
                last_error = NULL, payload = COALESCE(done.column4, outbox_jobs.payload)
         FROM (VALUES {}) AS done
         WHERE outbox_jobs.id = done.column1 AND outbox_jobs.locked_by = done.column2",
        rows.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(now_ms());
    for job in done {
        let scrubbed = job.scrubbed.as_deref().map(|p| db.key.seal(sealing::OUTBOX_PAYLOAD, p));
        query = query.bind(job.id).bind(job.worker.as_str()).bind(job.delivery).bind(scrubbed);
    }
    query.execute(&db.outbox_pool).await?;
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
    .execute(&db.outbox_pool)
    .await?;
    Ok(())
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
