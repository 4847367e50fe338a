//! The outbox worker: claims due jobs, runs them, and records the outcome with backoff.

use super::db::{self, outbox::ClaimedJob};
use super::events;
use super::integrations::provider::ProviderFailure;
use super::outbox::{backoff_ms, JobPayload, Readers};
use super::AppState;
use crate::domain::events::EventType;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Starts the instance's outbox: the configured number of workers, a claimer that claims one
/// job for each worker waiting for one, and a recorder that records the jobs done. Under load
/// several workers wait at once, and one statement claims or records for all of them: on
/// PostgreSQL the round trips and statement starts, not the rows, were most of an email's cost.
/// When `shutdown` fires, each worker stops after its current job, and the instance then hands
/// back anything still claimed. The handle ends when all of that is done.
pub fn spawn_workers(state: AppState, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
    let instance = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
    let count = state.settings.outbox.workers;
    let (idle, waiting) = mpsc::channel(count.max(1));
    let (done, finished) = mpsc::channel(count.max(1));
    let claimer = tokio::spawn(claim_for_waiting_workers(state.clone(), instance.clone(), waiting, shutdown.clone()));
    let recorder = tokio::spawn(record_done_jobs(state.db.clone(), finished));
    let workers: Vec<_> = (0..count)
        .map(|_| {
            let outbox = WorkerOutbox { idle: idle.clone(), done: done.clone() };
            tokio::spawn(run_worker(state.clone(), outbox, shutdown.clone()))
        })
        .collect();
    // The claimer and the recorder end once every worker has dropped its ends of their channels.
    drop((idle, done));
    tokio::spawn(async move {
        for task in workers.into_iter().chain([claimer, recorder]) {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "an outbox task failed");
            }
        }
        match db::outbox::release_instance(&state.db, &instance).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(instance, released = n, "released claimed outbox jobs on shutdown"),
            Err(e) => {
                tracing::warn!(instance, error = %e, "releasing claimed outbox jobs failed; their lease will expire")
            }
        }
    })
}

/// A claimed job and the name it was claimed under, which stands for its worker in the outbox
/// table: `{instance}-{claim}`, one per claim statement (the jobs of one claim share it), so a
/// job whose lease passed to another claim is never recorded by the first.
struct Claimed {
    worker: String,
    job: ClaimedJob,
}

/// A worker's two ends of the instance's outbox.
struct WorkerOutbox {
    /// Where a worker waits for its next job.
    idle: mpsc::Sender<oneshot::Sender<Claimed>>,
    /// Where a worker hands a done job to be recorded, and waits for the outcome.
    done: mpsc::Sender<(db::outbox::DoneJob, oneshot::Sender<Result<(), String>>)>,
}

impl WorkerOutbox {
    /// The next job, or `None` once the instance stops.
    async fn next(&self, shutdown: &CancellationToken) -> Option<Claimed> {
        let (give, take) = oneshot::channel();
        self.idle.send(give).await.ok()?;
        tokio::select! {
            _ = shutdown.cancelled() => None,
            claimed = take => claimed.ok(),
        }
    }

    async fn complete(&self, job: db::outbox::DoneJob) -> Result<(), String> {
        let (reply, outcome) = oneshot::channel();
        self.done.send((job, reply)).await.map_err(|_| "the outbox's recorder stopped".to_string())?;
        outcome.await.unwrap_or_else(|_| Err("the outbox's recorder stopped".to_string()))
    }
}

/// Waits for idle workers and claims a job for each of those waiting, in one statement; polls
/// the queue while it is empty, and looks at once when work is queued here.
async fn claim_for_waiting_workers(
    state: AppState,
    instance: String,
    mut idle: mpsc::Receiver<oneshot::Sender<Claimed>>,
    shutdown: CancellationToken,
) {
    let lease_ms = state.settings.outbox.lease_seconds * 1000;
    let poll = Duration::from_millis(state.settings.outbox.poll_millis);
    let cursor = db::outbox_claims::QueueCursor::new(poll);
    let mut waiting: Vec<oneshot::Sender<Claimed>> = Vec::new();
    for claim in 1u64.. {
        if waiting.is_empty() {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                worker = idle.recv() => match worker {
                    Some(worker) => waiting.push(worker),
                    None => return,
                },
            }
        }
        while let Ok(worker) = idle.try_recv() {
            waiting.push(worker);
        }
        waiting.retain(|worker| !worker.is_closed());
        if waiting.is_empty() {
            continue;
        }
        // Registered before the look, so work queued during it is not missed.
        let woken = state.outbox_wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let holder = format!("{instance}-{claim}");
        match db::outbox_claims::claim_up_to(&state.db, &holder, lease_ms, &cursor, waiting.len()).await {
            Ok(jobs) if !jobs.is_empty() => {
                let served = jobs.len();
                for (job, to) in jobs.into_iter().zip(waiting.drain(..served)) {
                    // A worker that stopped meanwhile leaves its job to the instance's release.
                    let _ = to.send(Claimed { worker: holder.clone(), job });
                }
            }
            Ok(_) => {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = &mut woken => cursor.look_again(),
                    _ = tokio::time::sleep(poll) => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "claiming outbox jobs failed; will retry");
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(poll * 2) => {}
                }
            }
        }
    }
}

