//! Webhook endpoints (Settings › Webhooks) and their deliveries: one row per event and endpoint,
//! which the outbox sends and whose last attempt the delivery log shows.

use super::{now_ms, Backend, Db};
use crate::domain::events::{
    read_event_types, stored_event_types, subscribed_pattern, CheckedEndpoint, DeliveryStatus, EventType,
    WebhookDelivery, WebhookEndpoint, DISABLE_AFTER_MS, MAX_ENDPOINTS, ROTATION_OVERLAP_MS,
};
use crate::server::sealing::{self, ServerKey};
use crate::server::secret::Secret;
use sqlx::{Any, Transaction};

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: i64,
    url: String,
    description: String,
    event_types: String,
    disabled_at: Option<i64>,
    disabled_reason: Option<String>,
    failing_since: Option<i64>,
    previous_until: Option<i64>,
    created_at: i64,
}

impl From<EndpointRow> for WebhookEndpoint {
    fn from(row: EndpointRow) -> Self {
        Self {
            id: row.id,
            url: row.url,
            description: row.description,
            event_types: read_event_types(&row.event_types),
            disabled_at: row.disabled_at,
            disabled_reason: row.disabled_reason,
            failing_since: row.failing_since,
            previous_secret_until: row.previous_until.filter(|until| *until > now_ms()),
            created_at: row.created_at,
        }
    }
}

const ENDPOINT_COLUMNS: &str =
    "id, url, description, event_types, disabled_at, disabled_reason, failing_since, previous_until, created_at";

pub async fn list(db: &Db, org_id: i64) -> Result<Vec<WebhookEndpoint>, sqlx::Error> {
    let rows: Vec<EndpointRow> =
        sqlx::query_as(&format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = $1 ORDER BY id"))
            .bind(org_id)
            .fetch_all(&db.pool)
            .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn one(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    id: i64,
) -> Result<Option<WebhookEndpoint>, sqlx::Error> {
    let row: Option<EndpointRow> =
        sqlx::query_as(&format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND org_id = $2"))
            .bind(id)
            .bind(org_id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.map(Into::into))
}

/// A new endpoint with its secret sealed; `None` when the organization already has
/// [`MAX_ENDPOINTS`], judged by the insert itself.
pub async fn create(
    tx: &mut Transaction<'static, Any>,
    key: &ServerKey,
    org_id: i64,
    endpoint: &CheckedEndpoint,
    secret: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO webhook_endpoints (org_id, url, description, event_types, secret, created_at)
         SELECT $1, $2, $3, $4, $5, $6
         WHERE (SELECT COUNT(*) FROM webhook_endpoints WHERE org_id = $1) < $7
         RETURNING id",
    )
    .bind(org_id)
    .bind(&endpoint.url)
    .bind(&endpoint.description)
    .bind(stored_event_types(&endpoint.event_types))
    .bind(key.seal(sealing::WEBHOOK_SECRET, secret))
    .bind(now_ms())
    .bind(MAX_ENDPOINTS)
    .fetch_optional(&mut **tx)
    .await
}

/// Saves an edit of the address, description and events; false if there is no such endpoint.
pub async fn update(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    id: i64,
    endpoint: &CheckedEndpoint,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET url = $3, description = $4, event_types = $5 WHERE id = $1 AND org_id = $2",
    )
    .bind(id)
    .bind(org_id)
    .bind(&endpoint.url)
    .bind(&endpoint.description)
    .bind(stored_event_types(&endpoint.event_types))
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Turns an endpoint off, or on again with a clean slate (its run of failures forgotten); false if
/// it is already so, or there is no such endpoint.
pub async fn set_enabled(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    id: i64,
    enabled: bool,
) -> Result<bool, sqlx::Error> {
    let sql = match enabled {
        true => {
            "UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL, failing_since = NULL
             WHERE id = $1 AND org_id = $2 AND disabled_at IS NOT NULL"
        }
        false => {
            "UPDATE webhook_endpoints SET disabled_at = $3, disabled_reason = 'Turned off by an admin.'
             WHERE id = $1 AND org_id = $2 AND disabled_at IS NULL"
        }
    };
    let done = sqlx::query(sql).bind(id).bind(org_id).bind(now_ms()).execute(&mut **tx).await?;
    Ok(done.rows_affected() == 1)
}

/// A new secret; the current one keeps signing beside it for [`ROTATION_OVERLAP_MS`]. A second
/// rotation within the overlap drops the oldest. False if there is no such endpoint.
pub async fn rotate(
    tx: &mut Transaction<'static, Any>,
    key: &ServerKey,
    org_id: i64,
    id: i64,
    secret: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET previous_secret = secret, previous_until = $3, secret = $4
         WHERE id = $1 AND org_id = $2",
    )
    .bind(id)
    .bind(org_id)
    .bind(now_ms() + ROTATION_OVERLAP_MS)
    .bind(key.seal(sealing::WEBHOOK_SECRET, secret))
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes an endpoint and its delivery log; its address, or `None` if there is no such endpoint.
pub async fn delete(tx: &mut Transaction<'static, Any>, org_id: i64, id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("DELETE FROM webhook_endpoints WHERE id = $1 AND org_id = $2 RETURNING url")
        .bind(id)
        .bind(org_id)
        .fetch_optional(&mut **tx)
        .await
}

/// The organization's enabled endpoints subscribed to `event_type`, in the transaction of the
/// change the event describes.
pub async fn subscribed(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    event_type: EventType,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM webhook_endpoints WHERE org_id = $1 AND disabled_at IS NULL AND event_types LIKE $2 ORDER BY id",
    )
    .bind(org_id)
    .bind(subscribed_pattern(event_type))
    .fetch_all(&mut **tx)
    .await
}

/// One event's delivery to one endpoint, pending.
pub struct NewDelivery<'a> {
    pub org_id: i64,
    pub endpoint_id: i64,
    pub message_id: &'a str,
    pub event_type: EventType,
    pub payload: &'a str,
}

