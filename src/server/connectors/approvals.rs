//! Approvals in chat: each new access request posted as a card with Approve and Reject in the
//! approvers' Slack channel or Teams conversation, decided there or in the panel, the card kept
//! up to date in place, and the requester told once approved.

use super::{connector_for_job, queue_text, Outgoing};
use crate::domain::chat_users::{self, AccessStatus, ChatMessageOrigin, RequestCard};
use crate::domain::connectors::ChatProvider;
use crate::domain::events::EventType;
use crate::domain::{Permission, PermissionSet};
use crate::server::db::{self, access_requests::CardRow, access_requests::Decided};
use crate::server::events::{self, About};
use crate::server::integrations::chat;
use crate::server::integrations::connector::Connector;
use crate::server::integrations::provider::ProviderFailure;
use crate::server::integrations::shared::{CardRef, ChatDecision, ReplyAddress};
use crate::server::integrations::{slack, teams};
use crate::server::outbox::{enqueue_chat, ApprovalCard, ChatNotice, JobPayload};
use crate::server::AppState;
use sqlx::{Any, Transaction};

/// Queues the card of a request just opened, when the connector posts its requests for the
/// approvers, and tells the webhook endpoints listening for `access_request.created`.
pub async fn request_opened(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    connector: &Connector,
    request_id: i64,
) -> Result<(), sqlx::Error> {
    let created = EventType::AccessRequestCreated;
    events::emit(tx, &state.db.key, connector.org_id, created, About::AccessRequest(request_id)).await?;
    if connector.approvals.is_some() {
        queue_card(tx, state, connector.org_id, request_id).await?;
    }
    Ok(())
}

async fn queue_card(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    org_id: i64,
    request_id: i64,
) -> Result<(), sqlx::Error> {
    let recipient = format!("Access request #{request_id}");
    enqueue_chat(tx, state, org_id, &recipient, JobPayload::ApprovalCard(ApprovalCard { request_id })).await?;
    Ok(())
}

/// What follows a decision, in its own transaction, wherever it was made (the panel, a card, a
/// connector's rule): the requester told (once) that they are approved, the card brought up to
/// date, and `access_request.decided` told to the webhook endpoints listening.
pub async fn after_decision(
    tx: &mut Transaction<'static, Any>,
    state: &AppState,
    org_id: i64,
    decided: &Decided,
) -> Result<(), sqlx::Error> {
    events::emit(tx, &state.db.key, org_id, EventType::AccessRequestDecided, About::AccessRequest(decided.id)).await?;
    if decided.status == AccessStatus::Approved {
        if let Some((connector_id, chat_user_id, reply_to)) =
            db::access_requests::tell_approval_once(tx, decided.id).await?
        {
            let connector = db::connectors::by_id_in(tx, &state.db.key, connector_id)
                .await?
                .map(Connector::try_from)
                .transpose()?;
            // An address stored by an older version that no longer reads is not worth failing the decision.
            if let (Some(connector), Ok(reply_to)) = (connector, serde_json::from_str::<ReplyAddress>(&reply_to)) {
                let out =
                    Outgoing { kind: ChatMessageOrigin::Approval, text: &connector.approval_message, answers: None };
                queue_text(tx, state, &connector, chat_user_id, &reply_to, &out).await?;
            }
        }
    }
    if decided.on_card {
        queue_card(tx, state, org_id, decided.id).await?;
    }
    Ok(())
}

/// A click on a card's Approve or Reject, heard by the Slack or Teams connector `via`. Only an
/// Active member holding `access.review`, by the chat identity mapped to them, decides, and only
/// a pending request: anyone else, and any later click, gets a private answer. The decision, its
/// audit entry and what follows it are one transaction.
pub async fn decide_in_chat(state: &AppState, via: &Connector, click: &ChatDecision) -> Result<(), sqlx::Error> {
    let mut tx = state.db.begin().await?;
    let member = db::identities::active_member(&mut tx, via.org_id, via.provider.key(), &click.approver).await?;
    let approver = member.filter(|(_, role)| PermissionSet::parse(role).contains(Permission::AccessReview));
    let answer = match approver {
        None => Some(chat_users::ONLY_APPROVERS.to_string()),
        Some((account_id, _)) => {
            let decided =
                db::access_requests::decide(&mut tx, via.org_id, click.request_id, click.decision, account_id).await?;
            match decided {
                Some(decided) => {
                    let detail = format!("{} (in {}, as {})", decided.who, via.provider.label(), click.approver);
                    db::audit::record(&mut tx, via.org_id, account_id, click.decision.audit_action(), &detail).await?;
                    after_decision(&mut tx, state, via.org_id, &decided).await?;
                    None
                }
                None => Some(already_decided(&mut tx, via, click.request_id).await?),
            }
        }
    };
    if let Some(text) = answer {
        let notice = ChatNotice { connector_id: via.id, provider: via.provider, to: click.notice_to.clone(), text };
        enqueue_chat(&mut tx, state, via.org_id, &click.approver, JobPayload::ChatNotice(notice)).await?;
    }
    tx.commit().await?;
    state.outbox_wake.notify_waiters();
    Ok(())
}

