//! Connectors: each chat provider set up for an organization, with its policy and credentials.

use super::{now_ms, Db, Flag};
use crate::domain::chat_users::Standing;
use crate::domain::connectors::ChatProvider;
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
    /// Members (their Slack or Teams identity mapped to an Active membership) are let in.
    #[sqlx(try_from = "Flag")]
    pub auto_approve_members: bool,
    pub onboarding_message: String,
    /// The Slack or Teams connector that posts this one's new requests to the approvers.
    pub approvals_via: Option<i64>,
    /// The Slack channel or Teams conversation ID they go to; empty when approvals in chat are off.
    pub approvers_conversation: String,
    pub approval_message: String,
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
    "id, org_id, provider, name, webhook_key, enabled, policy, auto_approve_members, onboarding_message,
     approvals_via, approvers_conversation, approval_message, agent_url, agent_secret, credentials";

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

/// Like [`by_id`], read in a transaction under way.
pub async fn by_id_in(
    tx: &mut Transaction<'static, Any>,
    key: &ServerKey,
    id: i64,
) -> Result<Option<StoredConnector>, sqlx::Error> {
    let found: Option<StoredConnector> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM connectors WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    found.map(|c| c.opened(key)).transpose()
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

/// Sets the connector's rules: whether members are let in, and its deny list, replaced whole.
pub async fn set_rules(
    tx: &mut Transaction<'static, Any>,
    backend: super::Backend,
    org_id: i64,
    id: i64,
    members: bool,
    blocked: &[String],
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE connectors SET auto_approve_members = $3, updated_at = $4 WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(id)
            .bind(members)
            .bind(now_ms())
            .execute(&mut **tx)
            .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM connector_blocks WHERE connector_id = $1").bind(id).execute(&mut **tx).await?;
    if !blocked.is_empty() {
        let ids = serde_json::to_string(blocked).expect("strings serialize");
        sqlx::query(&format!(
            "INSERT INTO connector_blocks (connector_id, platform_id, created_at) SELECT $1, value, $2 FROM {}",
            backend.json_rows(3, true)
        ))
        .bind(id)
        .bind(now_ms())
        .bind(&ids)
        .execute(&mut **tx)
        .await?;
    }
    Ok(true)
}

/// Every blocked chat user of the organization's connectors: (connector id, platform id), by
/// connector.
pub async fn blocked(db: &Db, org_id: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT b.connector_id, b.platform_id FROM connector_blocks b JOIN connectors c ON c.id = b.connector_id
         WHERE c.org_id = $1 ORDER BY b.connector_id",
    )
    .bind(org_id)
    .fetch_all(&db.pool)
    .await
}

/// Whose message a connector received, for its rules.
pub struct Sender<'a> {
    pub org_id: i64,
    pub connector_id: i64,
    pub provider: ChatProvider,
    pub platform_id: &'a str,
    /// The connector lets members in.
    pub members_let_in: bool,
}

/// The sender's standing under the connector's rules: on its deny list, or (where the
/// connector lets members in) mapped to an Active member of the organization.
pub async fn standing(tx: &mut Transaction<'static, Any>, s: &Sender<'_>) -> Result<Standing, sqlx::Error> {
    let members = s.members_let_in && s.provider.maps_to_members();
    let (blocked, member): (i64, i64) = sqlx::query_as(
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM connector_blocks WHERE connector_id = $1 AND platform_id = $2) THEN 1 ELSE 0 END,
                CASE WHEN $5 AND EXISTS (SELECT 1 FROM identity_mappings im JOIN memberships m ON m.id = im.membership_id
                                         WHERE im.org_id = $3 AND im.provider = $4 AND im.external_id = $2
                                           AND m.org_id = im.org_id AND m.status = 'active') THEN 1 ELSE 0 END",
    )
    .bind(s.connector_id)
    .bind(s.platform_id)
    .bind(s.org_id)
    .bind(s.provider.key())
    .bind(members)
    .fetch_one(&mut **tx)
    .await?;
    Ok(match (blocked, member) {
        (1, _) => Standing::Blocked,
        (_, 1) => Standing::Member,
        _ => Standing::Other,
    })
}

/// Where the connector's new requests are posted for the approvers (the organization's Slack or
/// Teams connector `via`, and a conversation on it; `None` turns it off) and what tells a requester
/// they are approved. `false` when the connector, or `via`, is not the organization's: `via` is
/// checked in the statement itself, so a connector deleted meanwhile is never named.
pub async fn set_approvals(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    id: i64,
    via: Option<(i64, &str)>,
    approval_message: &str,
) -> Result<bool, sqlx::Error> {
    let (via_id, conversation) = via.map_or((None, ""), |(v, c)| (Some(v), c));
    let done = sqlx::query(
        "UPDATE connectors SET approvals_via = $3, approvers_conversation = $4, approval_message = $5, updated_at = $6
         WHERE org_id = $1 AND id = $2
           AND ($3 IS NULL OR EXISTS (SELECT 1 FROM connectors v WHERE v.id = $3 AND v.org_id = $1
                                                                   AND v.provider IN ('slack', 'teams')))",
    )
    .bind(org_id)
    .bind(id)
    .bind(via_id)
    .bind(conversation)
    .bind(approval_message)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}