pub async fn add_delivery(tx: &mut Transaction<'static, Any>, d: &NewDelivery<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO webhook_deliveries (org_id, endpoint_id, message_id, event_type, payload, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(d.org_id)
    .bind(d.endpoint_id)
    .bind(d.message_id)
    .bind(d.event_type)
    .bind(d.payload)
    .bind(now_ms())
    .fetch_one(&mut **tx)
    .await
}

/// Deliveries of many events of one type to one endpoint, `(message_id, payload)` each, in one
/// statement (a batch's invitations): the ids made, in no particular order.
pub async fn add_deliveries(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    org_id: i64,
    endpoint_id: i64,
    event_type: EventType,
    events: &[(String, String)],
) -> Result<Vec<i64>, sqlx::Error> {
    #[derive(serde::Serialize)]
    struct Row<'a> {
        m: &'a str,
        p: &'a str,
    }
    let rows: Vec<Row> = events.iter().map(|(m, p)| Row { m, p }).collect();
    sqlx::query_scalar(&format!(
        "INSERT INTO webhook_deliveries (org_id, endpoint_id, message_id, event_type, payload, created_at)
         SELECT $1, $2, value ->> 'm', $3, value ->> 'p', $4 FROM {} RETURNING id",
        backend.json_rows(5, false)
    ))
    .bind(org_id)
    .bind(endpoint_id)
    .bind(event_type)
    .bind(now_ms())
    .bind(serde_json::to_string(&rows).expect("strings serialize"))
    .fetch_all(&mut **tx)
    .await
}

/// A delivery with what sending it needs: its endpoint's address and secrets, opened.
pub struct Sending {
    pub endpoint_id: i64,
    pub url: String,
    pub message_id: String,
    pub payload: String,
    pub status: DeliveryStatus,
    pub endpoint_disabled: bool,
    pub secret: Secret,
    /// The secret the current one replaced, while it still signs.
    pub previous_secret: Option<Secret>,
}

#[derive(sqlx::FromRow)]
struct SendingRow {
    endpoint_id: i64,
    url: String,
    message_id: String,
    payload: String,
    status: DeliveryStatus,
    #[sqlx(try_from = "super::Flag")]
    endpoint_disabled: bool,
    secret: String,
    previous_secret: Option<String>,
    previous_until: Option<i64>,
}

/// `None` when the delivery is gone (its endpoint was deleted).
pub async fn for_sending(db: &Db, delivery_id: i64) -> Result<Option<Sending>, sqlx::Error> {
    let row: Option<SendingRow> = sqlx::query_as(
        "SELECT d.endpoint_id, e.url, d.message_id, d.payload, d.status,
                CASE WHEN e.disabled_at IS NULL THEN 0 ELSE 1 END AS endpoint_disabled,
                e.secret, e.previous_secret, e.previous_until
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.id = $1",
    )
    .bind(delivery_id)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let now = now_ms();
    let previous_secret = match (row.previous_secret, row.previous_until) {
        (Some(sealed), Some(until)) if until > now => {
            Some(Secret::new(db.key.open_stored(sealing::WEBHOOK_SECRET, &sealed)?))
        }
        _ => None,
    };
    Ok(Some(Sending {
        endpoint_id: row.endpoint_id,
        url: row.url,
        message_id: row.message_id,
        payload: row.payload,
        status: row.status,
        endpoint_disabled: row.endpoint_disabled,
        secret: Secret::new(db.key.open_stored(sealing::WEBHOOK_SECRET, &row.secret)?),
        previous_secret,
    }))
}

