//! The outbox worker: claims due jobs, runs them, and records the outcome with backoff.

use super::connectors::{AgentCall, ChatSend, ProfileLookup};
use super::db::{self, outbox::ClaimedJob};
use super::integrations::ProviderFailure;
use super::invitations::DeferredInvitations;
use super::mail::{EmailMessage, Invitation};
use super::onboarding::OnboardingDelivery;
use super::AppState;
use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// What a job does, stored as JSON in the outbox row.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JobPayload {
    Email(EmailMessage),
    /// An invitation email, rendered when it is sent.
    Invitation(Invitation),
    Sms {
        to: String,
        body: String,
    },
    /// A one-time code by email or text message, rendered when it is sent.
    Code(OneTimeCode),
    /// A job that carried a one-time secret, stored before secrets were scrubbed once sent.
    Redacted,
    /// An onboarding message over Slack, Teams or email, rendered when it is sent.
    Onboarding(OnboardingDelivery),
    /// A chat user's message for the connector's agent.
    AgentCall(AgentCall),
    /// A text into a chat conversation: the onboarding message, a rejection notice, an agent's reply.
    ChatSend(ChatSend),
    /// A new chat user's names or picture from the provider.
    ChatProfile(ProfileLookup),
    /// The addresses of an invitation batch after those stored with the answer, stored a part at a time.
    InvitationBatch(DeferredInvitations),
}

/// A one-time code and where it goes. Admins never read the code: the outbox shows it masked.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OneTimeCode {
    /// An email address, or an E.164 number with `by_sms`.
    pub to: String,
    #[serde(default)]
    pub by_sms: bool,
    /// The organization's sender name, for email.
    pub sender: String,
    pub code: String,
    /// What the code is for: "registering" or "signing in".
    pub purpose: String,
}

impl OneTimeCode {
    pub fn email(&self) -> EmailMessage {
        super::mail::code_email(&self.to, &self.sender, &self.code, &self.purpose)
    }

    pub fn text_message(&self) -> String {
        format!("Your Onboard code for {} is {}. It works once, for 10 minutes.", self.purpose, self.code)
    }

    fn masked(&self) -> Self {
        Self { code: MASK.into(), ..self.clone() }
    }
}

/// What stands for a secret wherever an admin could read it.
const MASK: &str = "••••";

/// A registration link with its token masked: `https://host/register/••••`.
fn masked_link(url: &str) -> String {
    match url.rfind('/') {
        Some(i) => format!("{}/{MASK}", &url[..i]),
        None => MASK.to_string(),
    }
}

/// Who may read a job's one-time secrets on the Outbox page: nobody, except that invitation
/// links are shown in the log-only development mode (no SMTP), where they are how an admin
/// tries registration. Codes are never shown.
#[derive(Clone, Copy, PartialEq)]
pub enum Readers {
    Admins,
    DevelopmentMode,
}

impl Readers {
    /// The development mode is the log-only mailer: nothing is sent, so links are shown instead.
    pub fn of(state: &AppState) -> Self {
        match state.mailer {
            super::mail::Mailer::LogOnly => Readers::DevelopmentMode,
            super::mail::Mailer::Smtp(_) => Readers::Admins,
        }
    }
}

impl JobPayload {
    fn kind(&self) -> &'static str {
        match self {
            JobPayload::Email(_) | JobPayload::Invitation(_) | JobPayload::Redacted => "email",
            JobPayload::Code(code) if code.by_sms => "sms",
            JobPayload::Code(_) => "email",
            JobPayload::Sms { .. } => "sms",
            JobPayload::Onboarding(d) => d.channel.key(),
            JobPayload::AgentCall(_) => "agent",
            JobPayload::ChatSend(send) => send.provider.key(),
            JobPayload::ChatProfile(_) => "profile",
            JobPayload::InvitationBatch(_) => "batch",
        }
    }

    /// The same job with the one-time secrets `readers` may not see masked, or `None` when there
    /// is nothing to mask.
    fn masked(&self, readers: Readers) -> Option<JobPayload> {
        let keep_links = readers == Readers::DevelopmentMode;
        match self {
            JobPayload::Code(code) => Some(JobPayload::Code(code.masked())),
            JobPayload::Invitation(i) if !keep_links => {
                Some(JobPayload::Invitation(Invitation { link: masked_link(&i.link), ..i.clone() }))
            }
            // Only an email kept in the development mode was not sent; a chat message was.
            JobPayload::Onboarding(d)
                if d.facts.link.is_some()
                    && !(keep_links && d.channel == crate::domain::onboarding::Channel::Email) =>
            {
                let mut masked = d.clone();
                if let Some(link) = masked.facts.link.as_mut() {
                    link.url = masked_link(&link.url);
                }
                Some(JobPayload::Onboarding(masked))
            }
            _ => None,
        }
    }

    /// The payload to keep once the job is done: its secrets are of no further use to anyone
    /// but the `readers` the Outbox page shows them to.
    pub fn scrubbed(&self, readers: Readers) -> Option<String> {
        self.masked(readers).map(|p| serde_json::to_string(&p).expect("job payloads always serialize"))
    }

    /// What the recipient reads (an email's plain text, or a text message), with the secrets
    /// `readers` may not see masked.
    pub fn readable_body(&self, readers: Readers) -> String {
        match self.masked(readers) {
            Some(masked) => masked.plain_text(),
            None => self.plain_text(),
        }
    }

    fn plain_text(&self) -> String {
        match self {
            JobPayload::Email(message) => message.text.clone(),
            JobPayload::Invitation(invitation) => invitation.render().text,
            JobPayload::Sms { body, .. } => body.clone(),
            JobPayload::Code(code) if code.by_sms => code.text_message(),
            JobPayload::Code(code) => code.email().text,
            JobPayload::Redacted => "Not kept: it carried a one-time code or link.".to_string(),
            JobPayload::Onboarding(d) => crate::domain::message::compose(&d.facts).to_plain(),
            JobPayload::AgentCall(call) => format!("Chat message #{} for the agent", call.message_id),
            JobPayload::ChatSend(send) => send.text.clone(),
            JobPayload::ChatProfile(lookup) => format!("Profile of {}", lookup.platform_id),
            JobPayload::InvitationBatch(rest) => format!("The rest of invitation batch #{}", rest.batch_id),
        }
    }
}

