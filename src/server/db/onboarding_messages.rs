//! Onboarding messages: each "Send message", its recipients, and what became of each.

use super::{now_ms, Db};
use crate::domain::onboarding::RecipientOutcome;
use sqlx::{Any, Transaction};

pub async fn create_send(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    sender: i64,
    team_id: Option<i64>,
    custom_text: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO onboarding_sends (org_id, sender_account_id, team_id, custom_text, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(org_id)
    .bind(sender)
    .bind(team_id)
    .bind(custom_text)
    .bind(now_ms())
    .fetch_one(&mut **tx)
    .await
}

pub struct NewMessage<'a> {
    pub org_id: i64,
    pub send_id: i64,
    pub membership_id: i64,
    pub channel: &'a str,
    pub address: &'a str,
}

pub async fn create(tx: &mut Transaction<'static, Any>, m: &NewMessage<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO onboarding_messages (org_id, send_id, membership_id, channel, address, status, created_at)
         VALUES ($1, $2, $3, $4, $5, 'queued', $6) RETURNING id",
    )
    .bind(m.org_id)
    .bind(m.send_id)
    .bind(m.membership_id)
    .bind(m.channel)
    .bind(m.address)
    .bind(now_ms())
    .fetch_one(&mut **tx)
    .await
}

pub async fn link_job(tx: &mut Transaction<'static, Any>, id: i64, job_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE onboarding_messages SET outbox_job_id = $2 WHERE id = $1")
        .bind(id)
        .bind(job_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Delivered: the member is Notified from now on. Its organization, or `None` when it was
/// recorded delivered before (a job run twice), and then nothing changes.
pub async fn delivered(tx: &mut Transaction<'static, Any>, id: i64) -> Result<Option<i64>, sqlx::Error> {
    let now = now_ms();
    let org_id: Option<i64> = sqlx::query_scalar(
        "UPDATE onboarding_messages SET status = 'delivered', error = NULL, delivered_at = $2
         WHERE id = $1 AND status <> 'delivered' RETURNING org_id",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    if org_id.is_some() {
        sqlx::query(
            "UPDATE memberships SET notified_at = $2 WHERE id = (SELECT membership_id FROM onboarding_messages WHERE id = $1)",
        )
        .bind(id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(org_id)
}

/// What `onboarding_message.delivered` tells of a message.
pub async fn event_data(
    tx: &mut Transaction<'static, Any>,
    id: i64,
) -> Result<Option<crate::domain::events::OnboardingMessageData>, sqlx::Error> {
    sqlx::query_as(
        "SELECT om.id AS onboarding_message_id, om.membership_id, a.email, om.channel
         FROM onboarding_messages om JOIN memberships m ON m.id = om.membership_id JOIN accounts a ON a.id = m.account_id
         WHERE om.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

/// A failed attempt: `failed` for good, or still queued with the error that will be retried.
pub async fn attempt_failed(db: &Db, id: i64, error: &str, final_failure: bool) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE onboarding_messages SET status = $2, error = $3 WHERE id = $1 AND status <> 'delivered'")
        .bind(id)
        .bind(if final_failure { "failed" } else { "queued" })
        .bind(error)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// An admin retried the message's failed outbox job: it is on its way again.
pub async fn requeued_with_job(tx: &mut Transaction<'static, Any>, job_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE onboarding_messages SET status = 'queued' WHERE outbox_job_id = $1 AND status = 'failed'")
        .bind(job_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn outcomes(db: &Db, org_id: i64, send_id: i64) -> Result<Vec<RecipientOutcome>, sqlx::Error> {
    sqlx::query_as(
        "SELECT om.membership_id, a.email, TRIM(a.first_name || ' ' || a.last_name) AS name, om.channel, om.status, om.error
         FROM onboarding_messages om
         JOIN memberships m ON m.id = om.membership_id
         JOIN accounts a ON a.id = m.account_id
         WHERE om.org_id = $1 AND om.send_id = $2
         ORDER BY a.email",
    )
    .bind(org_id)
    .bind(send_id)
    .fetch_all(&db.pool)
    .await
}