/// What one attempt to deliver came to.
pub struct Attempt<'a> {
    /// `Delivered`, `Pending` (to be retried) or `Failed` (for good).
    pub status: DeliveryStatus,
    pub response_status: Option<i64>,
    pub latency_ms: Option<i64>,
    pub error: Option<&'a str>,
}

/// Records an attempt on its endpoint and on the delivery: a success ends the endpoint's run of
/// failures; a failure starts one or, when the run has lasted [`DISABLE_AFTER_MS`], disables the
/// endpoint (judged in the same statement), and then a delivery still to be retried fails for
/// good. Returns whether this attempt disabled the endpoint.
pub async fn record_attempt(
    db: &Db,
    delivery_id: i64,
    endpoint_id: i64,
    attempt: &Attempt<'_>,
) -> Result<bool, sqlx::Error> {
    let now = now_ms();
    let mut tx = db.begin().await?;
    let disabled = match attempt.status {
        DeliveryStatus::Delivered => {
            sqlx::query(
                "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL",
            )
            .bind(endpoint_id)
            .execute(&mut *tx)
            .await?;
            false
        }
        _ => {
            // Every SET reads the row as it was, so "disabled now" is judged on the run's old start.
            let disabled: Option<i64> = sqlx::query_scalar(
                "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $2),
                        disabled_at = CASE WHEN disabled_at IS NULL AND failing_since <= $3 THEN $2 ELSE disabled_at END,
                        disabled_reason = CASE WHEN disabled_at IS NULL AND failing_since <= $3 THEN $4 ELSE disabled_reason END
                 WHERE id = $1 RETURNING disabled_at",
            )
            .bind(endpoint_id)
            .bind(now)
            .bind(now - DISABLE_AFTER_MS)
            .bind("Every delivery failed for 5 days, so Onboard turned it off. Fix the receiver, then turn it on again.")
            .fetch_optional(&mut *tx)
            .await?
            .flatten();
            disabled == Some(now)
        }
    };
    let status = match attempt.status {
        DeliveryStatus::Pending if disabled => DeliveryStatus::Failed,
        status => status,
    };
    sqlx::query(
        "UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, response_status = $3, latency_ms = $4,
                last_error = $5, last_attempt_at = $6
         WHERE id = $1",
    )
    .bind(delivery_id)
    .bind(status)
    .bind(attempt.response_status)
    .bind(attempt.latency_ms)
    .bind(attempt.error)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(disabled)
}

/// An endpoint's delivery log, newest first: `limit` deliveries before `before` (a delivery id);
/// `None` when the organization has no such endpoint.
pub async fn deliveries(
    db: &Db,
    org_id: i64,
    endpoint_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Option<Vec<WebhookDelivery>>, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM webhook_endpoints WHERE id = $1 AND org_id = $2")
        .bind(endpoint_id)
        .bind(org_id)
        .fetch_optional(&db.pool)
        .await?;
    if found.is_none() {
        return Ok(None);
    }
    let log = sqlx::query_as(
        "SELECT id, message_id, event_type, status, attempts, response_status, latency_ms, last_error, last_attempt_at, created_at
         FROM webhook_deliveries WHERE endpoint_id = $1 AND org_id = $2 AND id < $3 ORDER BY id DESC LIMIT $4",
    )
    .bind(endpoint_id)
    .bind(org_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(Some(log))
}

/// Whether the organization has this delivery.
pub async fn has_delivery(tx: &mut Transaction<'static, Any>, org_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM webhook_deliveries WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(org_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(found.is_some())
}

/// A delivery made pending again by [`replay`].
#[derive(sqlx::FromRow)]
pub struct Replayed {
    pub endpoint_id: i64,
    pub event_type: EventType,
    pub message_id: String,
}

/// Makes a delivered or failed delivery pending again, to be sent once more with the same
/// `webhook-id` and body; `None` when it is still pending, its endpoint is off, or there is no
/// such delivery.
pub async fn replay(tx: &mut Transaction<'static, Any>, org_id: i64, id: i64) -> Result<Option<Replayed>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE webhook_deliveries SET status = 'pending'
         WHERE id = $1 AND org_id = $2 AND status <> 'pending'
           AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE org_id = $2 AND disabled_at IS NULL)
         RETURNING endpoint_id, event_type, message_id",
    )
    .bind(id)
    .bind(org_id)
    .fetch_optional(&mut **tx)
    .await
}

/// Marks a delivery failed for good when its job failed for good before the attempt was
/// recorded (the delivery could not be read, say), so that Replay can take it.
pub async fn fail_pending(db: &Db, id: i64, error: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = 'failed', last_error = $2 WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(error)
    .execute(&db.pool)
    .await?;
    Ok(())
}