/// The outbox as admins read it: each job with the text it carries, secrets masked.
pub fn readable(stored: Vec<db::outbox::StoredJob>, readers: Readers) -> Vec<crate::api::types::OutboxJob> {
    stored
        .into_iter()
        .map(|s| crate::api::types::OutboxJob {
            body: serde_json::from_str::<JobPayload>(&s.payload).ok().map(|p| p.readable_body(readers)),
            ..s.job
        })
        .collect()
}

/// Queues an email in the caller's transaction, so it goes out only if the change commits.
pub async fn enqueue_email(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    org_id: i64,
    message: EmailMessage,
) -> Result<i64, sqlx::Error> {
    let (recipient, subject) = (message.to.clone(), message.subject.clone());
    enqueue(tx, state, org_id, &recipient, &subject, JobPayload::Email(message)).await
}

/// Queues an invitation email in the caller's transaction.
pub async fn enqueue_invitation(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    org_id: i64,
    invitation: Invitation,
) -> Result<i64, sqlx::Error> {
    let (recipient, subject) = (invitation.to.clone(), invitation.subject());
    enqueue(tx, state, org_id, &recipient, &subject, JobPayload::Invitation(invitation)).await
}

/// Queues a one-time code, by email or text message, in the caller's transaction.
pub async fn enqueue_code(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    org_id: i64,
    code: OneTimeCode,
) -> Result<i64, sqlx::Error> {
    let recipient = code.to.clone();
    let subject = if code.by_sms { "Text message".to_string() } else { code.email().subject };
    enqueue(tx, state, org_id, &recipient, &subject, JobPayload::Code(code)).await
}

/// Queues an onboarding message in the caller's transaction.
pub async fn enqueue_onboarding(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    org_id: i64,
    delivery: OnboardingDelivery,
) -> Result<i64, sqlx::Error> {
    let recipient = delivery.to.clone();
    let subject = crate::domain::message::compose(&delivery.facts).subject;
    enqueue(tx, state, org_id, &recipient, &subject, JobPayload::Onboarding(delivery)).await
}

/// Queues a chat job (an agent call, a chat send, a profile lookup) in the caller's transaction.
pub async fn enqueue_chat(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    org_id: i64,
    recipient: &str,
    payload: JobPayload,
) -> Result<i64, sqlx::Error> {
    let subject = match &payload {
        JobPayload::AgentCall(_) => "Message for the agent".to_string(),
        JobPayload::ChatSend(send) => format!("Message on {}", send.provider.label()),
        JobPayload::ChatProfile(_) => "Chat user profile".to_string(),
        _ => String::new(),
    };
    enqueue(tx, state, org_id, recipient, &subject, payload).await
}

/// Queues the storing of a batch's addresses after those stored with the answer, in the transaction that
/// accepts the batch.
pub async fn enqueue_deferred_invitations(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    org_id: i64,
    rest: DeferredInvitations,
) -> Result<i64, sqlx::Error> {
    let recipient = format!("Invitation batch #{}", rest.batch_id);
    let payload = JobPayload::InvitationBatch(rest);
    enqueue_with(tx, state, org_id, &recipient, "Storing the rest of the batch", payload, DEFERRED_BATCH_ATTEMPTS).await
}

