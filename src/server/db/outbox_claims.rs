//! Claiming outbox jobs: one statement claims due jobs for every waiting worker, from where this
//! instance last claimed (a cursor past the index entries of jobs claimed since), sweeping from
//! the front of the queue when that finds nothing.

use super::outbox::ClaimedJob;
use super::{now_ms, Backend, Db};
use crate::server::sealing;
use std::time::{Duration, Instant};

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