/// Records the done jobs handed in, all those waiting in one statement, and tells each worker
/// the outcome. If that statement fails, each job is recorded on its own, so one error costs
/// at most one job a second run (a text message or chat send has no Message-ID to dedupe it).
/// Ends when every worker has stopped.
async fn record_done_jobs(
    db: db::Db,
    mut done: mpsc::Receiver<(db::outbox::DoneJob, oneshot::Sender<Result<(), String>>)>,
) {
    let mut batch = Vec::new();
    while done.recv_many(&mut batch, RECORDED_AT_ONCE).await > 0 {
        let (jobs, replies): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
        let together = jobs.len() > 1 && record_done(&db, &jobs).await.is_ok();
        for (job, reply) in jobs.iter().zip(replies) {
            let outcome = match together {
                true => Ok(()),
                false => record_done(&db, std::slice::from_ref(job)).await.map_err(|e| e.to_string()),
            };
            let _ = reply.send(outcome);
        }
    }
}

/// Records done jobs; the invitations among them are `invitation.delivered` events, told in the
/// same transaction to the endpoints listening.
async fn record_done(db: &db::Db, jobs: &[db::outbox::DoneJob]) -> Result<(), sqlx::Error> {
    if !jobs.iter().any(|job| job.invitation) {
        return db::outbox::complete_all(&db.outbox_pool, &db.key, jobs).await.map(drop);
    }
    let mut tx = db.outbox_pool.begin().await?;
    let recorded = db::outbox::complete_all(&mut *tx, &db.key, jobs).await?;
    let invitations: Vec<i64> =
        jobs.iter().filter(|job| job.invitation && recorded.contains(&job.id)).map(|job| job.id).collect();
    events::invitation_outcomes(&mut tx, &db.key, EventType::InvitationDelivered, &invitations).await?;
    tx.commit().await
}

/// Records a failed attempt; an invitation's email failing for good is an `invitation.failed`
/// event, told in the same transaction.
async fn record_failure(
    db: &db::Db,
    job: &ClaimedJob,
    worker: &str,
    message: &str,
    retry: Option<i64>,
    scrubbed: Option<&str>,
    invitation: bool,
) -> Result<(), sqlx::Error> {
    if !invitation {
        return db::outbox::fail(&db.outbox_pool, &db.key, job, worker, message, retry, scrubbed).await.map(drop);
    }
    let mut tx = db.outbox_pool.begin().await?;
    if db::outbox::fail(&mut *tx, &db.key, job, worker, message, retry, scrubbed).await? {
        events::invitation_outcomes(&mut tx, &db.key, EventType::InvitationFailed, &[job.id]).await?;
    }
    tx.commit().await
}

/// The most done jobs one statement records: 4 parameters each.
const RECORDED_AT_ONCE: usize = 64;

async fn run_worker(state: AppState, outbox: WorkerOutbox, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let Some(Claimed { worker, job }) = outbox.next(&shutdown).await else {
            if !shutdown.is_cancelled() {
                tracing::error!("the outbox's claimer stopped: this worker stops too");
            }
            return;
        };
        run_job(&state, &worker, job, &outbox, &shutdown).await;
    }
}

