//! The Connectors page: chat providers with their credentials, agent endpoint, and onboarding
//! policy. Needs `connectors.manage`.

pub mod types;

use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use types::{ConnectorCard, ConnectorDraft};

#[cfg(feature = "ssr")]
use super::ssr::*;
#[cfg(feature = "ssr")]
use crate::domain::{connectors as rules, Permission};
#[cfg(feature = "ssr")]
use crate::server::{connectors, integrations::connector::Connector};

#[server(input = GetUrl, endpoint = "connectors")]
pub async fn connectors() -> Result<Vec<ConnectorCard>, AppError> {
    let caller = require(Permission::ConnectorsManage).await?;
    let state = state();
    let mut blocked: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
    for (connector, platform_id) in db::connectors::blocked(&state.db, caller.org_id).await? {
        blocked.entry(connector).or_default().push(platform_id);
    }
    // Sorted here, not by the database, whose collations differ: as set_connector_rules answers.
    blocked.values_mut().for_each(|ids| ids.sort());
    let mut cards = Vec::new();
    for (stored, pending, people) in db::connectors::list(&state.db, caller.org_id).await? {
        let deny_list = blocked.remove(&stored.id).unwrap_or_default();
        cards.push(Connector::try_from(stored)?.card(&state.settings, pending, people, deny_list));
    }
    Ok(cards)
}

#[cfg(feature = "ssr")]
async fn existing(caller: &crate::server::auth::Caller, id: i64) -> Result<Connector, AppError> {
    connectors::load(&state(), caller.org_id, id).await?.ok_or(AppError::NotFound)
}

/// Commits a connector change and lets this instance's webhooks see it at once.
#[cfg(feature = "ssr")]
async fn commit(change: AuditedChange, action: &str, detail: &str) -> Result<(), AppError> {
    change.commit(action, detail).await?;
    state().webhook_connectors.forget_all();
    Ok(())
}

#[cfg(feature = "ssr")]
fn name_taken(e: sqlx::Error, name: &str) -> AppError {
    if db::is_unique_violation(&e) {
        AppError::invalid("name", format!("A connector named {name} already exists."))
    } else {
        e.into()
    }
}

/// Creates a connector (no id) or saves an edit; returns its id.
#[server(input = Json, endpoint = "save_connector")]
pub async fn save_connector(draft: ConnectorDraft) -> Result<i64, AppError> {
    let caller = require(Permission::ConnectorsManage).await?;
    let before = match draft.id {
        Some(id) => Some(existing(&caller, id).await?),
        None => None,
    };
    let checked = connectors::check_draft(&draft, before.as_ref())?;
    crate::server::outbound::vet(&checked.agent_url, &state().chat.allowed_private_hosts)
        .await
        .map_err(|refused| AppError::invalid("agent_url", refused.0))?;
    let mut change = AuditedChange::begin(&caller).await?;
    let (id, action) = match &before {
        None => {
            let id = connectors::create(&mut change, &state().db.key, caller.org_id, &checked)
                .await
                .map_err(|e| name_taken(e, &checked.name))?;
            (id, "connector.create")
        }
        Some(c) => {
            connectors::update(&mut change, &state().db.key, caller.org_id, c.id, &checked)
                .await
                .map_err(|e| name_taken(e, &checked.name))?;
            (c.id, "connector.update")
        }
    };
    commit(change, action, &format!("{} ({})", checked.name, checked.provider.label())).await?;
    Ok(id)
}

#[server(endpoint = "set_connector_enabled")]
pub async fn set_connector_enabled(id: i64, enabled: bool) -> Result<(), AppError> {
    let caller = require(Permission::ConnectorsManage).await?;
    let connector = existing(&caller, id).await?;
    let mut change = AuditedChange::begin(&caller).await?;
    db::connectors::set_enabled(&mut change, caller.org_id, id, enabled).await?;
    let action = if enabled { "connector.enable" } else { "connector.disable" };
    commit(change, action, &connector.name).await
}