/// The answer to a click on a request decided before: who decided, and when, as the provider writes it.
async fn already_decided(
    tx: &mut Transaction<'static, Any>,
    via: &Connector,
    request_id: i64,
) -> Result<String, sqlx::Error> {
    let row = db::access_requests::card_row(&mut **tx, request_id).await?.filter(|r| r.org_id == via.org_id);
    let Some(card) = row.as_ref().and_then(request_card) else {
        return Ok("This access request no longer exists.".to_string());
    };
    let outcome = chat_users::card_outcome(card.status, card.decided_by.as_deref()).unwrap_or_default();
    let at = card.decided_at.unwrap_or_else(db::now_ms);
    Ok(match via.provider {
        ChatProvider::Slack => {
            chat_users::already_decided(&crate::domain::message::escape_slack(&outcome), &slack::decided_when(at))
        }
        _ => chat_users::already_decided(&outcome, &teams::decided_when(at)),
    })
}

/// A request as its card shows it; `None` when its stored status no longer reads.
fn request_card(row: &CardRow) -> Option<RequestCard> {
    let decided_by = match (&row.decider_first, &row.decider_last, &row.decider_email) {
        (Some(first), Some(last), Some(email)) => Some(chat_users::display_name(first, last, email)),
        _ => None,
    };
    Some(RequestCard {
        request_id: row.id,
        connector: row.connector_name.clone(),
        platform: ChatProvider::parse(&row.provider)?.label(),
        name: chat_users::display_name(&row.first_name, &row.last_name, &row.platform_id),
        platform_id: row.platform_id.clone(),
        avatar_url: row.avatar_url.clone(),
        first_message: row.first_message.clone(),
        status: AccessStatus::parse(&row.status)?,
        decided_by,
        decided_at: row.decided_at,
    })
}

/// The outbox's card job: posts the request's card in the approvers' conversation, or updates
/// the one posted, to show the request as it stands now. A request whose connector stopped
/// posting cards before its card went out gets none. Card jobs for one request may run side by
/// side, so each reads the request again after its update and goes on until what it showed is
/// what stands: whichever finishes last leaves the card right.
pub async fn show_card(state: &AppState, job: &ApprovalCard) -> Result<&'static str, ProviderFailure> {
    let (row, mut card) = current(state, job.request_id).await?;
    let (via, posted) = match &row.card {
        Some(posted) => {
            let posted: CardRef = serde_json::from_str(posted)
                .map_err(|_| ProviderFailure::permanent("the posted card's address is unreadable"))?;
            let via = card_connector(state, posted.connector_id(), row.org_id).await?;
            chat::update_card(&state.settings, &state.chat, &via, &posted, &card).await?;
            (via, posted)
        }
        None => {
            let Some(via_id) = row.approvals_via.filter(|_| !row.approvers_conversation.is_empty()) else {
                return Ok("card");
            };
            let via = card_connector(state, via_id, row.org_id).await?;
            let posted =
                chat::post_card(&state.settings, &state.chat, &via, &row.approvers_conversation, &card).await?;
            let stored = |e: sqlx::Error| ProviderFailure::transient(format!("storing the card: {e}"));
            let json = serde_json::to_string(&posted).expect("a card address always serializes");
            if !db::access_requests::set_card(&state.db, row.id, &json).await.map_err(stored)? {
                tracing::warn!(request = row.id, "an approvers' card was posted again by a retried job");
            }
            (via, posted)
        }
    };
    // A decision or a profile that arrived meanwhile found a card showing something else.
    for _ in 0..MAX_CATCH_UPS {
        let (_, now) = current(state, job.request_id).await?;
        if now == card {
            break;
        }
        chat::update_card(&state.settings, &state.chat, &via, &posted, &now).await?;
        card = now;
    }
    Ok(via.provider.key())
}

/// How many times one card job brings its card up to date after changes it did not show; any
/// change after that has its own job.
const MAX_CATCH_UPS: usize = 3;

/// The request as stored and as its card shows it now.
async fn current(state: &AppState, request_id: i64) -> Result<(CardRow, RequestCard), ProviderFailure> {
    let row = db::access_requests::card_row(&state.db.pool, request_id)
        .await
        .map_err(|e| ProviderFailure::transient(format!("loading the access request: {e}")))?
        .ok_or_else(|| ProviderFailure::permanent("the access request was deleted"))?;
    let card = request_card(&row).ok_or_else(|| ProviderFailure::permanent("the access request is unreadable"))?;
    Ok((row, card))
}

/// A chat user's name or picture arrived from the provider: the cards already showing their
/// requests are brought up to date. (A card still on its way reads them when it is posted.)
pub async fn profile_arrived(state: &AppState, chat_user_id: i64) -> Result<(), sqlx::Error> {
    let requests = db::access_requests::carded(&state.db, chat_user_id).await?;
    if requests.is_empty() {
        return Ok(());
    }
    let mut tx = state.db.begin().await?;
    for (org_id, request_id) in requests {
        queue_card(&mut tx, state, org_id, request_id).await?;
    }
    tx.commit().await?;
    state.outbox_wake.notify_waiters();
    Ok(())
}

/// The Slack or Teams connector that posts (or posted) an organization's cards, while enabled.
async fn card_connector(state: &AppState, id: i64, org_id: i64) -> Result<Connector, ProviderFailure> {
    let via = connector_for_job(state, id).await?;
    if via.org_id != org_id {
        return Err(ProviderFailure::permanent("the card's connector is another organization's"));
    }
    if !via.enabled {
        return Err(ProviderFailure::permanent(format!("{} is disabled", via.name)));
    }
    Ok(via)
}

/// The outbox's job for a private answer to a click.
pub async fn send_notice(state: &AppState, notice: &ChatNotice) -> Result<&'static str, ProviderFailure> {
    let via = connector_for_job(state, notice.connector_id).await?;
    chat::send_notice(&state.settings, &state.chat, &via, &notice.to, &notice.text).await?;
    Ok(via.provider.key())
}
