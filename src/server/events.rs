//! Onboarding events told to the organization's webhook endpoints, the Standard Webhooks way
//! (https://www.standardwebhooks.com/, PROTOCOLS.md "Outbound event webhooks").
//!
//! An event is emitted in the transaction of the change it describes: it queues one delivery
//! (and its outbox job) per enabled endpoint subscribed to its type, so a change that rolls
//! back tells nobody and one that commits is told. The outbox sends each delivery, signed
//! afresh on each attempt, and retries it with backoff.

use super::db::webhook_endpoints::{Attempt, NewDelivery};
use super::db::{self, now_ms};
use super::integrations::provider::ProviderFailure;
use super::outbox::{JobPayload, WebhookJob};
use super::sealing::ServerKey;
use super::secret::Secret;
use super::AppState;
use crate::domain::events::{DeliveryStatus, EventType};
use crate::domain::outbox::JobKind;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sqlx::{Any, Transaction};
use std::time::{Duration, Instant};

/// Attempts per delivery. With the outbox's backoff (5 s doubling, at most an hour apart) the
/// last falls about a day after the first, as the specification's example schedule does.
pub const DELIVERY_ATTEMPTS: i64 = 30;
/// How long one attempt waits for the endpoint's answer.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
const SECRET_PREFIX: &str = "whsec_";
const SECRET_BYTES: usize = 24;

/// An event's body: `{"type", "timestamp", "data"}`, `timestamp` in RFC 3339.
#[derive(Serialize)]
struct Body<'a, T: Serialize> {
    #[serde(rename = "type")]
    event_type: EventType,
    timestamp: String,
    data: &'a T,
}

/// `data` of a `webhook.test` event.
#[derive(Serialize)]
pub struct TestData {
    pub endpoint_id: i64,
    pub message: &'static str,
}

/// The organization's enabled endpoints subscribed to `event_type`, looked up in the change's
/// transaction: each emitter below reads the facts an event carries only when someone listens.
pub async fn listeners(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    event_type: EventType,
) -> Result<Vec<i64>, sqlx::Error> {
    db::webhook_endpoints::subscribed(tx, org_id, event_type).await
}

/// Queues `data` as an `event_type` event for each of `endpoints`, under one `webhook-id`.
pub async fn emit_to(
    tx: &mut Transaction<'static, Any>,
    key: &ServerKey,
    org_id: i64,
    endpoints: &[i64],
    event_type: EventType,
    data: &impl Serialize,
) -> Result<(), sqlx::Error> {
    if endpoints.is_empty() {
        return Ok(());
    }
    let payload = body(event_type, now_ms(), data);
    let message_id = message_id();
    for &endpoint_id in endpoints {
        let delivery = NewDelivery { org_id, endpoint_id, message_id: &message_id, event_type, payload: &payload };
        let delivery_id = db::webhook_endpoints::add_delivery(tx, &delivery).await?;
        queue(tx, key, org_id, endpoint_id, event_type, delivery_id).await?;
    }
    Ok(())
}

/// Queues the outbox job that sends a delivery (again, for a replay).
pub async fn queue(
    tx: &mut Transaction<'static, Any>,
    key: &ServerKey,
    org_id: i64,
    endpoint_id: i64,
    event_type: EventType,
    delivery_id: i64,
) -> Result<i64, sqlx::Error> {
    db::outbox::enqueue(
        tx,
        key,
        &db::outbox::NewJob {
            org_id: Some(org_id),
            kind: JobKind::Webhook,
            recipient: &recipient(endpoint_id),
            subject: event_type.key(),
            payload: &job_payload(delivery_id),
            max_attempts: DELIVERY_ATTEMPTS,
        },
    )
    .await
}

/// Whom a delivery's outbox job names: not the address, which may carry the receiver's token.
fn recipient(endpoint_id: i64) -> String {
    format!("Webhook endpoint #{endpoint_id}")
}

fn job_payload(delivery_id: i64) -> String {
    serde_json::to_string(&JobPayload::Webhook(WebhookJob { delivery_id })).expect("job payloads always serialize")
}

/// What an event is about: its facts are read in the change's transaction, as they stand after
/// the change, and only when an endpoint listens.
#[derive(Clone, Copy, Debug)]
pub enum About {
    /// A membership, for the `member.*` events.
    Member(i64),
    /// An access request, for the `access_request.*` events.
    AccessRequest(i64),
    /// An onboarding message, for `onboarding_message.delivered`.
    OnboardingMessage(i64),
}