/// The Onboarding toggle: on = OnBoarding with its message, off = AllowAll. The message is kept
/// when switching off, so switching on again does not lose it.
#[server(endpoint = "set_connector_policy")]
pub async fn set_connector_policy(id: i64, onboarding: bool, message: String) -> Result<(), AppError> {
    let caller = require(Permission::ConnectorsManage).await?;
    let connector = existing(&caller, id).await?;
    let policy = if onboarding { rules::Policy::OnBoarding } else { rules::Policy::AllowAll };
    let message = rules::check_policy(policy, &message)?;
    let message = if message.is_empty() { connector.onboarding_message.clone() } else { message };
    let mut change = AuditedChange::begin(&caller).await?;
    db::connectors::set_policy(&mut change, caller.org_id, id, policy.key(), &message).await?;
    commit(change, "connector.policy", &format!("{}: {}", connector.name, policy.label())).await
}

/// The connector's rules: `members` (a checkbox: present when ticked) lets in, without a
/// request, people whose Slack or Teams identity is mapped to an Active member; `blocked` is the
/// deny list, one platform id a line, whose people are never forwarded and never ask for access.
/// Answers the deny list as stored.
#[server(endpoint = "set_connector_rules")]
pub async fn set_connector_rules(
    id: i64,
    members: Option<String>,
    #[server(default)] blocked: String,
) -> Result<Vec<String>, AppError> {
    let caller = require(Permission::ConnectorsManage).await?;
    let connector = existing(&caller, id).await?;
    let blocked = rules::check_rules(connector.provider, members.is_some(), &blocked)?;
    let mut change = AuditedChange::begin(&caller).await?;
    let backend = state().db.backend;
    if !db::connectors::set_rules(&mut change, backend, caller.org_id, id, members.is_some(), &blocked).await? {
        return Err(AppError::NotFound);
    }
    let members = if members.is_some() { "members let in" } else { "members ask like anyone" };
    commit(change, "connector.rules", &format!("{}: {members}; {} blocked", connector.name, blocked.len())).await?;
    Ok(blocked)
}

/// Approvals in chat: `via` (a connector id, or empty for none) is the organization's Slack or
/// Teams connector whose bot posts this connector's new access requests, as cards with Approve
/// and Reject, in `conversation` (a Slack channel ID, or a Teams channel or group chat ID);
/// `message` tells a requester they are approved, wherever they were approved.
#[server(endpoint = "set_connector_approvals")]
pub async fn set_connector_approvals(
    id: i64,
    #[server(default)] via: String,
    #[server(default)] conversation: String,
    message: String,
) -> Result<(), AppError> {
    let caller = require(Permission::ConnectorsManage).await?;
    let connector = existing(&caller, id).await?;
    let message = rules::check_approval_message(&message)?;
    let via = match via.trim() {
        "" => None,
        v => {
            let via_id: i64 =
                v.parse().map_err(|_| AppError::invalid("via", "Choose a Slack or Microsoft Teams connector."))?;
            let poster = match via_id == id {
                true => connector.clone(),
                false => connectors::load(&state(), caller.org_id, via_id)
                    .await?
                    .ok_or_else(|| AppError::invalid("via", "That connector no longer exists: choose another."))?,
            };
            let conversation = rules::check_approvers_conversation(poster.provider, &conversation)?;
            if conversation.is_empty() {
                return Err(AppError::invalid("conversation", "Give the ID of the conversation the approvers read."));
            }
            Some((via_id, poster.name, conversation))
        }
    };
    let mut change = AuditedChange::begin(&caller).await?;
    let target = via.as_ref().map(|(v, _, c)| (*v, c.as_str()));
    if !db::connectors::set_approvals(&mut change, caller.org_id, id, target, &message).await? {
        return Err(AppError::NotFound);
    }
    let detail = match &via {
        Some((_, poster, conversation)) => format!("{}: requests posted by {poster} to {conversation}", connector.name),
        None => format!("{}: requests decided in the panel only", connector.name),
    };
    commit(change, "connector.approvals", &detail).await
}

/// Removes a connector with its access requests and conversation log.
#[server(endpoint = "delete_connector")]
pub async fn delete_connector(id: i64) -> Result<(), AppError> {
    let caller = require(Permission::ConnectorsManage).await?;
    let connector = existing(&caller, id).await?;
    let mut change = AuditedChange::begin(&caller).await?;
    db::connectors::delete(&mut change, caller.org_id, id).await?;
    commit(change, "connector.delete", &connector.name).await
}