#[tracing::instrument(skip_all, fields(job = job.id, attempt = job.attempts))]
async fn run_job(state: &AppState, worker: &str, job: ClaimedJob, outbox: &WorkerOutbox, shutdown: &CancellationToken) {
    let payload = serde_json::from_str::<JobPayload>(&job.payload);
    let outcome: Result<&'static str, ProviderFailure> = match &payload {
        Ok(JobPayload::Email(message)) => state.mailer.send(message, job.id).await.map_err(Into::into),
        Ok(JobPayload::Invitation(invitation)) => {
            state.mailer.send(&invitation.render(), job.id).await.map_err(Into::into)
        }
        Ok(JobPayload::Sms { to, body }) => send_sms(state, to, body).await,
        Ok(JobPayload::Code(code)) if code.by_sms => send_sms(state, &code.to, &code.text_message()).await,
        Ok(JobPayload::Code(code)) => state.mailer.send(&code.email(), job.id).await.map_err(Into::into),
        Ok(JobPayload::Redacted) => Err(ProviderFailure::permanent("the job's one-time secret is no longer kept")),
        Ok(JobPayload::Onboarding(delivery)) => super::onboarding::deliver(state, job.id, delivery).await,
        Ok(JobPayload::AgentCall(call)) => super::connectors::relay::call_agent(state, call).await,
        Ok(JobPayload::ChatSend(send)) => super::connectors::relay::send(state, send).await,
        Ok(JobPayload::ChatProfile(lookup)) => super::connectors::relay::look_up_profile(state, lookup).await,
        Ok(JobPayload::ApprovalCard(card)) => super::connectors::approvals::show_card(state, card).await,
        Ok(JobPayload::ChatNotice(notice)) => super::connectors::approvals::send_notice(state, notice).await,
        Ok(JobPayload::Webhook(delivery)) => {
            super::events::deliver(state, delivery, job.attempts >= job.max_attempts).await
        }
        Ok(JobPayload::InvitationBatch(rest)) => {
            match super::invite_batches::store_deferred(state, worker, &job, rest, shutdown).await {
                Some(outcome) => outcome,
                // Stopped between parts, or the lease went to another worker: nothing to record.
                None => return,
            }
        }
        Err(e) => Err(ProviderFailure::permanent(format!("unreadable job payload: {e}"))),
    };
    let final_failure = matches!(&outcome, Err(f) if f.permanent || job.attempts >= job.max_attempts);
    let invitation = matches!(&payload, Ok(JobPayload::Invitation(_)));
    let recorded = match &outcome {
        Ok(delivery) => {
            tracing::debug!(delivery, "outbox job done");
            let scrubbed = payload.as_ref().ok().and_then(|p| p.scrubbed(Readers::of(state)));
            outbox
                .complete(db::outbox::DoneJob {
                    id: job.id,
                    worker: worker.to_string(),
                    delivery: *delivery,
                    scrubbed,
                    invitation,
                })
                .await
        }
        Err(failure) => {
            tracing::warn!(error = %failure.message, permanent = failure.permanent, "outbox job failed");
            // A provider's Retry-After wins over our own backoff.
            let retry =
                (!failure.permanent).then(|| failure.retry_after_ms.unwrap_or_else(|| backoff_ms(job.attempts)));
            // A code that failed for good is of use to nobody; a link may still be retried by hand.
            let scrubbed = match &payload {
                Ok(p @ JobPayload::Code(_)) => p.scrubbed(Readers::Admins),
                _ => None,
            };
            record_failure(&state.db, &job, worker, &failure.message, retry, scrubbed.as_deref(), invitation)
                .await
                .map_err(|e| e.to_string())
        }
    };
    match (recorded, &payload) {
        (Err(e), _) => {
            // The lease runs out and another worker picks the job up again.
            tracing::error!(error = %e, "recording the outbox job's outcome failed");
        }
        (Ok(()), Ok(payload)) => {
            if let (JobPayload::Webhook(delivery), Err(failure), true) = (payload, &outcome, final_failure) {
                // Recorded on the delivery unless the job failed before its attempt was.
                if let Err(e) =
                    db::webhook_endpoints::fail_pending(&state.db, delivery.delivery_id, &failure.message).await
                {
                    tracing::error!(error = %e, "recording a webhook delivery's failure failed");
                }
            }
            super::onboarding::record_attempt(state, payload, &outcome, final_failure).await;
            super::connectors::relay::record_attempt(state, payload, &outcome, final_failure).await;
        }
        (Ok(()), Err(_)) => {}
    }
}

async fn send_sms(state: &AppState, to: &str, body: &str) -> Result<&'static str, ProviderFailure> {
    match &state.sms {
        Some(sms) => sms.send(to, body).await.map(|_| "twilio").map_err(Into::into),
        None => Err(ProviderFailure::permanent("no SMS provider is configured")),
    }
}