/// Emits `event_type` about one thing to the organization's endpoints that listen for it.
pub async fn emit(
    tx: &mut Transaction<'static, Any>,
    key: &ServerKey,
    org_id: i64,
    event_type: EventType,
    about: About,
) -> Result<(), sqlx::Error> {
    let endpoints = listeners(tx, org_id, event_type).await?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let data = match about {
        About::Member(id) => json(db::memberships::event_data(tx, id).await?),
        About::AccessRequest(id) => json(db::access_requests::event_data(tx, id).await?),
        About::OnboardingMessage(id) => json(db::onboarding_messages::event_data(tx, id).await?),
    };
    match data {
        Some(data) => emit_to(tx, key, org_id, &endpoints, event_type, &data).await,
        None => Ok(()),
    }
}

/// `invitation.sent` for each of these new invitations of one organization, each its own event,
/// written a statement per table and endpoint however many there are (a batch's part holds
/// 5,000).
pub async fn invitations_sent(
    tx: &mut Transaction<'static, Any>,
    db: &db::Db,
    org_id: i64,
    invitation_ids: &[i64],
) -> Result<(), sqlx::Error> {
    let event_type = EventType::InvitationSent;
    let endpoints = listeners(tx, org_id, event_type).await?;
    if endpoints.is_empty() || invitation_ids.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    let events: Vec<(String, String)> = db::invitations::event_data(tx, invitation_ids)
        .await?
        .into_iter()
        .map(|invitation| (message_id(), body(event_type, now, &invitation.data)))
        .collect();
    for endpoint_id in endpoints {
        let deliveries =
            db::webhook_endpoints::add_deliveries(tx, db.backend, org_id, endpoint_id, event_type, &events).await?;
        let recipient = recipient(endpoint_id);
        let jobs: Vec<(String, String, String)> = deliveries
            .into_iter()
            .map(|delivery_id| (recipient.clone(), event_type.key().to_string(), job_payload(delivery_id)))
            .collect();
        db::outbox::enqueue_all(tx, db.backend, &db.key, org_id, JobKind::Webhook, DELIVERY_ATTEMPTS, &jobs).await?;
    }
    Ok(())
}

/// `invitation.delivered` or `invitation.failed` for the invitations whose emails these outbox
/// jobs sent, in the transaction that records the jobs' outcome; any organization's.
pub async fn invitation_outcomes(
    tx: &mut Transaction<'static, Any>,
    key: &ServerKey,
    event_type: EventType,
    job_ids: &[i64],
) -> Result<(), sqlx::Error> {
    // A batch of done jobs is mostly one organization's: its listeners are looked up once.
    let mut listening: Vec<(i64, Vec<i64>)> = Vec::new();
    for invitation in db::invitations::listened_by_jobs(tx, job_ids, event_type).await? {
        let org_id = invitation.org_id;
        let at = match listening.iter().position(|(org, _)| *org == org_id) {
            Some(at) => at,
            None => {
                listening.push((org_id, listeners(tx, org_id, event_type).await?));
                listening.len() - 1
            }
        };
        emit_to(tx, key, org_id, &listening[at].1, event_type, &invitation.data).await?;
    }
    Ok(())
}

fn json<T: Serialize>(data: Option<T>) -> Option<serde_json::Value> {
    data.map(|d| serde_json::to_value(d).expect("event data always serializes"))
}

fn body(event_type: EventType, at_ms: i64, data: &impl Serialize) -> String {
    let body = Body { event_type, timestamp: crate::domain::time::format_rfc3339(at_ms), data };
    serde_json::to_string(&body).expect("event bodies always serialize")
}

/// A `webhook-id`: `msg_` and 32 hex digits of randomness.
fn message_id() -> String {
    format!("msg_{}", hex::encode(rand::random::<[u8; 16]>()))
}

/// A new endpoint secret as it is shown once: `whsec_` and the base64 of 24 random bytes.
pub fn new_secret() -> Secret {
    Secret::new(format!("{SECRET_PREFIX}{}", STANDARD.encode(rand::random::<[u8; SECRET_BYTES]>())))
}

