//! Inbound chat messages: the connector's policy applied to each, and what it leads to queued.

use super::{queue_text, Outgoing};
use crate::domain::chat_users;
use crate::domain::chat_users::{AccessStatus, ChatMessageOrigin, ChatMessageStatus, Direction, Route, Standing};
use crate::server::db::{self, chat_messages::NewChatMessage};
use crate::server::integrations::chat;
use crate::server::integrations::connector::Connector;
use crate::server::integrations::shared::InboundMessage;
use crate::server::outbox::{enqueue_chat, AgentCall, JobPayload, ProfileLookup};
use crate::server::AppState;

/// What became of an inbound message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Receipt {
    Stored(Route),
    /// The same provider message id was stored before: a replay or a provider's retry.
    Duplicate,
}

/// Applies the connector's policy to one message, in one transaction: the sender is recorded,
/// the message logged, and whatever it leads to (the agent call, the onboarding message, the
/// rejection notice) queued in the outbox, so a crash leaves all of it or none.
pub async fn receive(state: &AppState, connector: &Connector, m: &InboundMessage) -> Result<Receipt, sqlx::Error> {
    let text = chat_users::clip_text(&m.text);
    let conversation_id = m.reply_to.conversation_id();
    let mut tx = state.db.begin().await?;
    let sender = db::chat_users::upsert(
        &mut tx,
        connector.org_id,
        connector.id,
        connector.provider.key(),
        &m.platform_user_id,
        &m.first_name,
        &m.last_name,
    )
    .await?;
    let chat_user_id = sender.id;
    let who = db::connectors::Sender {
        org_id: connector.org_id,
        connector_id: connector.id,
        provider: connector.provider,
        platform_id: &m.platform_user_id,
        members_let_in: connector.auto_approve_members,
    };
    let standing = db::connectors::standing(&mut tx, &who).await?;
    let mut request = sender.request;
    if sender.let_in_as_member && standing != Standing::Member {
        // Let in as a member, and no longer one (paused, unmapped, or the rule is off): they ask
        // like anyone.
        request = match db::access_requests::withdraw_let_in(&mut tx, connector.id, chat_user_id).await? {
            // Their request is on an approvers' card, which offers its buttons again.
            Some(pending) => {
                super::approvals::after_decision(&mut tx, state, connector.org_id, &pending).await?;
                Some(AccessStatus::Pending)
            }
            None => None,
        };
    }
    let mut route = chat_users::route(connector.policy, request, standing, m.shared);
    if route == Route::LetIn {
        let first_message = chat_users::shown(m.kind, &text);
        match db::access_requests::let_in(&mut tx, connector.org_id, connector.id, chat_user_id, &first_message).await?
        {
            // A card the approvers still see with its buttons now says they were let in.
            Some(let_in) => super::approvals::after_decision(&mut tx, state, connector.org_id, &let_in).await?,
            None => {
                // Someone decided since the request was read: their decision stands.
                let decided = db::access_requests::status_of(&mut tx, connector.id, chat_user_id).await?;
                route = chat_users::route(connector.policy, decided, Standing::Other, m.shared);
            }
        }
    }
    let status = match route {
        Route::Forward | Route::LetIn => ChatMessageStatus::Forwarded,
        Route::RequestAccess | Route::Keep => ChatMessageStatus::Held,
        Route::Rejected | Route::Ignore | Route::Blocked => ChatMessageStatus::Dropped,
    };
    let message = NewChatMessage {
        org_id: connector.org_id,
        connector_id: connector.id,
        chat_user_id,
        direction: Direction::In,
        kind: ChatMessageOrigin::User,
        text: &text,
        content: m.kind,
        attachment: m.attachment.as_deref(),
        platform_message_id: Some(&m.message_id),
        conversation_id: &conversation_id,
        status,
    };
    let Some(message_id) = db::chat_messages::insert_once(&mut tx, &message).await? else {
        tx.rollback().await?;
        return Ok(Receipt::Duplicate);
    };
    let reply_to = &m.reply_to;
    match route {
        Route::Forward | Route::LetIn => {
            let call = AgentCall {
                message_id,
                connector_id: connector.id,
                reply_to: reply_to.clone(),
                shared: Some(m.shared),
            };
            enqueue_chat(&mut tx, state, connector.org_id, &connector.agent_url, JobPayload::AgentCall(call)).await?;
        }
        Route::RequestAccess => {
            // Only the first message's transaction opens the request; a racing one finds it and just waits.
            let first_message = chat_users::shown(m.kind, &text);
            let reply_address = serde_json::to_string(reply_to).expect("a reply address always serializes");
            let opened = db::access_requests::open_once(
                &mut tx,
                connector.org_id,
                connector.id,
                chat_user_id,
                &first_message,
                &reply_address,
            )
            .await?;
            if let Some(request_id) = opened {
                super::approvals::request_opened(&mut tx, state, connector, request_id).await?;
                let out = Outgoing {
                    kind: ChatMessageOrigin::Onboarding,
                    text: &connector.onboarding_message,
                    answers: None,
                };
                queue_text(&mut tx, state, connector, chat_user_id, reply_to, &out).await?;
            }
        }
        Route::Keep | Route::Ignore | Route::Blocked => {}
        Route::Rejected => {
            if db::access_requests::tell_rejection_once(&mut tx, connector.id, chat_user_id).await? {
                let out =
                    Outgoing { kind: ChatMessageOrigin::Rejection, text: chat_users::REJECTION_NOTICE, answers: None };
                queue_text(&mut tx, state, connector, chat_user_id, reply_to, &out).await?;
            }
        }
    }
    // Someone merely writing in a channel is not looked up: only people the bot deals with are.
    let dealt_with = !matches!(route, Route::Ignore | Route::Blocked);
    if !sender.profile_checked && dealt_with && chat::profile_lookup_helps(connector.provider) {
        db::chat_users::mark_profile_checked(&mut tx, chat_user_id).await?;
        let lookup =
            ProfileLookup { chat_user_id, connector_id: connector.id, platform_id: m.platform_user_id.clone() };
        enqueue_chat(&mut tx, state, connector.org_id, &m.platform_user_id, JobPayload::ChatProfile(lookup)).await?;
    }
    tx.commit().await?;
    Ok(Receipt::Stored(route))
}