/// Attempts for the job that stores a batch's deferred addresses: its failures are the
/// database's (busy, unreachable), and with the backoff capped at an hour these span two days.
/// Every kill or lease handover of its worker also counts as one.
const DEFERRED_BATCH_ATTEMPTS: i64 = 50;

async fn enqueue(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    org_id: i64,
    recipient: &str,
    subject: &str,
    payload: JobPayload,
) -> Result<i64, sqlx::Error> {
    enqueue_with(tx, state, org_id, recipient, subject, payload, state.settings.outbox.max_attempts).await
}

async fn enqueue_with(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    org_id: i64,
    recipient: &str,
    subject: &str,
    payload: JobPayload,
    max_attempts: i64,
) -> Result<i64, sqlx::Error> {
    let json = serde_json::to_string(&payload).expect("job payloads always serialize");
    db::outbox::enqueue(
        tx,
        &state.db.key,
        &db::outbox::NewJob {
            org_id: Some(org_id),
            kind: payload.kind(),
            recipient,
            subject,
            payload: &json,
            max_attempts,
        },
    )
    .await
}

/// Exponential backoff from 5 s, capped at an hour, with jitter so retries from many jobs spread out.
pub fn backoff_ms(attempt: i64) -> i64 {
    let base = 5_000i64.saturating_mul(1 << attempt.clamp(0, 20).saturating_sub(1)).min(3_600_000);
    base + rand::random::<u32>() as i64 % (base / 5 + 1)
}

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
    let cursor = db::outbox::QueueCursor::new(poll);
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
        match db::outbox::claim_up_to(&state.db, &holder, lease_ms, &cursor, waiting.len()).await {
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
        let together = jobs.len() > 1 && db::outbox::complete_all(&db, &jobs).await.is_ok();
        for (job, reply) in jobs.iter().zip(replies) {
            let outcome = match together {
                true => Ok(()),
                false => db::outbox::complete_all(&db, std::slice::from_ref(job)).await.map_err(|e| e.to_string()),
            };
            let _ = reply.send(outcome);
        }
    }
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
        Ok(JobPayload::AgentCall(call)) => super::connectors::call_agent(state, call).await,
        Ok(JobPayload::ChatSend(send)) => super::connectors::send(state, send).await,
        Ok(JobPayload::ChatProfile(lookup)) => super::connectors::look_up_profile(state, lookup).await,
        Ok(JobPayload::InvitationBatch(rest)) => {
            match super::invitations::store_deferred(state, worker, &job, rest, shutdown).await {
                Some(outcome) => outcome,
                // Stopped between parts, or the lease went to another worker: nothing to record.
                None => return,
            }
        }
        Err(e) => Err(ProviderFailure::permanent(format!("unreadable job payload: {e}"))),
    };
    let final_failure = matches!(&outcome, Err(f) if f.permanent || job.attempts >= job.max_attempts);
    let recorded = match &outcome {
        Ok(delivery) => {
            tracing::debug!(delivery, "outbox job done");
            let scrubbed = payload.as_ref().ok().and_then(|p| p.scrubbed(Readers::of(state)));
            outbox
                .complete(db::outbox::DoneJob { id: job.id, worker: worker.to_string(), delivery: *delivery, scrubbed })
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
            db::outbox::fail(&state.db, &job, worker, &failure.message, retry, scrubbed.as_deref())
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
            super::onboarding::record_attempt(state, payload, &outcome, final_failure).await;
            super::connectors::record_attempt(state, payload, &outcome, final_failure).await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_never_read_codes_and_read_links_only_in_development_mode() {
        let code = JobPayload::Code(OneTimeCode {
            to: "ada@example.com".into(),
            by_sms: false,
            sender: "Acme".into(),
            code: "493817".into(),
            purpose: "signing in".into(),
        });
        for readers in [Readers::Admins, Readers::DevelopmentMode] {
            assert!(!code.readable_body(readers).contains("493817"));
        }
        let invitation = JobPayload::Invitation(Invitation {
            to: "ada@example.com".into(),
            org: "Acme".into(),
            sender: "Acme".into(),
            inviter: "Bo".into(),
            link: "https://onboard.example/register/SECRETTOKEN".into(),
            expires_at: 0,
        });
        assert!(!invitation.readable_body(Readers::Admins).contains("SECRETTOKEN"));
        assert!(invitation.readable_body(Readers::Admins).contains("https://onboard.example/register/••••"));
        assert!(invitation.readable_body(Readers::DevelopmentMode).contains("SECRETTOKEN"));
        for done in [code.scrubbed(Readers::Admins).unwrap(), invitation.scrubbed(Readers::Admins).unwrap()] {
            assert!(!done.contains("493817") && !done.contains("SECRETTOKEN"), "{done}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!((5_000..=6_000).contains(&backoff_ms(1)));
        assert!((10_000..=12_000).contains(&backoff_ms(2)));
        assert!(backoff_ms(30) <= 3_600_000 + 720_000);
    }
}