/// One `v1,<base64>` signature: HMAC-SHA256, keyed with the secret's decoded bytes, over
/// `{webhook-id}.{webhook-timestamp}.{body}`. `None` for a secret that is not `whsec_` + base64.
pub fn signature(secret: &str, message_id: &str, timestamp_s: i64, body: &str) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()?;
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(format!("{message_id}.{timestamp_s}.").as_bytes());
    mac.update(body.as_bytes());
    Some(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// Sends one delivery: signed with the endpoint's secret, and with the secret it replaced while
/// that still signs (two signatures, space-separated), with a fresh timestamp on each attempt,
/// since receivers refuse one more than 5 minutes off. `last_attempt` says the outbox will not
/// try again. Every attempt is recorded on the delivery and its endpoint.
pub async fn deliver(state: &AppState, job: &WebhookJob, last_attempt: bool) -> Result<&'static str, ProviderFailure> {
    let Some(sending) = db::webhook_endpoints::for_sending(&state.db, job.delivery_id)
        .await
        .map_err(|e| ProviderFailure::transient(format!("reading the delivery: {e}")))?
    else {
        return Err(ProviderFailure::permanent("the webhook endpoint was deleted"));
    };
    let (delivery_id, endpoint_id) = (job.delivery_id, sending.endpoint_id);
    // Delivered since this job was queued (a replay raced it): once is enough. A failed one is
    // sent: an admin retried its job from the Outbox.
    if sending.status == DeliveryStatus::Delivered {
        return Ok("webhook");
    }
    if sending.endpoint_disabled {
        let message = "the endpoint is turned off";
        record_attempt(state, delivery_id, endpoint_id, failed_before_sending(message)).await?;
        return Err(ProviderFailure::permanent(message));
    }
    if let Err(refused) = super::outbound::check_literal(&sending.url, &state.chat.allowed_private_hosts) {
        let message = format!("the endpoint's address is refused: {}", refused.0);
        record_attempt(state, delivery_id, endpoint_id, failed_before_sending(&message)).await?;
        return Err(ProviderFailure::permanent(message));
    }
    let timestamp = now_ms() / 1_000;
    let signatures: Vec<String> = std::iter::once(&sending.secret)
        .chain(sending.previous_secret.as_ref())
        .filter_map(|secret| signature(secret.expose(), &sending.message_id, timestamp, &sending.payload))
        .collect();
    let started = Instant::now();
    let sent = state
        .chat
        .agent_http
        .post(&sending.url)
        .timeout(ATTEMPT_TIMEOUT)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("webhook-id", &sending.message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signatures.join(" "))
        .body(sending.payload.clone())
        .send()
        .await;
    let latency_ms = Some(started.elapsed().as_millis() as i64);
    let (response_status, failure) = match sent {
        Ok(response) if response.status().is_success() => (Some(response.status().as_u16() as i64), None),
        Ok(response) => {
            let status = response.status().as_u16() as i64;
            // Any other answer may be passing (a deploy, a full queue): the specification retries them all.
            let mut failure = ProviderFailure::from_response("The endpoint", response).await;
            failure.permanent = false;
            (Some(status), Some(failure))
        }
        Err(e) => {
            let failure =
                ProviderFailure::transient(format!("reaching the endpoint: {}", super::outbound::without_url(&e)));
            (None, Some(failure))
        }
    };
    let Some(mut failure) = failure else {
        let attempt = Attempt { status: DeliveryStatus::Delivered, response_status, latency_ms, error: None };
        record_attempt(state, delivery_id, endpoint_id, attempt).await?;
        return Ok("webhook");
    };
    let status = if last_attempt { DeliveryStatus::Failed } else { DeliveryStatus::Pending };
    let attempt = Attempt { status, response_status, latency_ms, error: Some(&failure.message) };
    if record_attempt(state, delivery_id, endpoint_id, attempt).await? {
        tracing::warn!(endpoint = sending.endpoint_id, "a webhook endpoint kept failing and was turned off");
        failure.permanent = true;
    }
    Err(failure)
}

/// An attempt that failed for good before anything was sent.
fn failed_before_sending(error: &str) -> Attempt<'_> {
    Attempt { status: DeliveryStatus::Failed, response_status: None, latency_ms: None, error: Some(error) }
}

/// Records an attempt; whether it turned the endpoint off.
async fn record_attempt(
    state: &AppState,
    delivery_id: i64,
    endpoint_id: i64,
    attempt: Attempt<'_>,
) -> Result<bool, ProviderFailure> {
    db::webhook_endpoints::record_attempt(&state.db, delivery_id, endpoint_id, &attempt)
        .await
        .map_err(|e| ProviderFailure::transient(format!("recording the attempt: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_specifications_example() {
        // The example of the Standard Webhooks specification's reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        assert_eq!(signature("not-a-secret", "msg_1", 1, body), None);
    }

    #[test]
    fn a_new_secret_decodes_to_24_bytes_and_differs_each_time() {
        let secret = new_secret();
        let bytes = STANDARD.decode(secret.expose().strip_prefix("whsec_").unwrap()).unwrap();
        assert_eq!(bytes.len(), 24);
        assert_ne!(secret.expose(), new_secret().expose());
        assert!(message_id().starts_with("msg_") && message_id().len() == 36);
    }
}
