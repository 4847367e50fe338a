//! The conversation log: every message in from a chat user and out to them.

use super::{now_ms, Db};
use crate::domain::chat_users::ChatMessageRow;
use crate::domain::chat_users::{shown, ChatMessageOrigin, ChatMessageStatus, Direction, MessageKind};
use sqlx::{Any, Transaction};

pub struct NewChatMessage<'a> {
    pub org_id: i64,
    pub connector_id: i64,
    pub chat_user_id: i64,
    pub direction: Direction,
    pub kind: ChatMessageOrigin,
    /// The text, or a media message's caption.
    pub text: &'a str,
    pub content: MessageKind,
    /// The provider's reference to a media message's file, or a `geo:`/`tel:` URI.
    pub attachment: Option<&'a str>,
    /// The provider's message id for inbound messages; for an agent's reply, the message it answers.
    pub platform_message_id: Option<&'a str>,
    pub conversation_id: &'a str,
    pub status: ChatMessageStatus,
}

/// Stores a message unless one with the same platform id is already stored for the connector:
/// `None` means a replayed or retried delivery.
pub async fn insert_once(
    tx: &mut Transaction<'static, Any>,
    m: &NewChatMessage<'_>,
) -> Result<Option<i64>, sqlx::Error> {
    let id: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO chat_messages (org_id, connector_id, chat_user_id, direction, kind, text, platform_message_id,
                                    conversation_id, status, at, content_kind, attachment)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (connector_id, platform_message_id) DO NOTHING RETURNING id",
    )
    .bind(m.org_id)
    .bind(m.connector_id)
    .bind(m.chat_user_id)
    .bind(m.direction)
    .bind(m.kind)
    .bind(m.text)
    .bind(m.platform_message_id)
    .bind(m.conversation_id)
    .bind(m.status)
    .bind(now_ms())
    .bind(m.content)
    .bind(m.attachment)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(id.map(|(id,)| id))
}

/// Records what became of a message: in the caller's transaction, or on its own (`&db.pool`).
pub async fn set_status<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    id: i64,
    status: ChatMessageStatus,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE chat_messages SET status = $2, detail = $3 WHERE id = $1")
        .bind(id)
        .bind(status)
        .bind(detail)
        .execute(executor)
        .await?;
    Ok(())
}

/// An inbound message as the agent call needs it.
#[derive(sqlx::FromRow)]
pub struct ForAgent {
    pub id: i64,
    pub org_id: i64,
    pub connector_id: i64,
    pub chat_user_id: i64,
    pub text: String,
    pub platform_message_id: Option<String>,
    pub conversation_id: String,
    pub content: MessageKind,
    pub attachment: Option<String>,
    /// Answered once the agent's reply (or its silence) is recorded.
    pub status: ChatMessageStatus,
}

pub async fn for_agent(db: &Db, id: i64) -> Result<Option<ForAgent>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, org_id, connector_id, chat_user_id, text, platform_message_id, conversation_id,
                content_kind AS content, attachment, status
         FROM chat_messages WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

/// What a logged message is.
pub async fn kind_of(db: &Db, id: i64) -> Result<Option<ChatMessageOrigin>, sqlx::Error> {
    sqlx::query_scalar("SELECT kind FROM chat_messages WHERE id = $1").bind(id).fetch_optional(&db.pool).await
}

#[derive(sqlx::FromRow)]
struct HistoryRow {
    #[sqlx(flatten)]
    message: ChatMessageRow,
    content_kind: MessageKind,
}

/// A chat user's conversation, oldest first (the latest `limit` messages); media reads as its
/// kind and caption ("[photo] …").
pub async fn history(db: &Db, org_id: i64, chat_user_id: i64, limit: i64) -> Result<Vec<ChatMessageRow>, sqlx::Error> {
    let rows: Vec<HistoryRow> = sqlx::query_as(
        "SELECT m.id, c.name AS connector_name, m.direction, m.kind, m.text, m.status, m.detail, m.at, m.content_kind
         FROM chat_messages m JOIN connectors c ON c.id = m.connector_id
         WHERE m.org_id = $1 AND m.chat_user_id = $2 ORDER BY m.id DESC LIMIT $3",
    )
    .bind(org_id)
    .bind(chat_user_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .rev()
        .map(|HistoryRow { message, content_kind }| ChatMessageRow {
            text: shown(content_kind, &message.text),
            ..message
        })
        .collect())
}
