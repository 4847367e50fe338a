//! Connectors: each chat provider set up for an organization, with its policy and credentials.

use super::{now_ms, Db, Flag};
use crate::server::sealing::{self, ServerKey};
use sqlx::{Any, Transaction};

#[derive(Clone, sqlx::FromRow)]
pub struct StoredConnector {
    pub id: i64,
    pub org_id: i64,
    pub provider: String,
    pub name: String,
    pub webhook_key: String,
    #[sqlx(try_from = "Flag")]
    pub enabled: bool,
    pub policy: String,
    pub onboarding_message: String,
    pub agent_url: String,
    /// Opened from its sealed column when read, sealed again when written.
    pub agent_secret: String,
    /// JSON object of the provider's settings; sealed at rest like `agent_secret`.
    pub credentials: String,
}

impl StoredConnector {
    fn opened(mut self, key: &ServerKey) -> Result<Self, sqlx::Error> {
        self.agent_secret = key.open_stored(sealing::AGENT_SECRET, &self.agent_secret)?;
        self.credentials = key.open_stored(sealing::CREDENTIALS, &self.credentials)?;
        Ok(self)
    }
}

const COLUMNS: &str =
    "id, org_id, provider, name, webhook_key, enabled, policy, onboarding_message, agent_url, agent_secret, credentials";

/// The organization's connectors with their pending requests and chat users, by name.
pub async fn list(db: &Db, org_id: i64) -> Result<Vec<(StoredConnector, i64, i64)>, sqlx::Error> {
    let connectors: Vec<StoredConnector> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM connectors WHERE org_id = $1 ORDER BY name"))
            .bind(org_id)
            .fetch_all(&db.pool)
            .await?
            .into_iter()
            .map(|c: StoredConnector| c.opened(&db.key))
            .collect::<Result<_, _>>()?;
    let pending: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT connector_id, COUNT(*) FROM access_requests WHERE org_id = $1 AND status = 'pending' GROUP BY connector_id",
    )
    .bind(org_id)
    .fetch_all(&db.pool)
    .await?;
    let users: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT connector_id, COUNT(DISTINCT chat_user_id) FROM chat_messages WHERE org_id = $1 GROUP BY connector_id",
    )
    .bind(org_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(connectors
        .into_iter()
        .map(|c| {
            let pending = pending.iter().find(|(id, _)| *id == c.id).map(|(_, n)| *n).unwrap_or(0);
            let people = users.iter().find(|(id, _)| *id == c.id).map(|(_, n)| *n).unwrap_or(0);
            (c, pending, people)
        })
        .collect())
}

/// (id, name) of the organization's connectors, by name: the Access Requests filter.
pub async fn names(db: &Db, org_id: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as("SELECT id, name FROM connectors WHERE org_id = $1 ORDER BY name")
        .bind(org_id)
        .fetch_all(&db.pool)
        .await
}

pub async fn get(db: &Db, org_id: i64, id: i64) -> Result<Option<StoredConnector>, sqlx::Error> {
    one(
        db,
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM connectors WHERE org_id = $1 AND id = $2"))
            .bind(org_id)
            .bind(id),
    )
    .await
}

/// The connector a webhook URL names.
pub async fn by_webhook_key(db: &Db, key: &str) -> Result<Option<StoredConnector>, sqlx::Error> {
    one(db, sqlx::query_as(&format!("SELECT {COLUMNS} FROM connectors WHERE webhook_key = $1")).bind(key)).await
}

/// For the outbox, which runs outside any organization's request.
pub async fn by_id(db: &Db, id: i64) -> Result<Option<StoredConnector>, sqlx::Error> {
    one(db, sqlx::query_as(&format!("SELECT {COLUMNS} FROM connectors WHERE id = $1")).bind(id)).await
}

/// The connector a query finds, if any, its secrets opened.
async fn one<'q>(
    db: &Db,
    query: sqlx::query::QueryAs<'q, Any, StoredConnector, sqlx::any::AnyArguments<'q>>,
) -> Result<Option<StoredConnector>, sqlx::Error> {
    query.fetch_optional(&db.pool).await?.map(|c| c.opened(&db.key)).transpose()
}

pub struct NewConnector<'a> {
    pub org_id: i64,
    pub provider: &'a str,
    pub name: &'a str,
    pub webhook_key: &'a str,
    pub agent_url: &'a str,
    pub agent_secret: &'a str,
    pub credentials: &'a str,
}

pub async fn create(
    tx: &mut Transaction<'static, Any>,
    key: &ServerKey,
    c: &NewConnector<'_>,
) -> Result<i64, sqlx::Error> {
    let now = now_ms();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO connectors (org_id, provider, name, webhook_key, agent_url, agent_secret, credentials, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
    )
    .bind(c.org_id)
    .bind(c.provider)
    .bind(c.name)
    .bind(c.webhook_key)
    .bind(c.agent_url)
    .bind(key.seal(sealing::AGENT_SECRET, c.agent_secret))
    .bind(key.seal(sealing::CREDENTIALS, c.credentials))
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// Saves an edit; the provider and webhook URL never change.
#[allow(clippy::too_many_arguments)]
pub async fn update(
    tx: &mut Transaction<'static, Any>,
    key: &ServerKey,
    org_id: i64,
    id: i64,
    name: &str,
    agent_url: &str,
    agent_secret: &str,
    credentials: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE connectors SET name = $3, agent_url = $4, agent_secret = $5, credentials = $6, updated_at = $7
         WHERE org_id = $1 AND id = $2",
    )
    .bind(org_id)
    .bind(id)
    .bind(name)
    .bind(agent_url)
    .bind(key.seal(sealing::AGENT_SECRET, agent_secret))
    .bind(key.seal(sealing::CREDENTIALS, credentials))
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_enabled(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    id: i64,
    enabled: bool,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE connectors SET enabled = $3, updated_at = $4 WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .bind(enabled)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_policy(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    id: i64,
    policy: &str,
    onboarding_message: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE connectors SET policy = $3, onboarding_message = $4, updated_at = $5 WHERE org_id = $1 AND id = $2",
    )
    .bind(org_id)
    .bind(id)
    .bind(policy)
    .bind(onboarding_message)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes a connector with its access requests and conversation log.
pub async fn delete(tx: &mut Transaction<'static, Any>, org_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM connectors WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}
