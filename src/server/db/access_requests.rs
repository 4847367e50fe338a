//! Access requests: whether a chat user may reach the agent through a connector.

use super::{now_ms, Db};
use crate::domain::chat_users::{AccessFilter, AccessRequestRow};
use crate::domain::chat_users::{AccessStatus, Decision};
use crate::domain::members::PAGE_SIZE;
use sqlx::{Any, Transaction};

/// Opens a pending request unless one exists, remembering where the requester wrote from
/// (`reply_to`, a `ReplyAddress` as JSON) so they can be told when approved. Only the caller that
/// created it gets its id: with the unique (connector, chat user) pair this is what sends the
/// onboarding message, and posts the approvers' card, exactly once however many first messages race.
pub async fn open_once(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    connector_id: i64,
    chat_user_id: i64,
    first_message: &str,
    reply_to: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO access_requests (org_id, connector_id, chat_user_id, first_message, created_at, reply_to)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (connector_id, chat_user_id) DO NOTHING RETURNING id",
    )
    .bind(org_id)
    .bind(connector_id)
    .bind(chat_user_id)
    .bind(first_message)
    .bind(now_ms())
    .bind(reply_to)
    .fetch_optional(&mut **tx)
    .await
}

/// Records a member let in by the connector's rule as approved, with nobody as the decider:
/// a new request, or one still pending. They are not told they are approved (the agent answers
/// them at once), so the approval message is marked as told. A decision someone made stands: `None` when there was
/// one (made since the request was read). Otherwise the request's id, and whether an approvers'
/// card shows it (a request opened before they became a member).
pub async fn let_in(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    connector_id: i64,
    chat_user_id: i64,
    first_message: &str,
) -> Result<Option<Decided>, sqlx::Error> {
    let done: Option<(i64, Option<String>)> = sqlx::query_as(
        "INSERT INTO access_requests (org_id, connector_id, chat_user_id, first_message, created_at, status, decided_at,
                                      approval_told)
         VALUES ($1, $2, $3, $4, $5, 'approved', $5, TRUE)
         ON CONFLICT (connector_id, chat_user_id) DO UPDATE SET status = 'approved', decided_at = excluded.decided_at,
             decided_by = NULL, approval_told = TRUE
         WHERE access_requests.status = 'pending'
         RETURNING id, card",
    )
    .bind(org_id)
    .bind(connector_id)
    .bind(chat_user_id)
    .bind(first_message)
    .bind(now_ms())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(done.map(|(id, card)| Decided {
        id,
        status: AccessStatus::Approved,
        who: String::new(),
        on_card: card.is_some(),
    }))
}

/// Takes back an approval the rule for members gave (nobody decided it): the person is no
/// longer a member, or the rule is off, and asks like anyone. A person's approval stays. A
/// request the approvers' card shows goes back to pending, so the card offers its buttons again:
/// its id is returned. Any other is removed, and the person's next message asks afresh.
pub async fn withdraw_let_in(
    tx: &mut Transaction<'static, Any>,
    connector_id: i64,
    chat_user_id: i64,
) -> Result<Option<Decided>, sqlx::Error> {
    let taken_back = "connector_id = $1 AND chat_user_id = $2 AND status = 'approved' AND decided_by IS NULL";
    let pending: Option<i64> = sqlx::query_scalar(&format!(
        "UPDATE access_requests SET status = 'pending', decided_at = NULL, approval_told = FALSE
         WHERE {taken_back} AND card IS NOT NULL
         RETURNING id"
    ))
    .bind(connector_id)
    .bind(chat_user_id)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(id) = pending {
        return Ok(Some(Decided { id, status: AccessStatus::Pending, who: String::new(), on_card: true }));
    }
    sqlx::query(&format!("DELETE FROM access_requests WHERE {taken_back}"))
        .bind(connector_id)
        .bind(chat_user_id)
        .execute(&mut **tx)
        .await?;
    Ok(None)
}

