//! The Access Requests panel and the chat users: who asked to talk to the agent, and what was
//! said. Needs `access.review`.

pub mod types;

use crate::domain::chat_users::Decision;
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use types::{AccessFilter, AccessRequestPage, ChatUserDetail, ChatUserPage};

#[cfg(feature = "ssr")]
use super::ssr::*;
#[cfg(feature = "ssr")]
use crate::domain::{chat_users::AccessStatus, Permission};

#[server(input = GetUrl, endpoint = "access_requests")]
pub async fn access_requests(filter: AccessFilter) -> Result<AccessRequestPage, AppError> {
    let caller = require(Permission::AccessReview).await?;
    if !filter.status.is_empty() && AccessStatus::parse(&filter.status).is_none() {
        return Err(AppError::invalid("status", "Choose pending, approved or rejected."));
    }
    let state = state();
    let (rows, total) = db::access_requests::page(&state.db, caller.org_id, &filter).await?;
    let (pending, approved, rejected) = db::access_requests::counts(&state.db, caller.org_id).await?;
    let connectors = db::connectors::names(&state.db, caller.org_id).await?;
    Ok(AccessRequestPage { rows, total, page: filter.page.max(1), pending, approved, rejected, connectors })
}

/// Most requests one decision may cover; the panel's page is smaller.
#[cfg(feature = "ssr")]
const MAX_DECISIONS: usize = 500;

/// Approves or rejects pending requests, or undoes (back to pending) decided ones, one or many;
/// returns how many changed. A request someone decided meanwhile (here or on a card in chat)
/// keeps their decision.
#[server(input = Json, endpoint = "decide_access")]
pub async fn decide_access(ids: Vec<i64>, decision: Decision) -> Result<usize, AppError> {
    let caller = require(Permission::AccessReview).await?;
    if ids.is_empty() {
        return Err(AppError::invalid("", "Select at least one request."));
    }
    if ids.len() > MAX_DECISIONS {
        return Err(AppError::invalid("", format!("Decide at most {MAX_DECISIONS} requests at once.")));
    }
    let state = state();
    let mut change = AuditedChange::begin(&caller).await?;
    let mut decided = Vec::new();
    for id in ids {
        match db::access_requests::decide(&mut change, caller.org_id, id, decision, caller.account_id).await? {
            Some(d) => {
                crate::server::connectors::approvals::after_decision(&mut change, &state, caller.org_id, &d).await?;
                decided.push(d.who);
            }
            // Nothing is decided if any request is not this organization's.
            None if !db::access_requests::exists(&mut change, caller.org_id, id).await? => {
                return Err(AppError::NotFound);
            }
            None => {}
        }
    }
    let count = decided.len();
    if count > 0 {
        change.commit(decision.audit_action(), &decided.join(", ")).await?;
        state.outbox_wake.notify_waiters();
    }
    Ok(count)
}

#[server(input = GetUrl, endpoint = "chat_users")]
pub async fn chat_users(provider: String, search: String, page: i64) -> Result<ChatUserPage, AppError> {
    let caller = require(Permission::AccessReview).await?;
    if !provider.is_empty() && crate::domain::connectors::ChatProvider::parse(&provider).is_none() {
        return Err(AppError::invalid("provider", "Choose a chat provider."));
    }
    let page = page.max(1);
    let (rows, total) = db::chat_users::page(&state().db, caller.org_id, &provider, &search, page).await?;
    Ok(ChatUserPage { rows, total, page })
}

/// Most messages the conversation view shows: the latest ones.
#[cfg(feature = "ssr")]
const HISTORY: i64 = 200;

#[server(input = GetUrl, endpoint = "chat_user")]
pub async fn chat_user(id: i64) -> Result<ChatUserDetail, AppError> {
    let caller = require(Permission::AccessReview).await?;
    let state = state();
    let user = db::chat_users::get(&state.db, caller.org_id, id).await?.ok_or(AppError::NotFound)?;
    let requests = db::access_requests::for_chat_user(&state.db, caller.org_id, id).await?;
    let messages = db::chat_messages::history(&state.db, caller.org_id, id, HISTORY).await?;
    Ok(ChatUserDetail { user, requests, messages })
}