/// Where the chat user's request on the connector stands, if they have one.
pub async fn status_of(
    tx: &mut Transaction<'static, Any>,
    connector_id: i64,
    chat_user_id: i64,
) -> Result<Option<AccessStatus>, sqlx::Error> {
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM access_requests WHERE connector_id = $1 AND chat_user_id = $2")
            .bind(connector_id)
            .bind(chat_user_id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(status.as_deref().and_then(AccessStatus::parse))
}

/// Marks a rejected user as told; `true` for the one caller that gets to tell them.
pub async fn tell_rejection_once(
    tx: &mut Transaction<'static, Any>,
    connector_id: i64,
    chat_user_id: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE access_requests SET rejection_told = TRUE
         WHERE connector_id = $1 AND chat_user_id = $2 AND status = 'rejected' AND rejection_told = FALSE",
    )
    .bind(connector_id)
    .bind(chat_user_id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

const ROW: &str = "SELECT r.id, r.chat_user_id, u.first_name, u.last_name, u.platform_id, u.avatar_url, u.provider,
        r.connector_id, c.name AS connector_name, r.status, r.first_message, r.created_at,
        a.email AS decided_by, r.decided_at
     FROM access_requests r
     JOIN chat_users u ON u.id = r.chat_user_id
     JOIN connectors c ON c.id = r.connector_id
     LEFT JOIN accounts a ON a.id = r.decided_by";

/// A page of requests, newest first, with the filter's status, connector and search applied.
pub async fn page(db: &Db, org_id: i64, f: &AccessFilter) -> Result<(Vec<AccessRequestRow>, i64), sqlx::Error> {
    let filter = "r.org_id = $1 AND ($2 = '' OR r.status = $2) AND ($3 = 0 OR r.connector_id = $3)
        AND ($4 = '' OR LOWER(u.first_name || ' ' || u.last_name || ' ' || u.platform_id || ' ' || r.first_message) LIKE $4)";
    let pattern =
        if f.search.trim().is_empty() { String::new() } else { format!("%{}%", f.search.trim().to_lowercase()) };
    let rows = sqlx::query_as(&format!("{ROW} WHERE {filter} ORDER BY r.id DESC LIMIT $5 OFFSET $6"))
        .bind(org_id)
        .bind(&f.status)
        .bind(f.connector)
        .bind(&pattern)
        .bind(PAGE_SIZE)
        .bind((f.page.max(1) - 1) * PAGE_SIZE)
        .fetch_all(&db.pool)
        .await?;
    let (total,): (i64,) = sqlx::query_as(&format!(
        "SELECT COUNT(*) FROM access_requests r JOIN chat_users u ON u.id = r.chat_user_id WHERE {filter}"
    ))
    .bind(org_id)
    .bind(&f.status)
    .bind(f.connector)
    .bind(&pattern)
    .fetch_one(&db.pool)
    .await?;
    Ok((rows, total))
}

/// (pending, approved, rejected) across the organization.
pub async fn counts(db: &Db, org_id: i64) -> Result<(i64, i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0),
                COALESCE(SUM(CASE WHEN status = 'approved' THEN 1 ELSE 0 END), 0),
                COALESCE(SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END), 0)
         FROM access_requests WHERE org_id = $1",
    )
    .bind(org_id)
    .fetch_one(&db.pool)
    .await
}

pub async fn for_chat_user(db: &Db, org_id: i64, chat_user_id: i64) -> Result<Vec<AccessRequestRow>, sqlx::Error> {
    sqlx::query_as(&format!("{ROW} WHERE r.org_id = $1 AND r.chat_user_id = $2 ORDER BY r.id"))
        .bind(org_id)
        .bind(chat_user_id)
        .fetch_all(&db.pool)
        .await
}

/// Whether the organization has this request.
pub async fn exists(tx: &mut Transaction<'static, Any>, org_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM access_requests WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(found.is_some())
}

/// A request a decision changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decided {
    pub id: i64,
    pub status: AccessStatus,
    /// "Grace Hopper on Support bot", for the audit log.
    pub who: String,
    /// Whether an approvers' card shows it, and so needs updating.
    pub on_card: bool,
}

/// Applies a decision to one request: `None` when it already stood so, or is not the
/// organization's. Approve and Reject decide a pending request only, so the first decision
/// stands wherever it was made (a card in chat, the panel); Undo takes one back to pending,
/// clears who decided, and lets a later rejection be told again.
pub async fn decide(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    id: i64,
    decision: Decision,
    by: i64,
) -> Result<Option<Decided>, sqlx::Error> {
    let target = decision.target();
    let (decided_by, decided_at) = match decision {
        Decision::Undo => (None, None),
        _ => (Some(by), Some(now_ms())),
    };
    let changed: Option<(i64, i64, Option<String>)> = sqlx::query_as(
        "UPDATE access_requests SET status = $3, decided_by = $4, decided_at = $5, rejection_told = FALSE
         WHERE org_id = $1 AND id = $2 AND status <> $3 AND ($3 = 'pending' OR status = 'pending')
         RETURNING chat_user_id, connector_id, card",
    )
    .bind(org_id)
    .bind(id)
    .bind(target.key())
    .bind(decided_by)
    .bind(decided_at)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((chat_user_id, connector_id, card)) = changed else {
        return Ok(None);
    };
    let (first, last, platform_id, connector): (String, String, String, String) = sqlx::query_as(
        "SELECT u.first_name, u.last_name, u.platform_id, c.name FROM chat_users u, connectors c
         WHERE u.id = $1 AND c.id = $2",
    )
    .bind(chat_user_id)
    .bind(connector_id)
    .fetch_one(&mut **tx)
    .await?;
    let who = format!("{} on {connector}", crate::domain::chat_users::display_name(&first, &last, &platform_id));
    Ok(Some(Decided { id, status: target, who, on_card: card.is_some() }))
}

/// Marks an approved requester as told, once: the connector, chat user and `reply_to` (JSON) to
/// tell them through, or `None` when they were told before or wrote from nowhere recorded
/// (requests opened before approvals were told).
pub async fn tell_approval_once(
    tx: &mut Transaction<'static, Any>,
    id: i64,
) -> Result<Option<(i64, i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE access_requests SET approval_told = TRUE
         WHERE id = $1 AND status = 'approved' AND approval_told = FALSE AND reply_to IS NOT NULL
         RETURNING connector_id, chat_user_id, reply_to",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

/// One request as the approvers' card shows it, with where the card goes (`approvals_via`, the
/// approvers' conversation) and, once posted, where it is (`card`, a `CardRef` as JSON).
#[derive(Debug, sqlx::FromRow)]
pub struct CardRow {
    pub id: i64,
    pub org_id: i64,
    pub connector_name: String,
    pub provider: String,
    pub first_name: String,
    pub last_name: String,
    pub platform_id: String,
    pub avatar_url: Option<String>,
    pub first_message: String,
    pub status: String,
    pub decider_first: Option<String>,
    pub decider_last: Option<String>,
    pub decider_email: Option<String>,
    pub decided_at: Option<i64>,
    pub approvals_via: Option<i64>,
    pub approvers_conversation: String,
    pub card: Option<String>,
}

pub async fn card_row<'e>(
    db: impl sqlx::Executor<'e, Database = Any>,
    id: i64,
) -> Result<Option<CardRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.id, r.org_id, c.name AS connector_name, c.provider, u.first_name, u.last_name, u.platform_id,
                u.avatar_url, r.first_message, r.status, a.first_name AS decider_first, a.last_name AS decider_last,
                a.email AS decider_email, r.decided_at, c.approvals_via, c.approvers_conversation, r.card
         FROM access_requests r
         JOIN chat_users u ON u.id = r.chat_user_id
         JOIN connectors c ON c.id = r.connector_id
         LEFT JOIN accounts a ON a.id = r.decided_by
         WHERE r.id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The chat user's requests an approvers' card shows, as (organization, request): the cards to
/// bring up to date when their name or picture arrives.
pub async fn carded(db: &Db, chat_user_id: i64) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT org_id, id FROM access_requests WHERE chat_user_id = $1 AND card IS NOT NULL")
        .bind(chat_user_id)
        .fetch_all(&db.pool)
        .await
}

/// Records the card posted for a request; `false` if one was recorded first (a retried post).
pub async fn set_card(db: &Db, id: i64, card: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE access_requests SET card = $2 WHERE id = $1 AND card IS NULL")
        .bind(id)
        .bind(card)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// What the `access_request.*` events tell of a request, as it stands in the transaction.
pub async fn event_data(
    tx: &mut Transaction<'static, Any>,
    id: i64,
) -> Result<Option<crate::domain::events::AccessRequestData>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.id AS access_request_id, r.connector_id, c.name AS connector, u.provider AS platform, u.platform_id,
                u.first_name, u.last_name, r.first_message, r.status, a.email AS decided_by
         FROM access_requests r JOIN connectors c ON c.id = r.connector_id JOIN chat_users u ON u.id = r.chat_user_id
         LEFT JOIN accounts a ON a.id = r.decided_by
         WHERE r.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}
