//! Settings › Webhooks: the organization's endpoints for onboarding events, their secrets
//! (shown once), test events, and each endpoint's delivery log with Replay. Needs
//! `org.settings`.

use crate::domain::events::{EndpointForm, ShownSecret, WebhookDelivery, WebhookEndpoint};
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};

#[cfg(feature = "ssr")]
use super::ssr::*;
#[cfg(feature = "ssr")]
use crate::domain::events::{endpoint_label, EventType, MAX_ENDPOINTS};
#[cfg(feature = "ssr")]
use crate::domain::Permission;
#[cfg(feature = "ssr")]
use crate::server::events;

/// How many deliveries one page of an endpoint's log shows.
pub const DELIVERY_PAGE: i64 = 25;

#[server(input = GetUrl, endpoint = "webhook_endpoints")]
pub async fn webhook_endpoints() -> Result<Vec<WebhookEndpoint>, AppError> {
    let caller = require(Permission::OrgSettings).await?;
    Ok(db::webhook_endpoints::list(&state().db, caller.org_id).await?)
}

/// Checks the form, and where its address leads, before anything is saved.
#[cfg(feature = "ssr")]
async fn checked(form: &EndpointForm) -> Result<crate::domain::events::CheckedEndpoint, AppError> {
    let checked = form.check()?;
    crate::server::outbound::vet(&checked.url, &state().chat.allowed_private_hosts)
        .await
        .map_err(|refused| AppError::invalid("url", refused.0))?;
    Ok(checked)
}

#[cfg(feature = "ssr")]
async fn existing(change: &mut AuditedChange, org_id: i64, id: i64) -> Result<WebhookEndpoint, AppError> {
    db::webhook_endpoints::one(change, org_id, id).await?.ok_or(AppError::NotFound)
}

/// Adds an endpoint; its secret is in the answer, and never again.
#[server(input = Json, endpoint = "create_webhook_endpoint")]
pub async fn create_webhook_endpoint(form: EndpointForm) -> Result<ShownSecret, AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let checked = checked(&form).await?;
    let (state, secret) = (state(), events::new_secret());
    let mut change = AuditedChange::begin(&caller).await?;
    // Two adds at once on PostgreSQL would each miss the other's row in their count.
    db::organizations::lock(&mut change, state.db.backend, caller.org_id).await?;
    let created = db::webhook_endpoints::create(&mut change, &state.db.key, caller.org_id, &checked, secret.expose());
    let Some(id) = created.await? else {
        return Err(AppError::Conflict(format!(
            "An organization may have at most {MAX_ENDPOINTS} endpoints: delete one you no longer use first."
        )));
    };
    change.commit("webhook.create", &endpoint_label(id, &checked.url)).await?;
    Ok(ShownSecret { endpoint_id: id, secret: secret.expose().to_string() })
}

/// Saves an edit of an endpoint's address, description and events; its secret stays.
#[server(input = Json, endpoint = "update_webhook_endpoint")]
pub async fn update_webhook_endpoint(id: i64, form: EndpointForm) -> Result<(), AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let checked = checked(&form).await?;
    let mut change = AuditedChange::begin(&caller).await?;
    if !db::webhook_endpoints::update(&mut change, caller.org_id, id, &checked).await? {
        return Err(AppError::NotFound);
    }
    change.commit("webhook.update", &endpoint_label(id, &checked.url)).await
}

/// Turns an endpoint off, or on again: on forgets its run of failures, and it hears events
/// from then on (those in between are in no log; nothing was queued for it).
#[server(endpoint = "set_webhook_endpoint_enabled")]
pub async fn set_webhook_endpoint_enabled(id: i64, enabled: bool) -> Result<(), AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let mut change = AuditedChange::begin(&caller).await?;
    let endpoint = existing(&mut change, caller.org_id, id).await?;
    if !db::webhook_endpoints::set_enabled(&mut change, caller.org_id, id, enabled).await? {
        let now = if enabled { "on" } else { "off" };
        return Err(AppError::Conflict(format!("This endpoint is {now} already; reload the page.")));
    }
    let action = if enabled { "webhook.enable" } else { "webhook.disable" };
    change.commit(action, &endpoint_label(id, &endpoint.url)).await
}

/// A new secret for an endpoint, shown once; the old one keeps signing beside it for 24 hours,
/// so the receiver can switch over without refusing a delivery.
#[server(endpoint = "rotate_webhook_secret")]
pub async fn rotate_webhook_secret(id: i64) -> Result<ShownSecret, AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let secret = events::new_secret();
    let mut change = AuditedChange::begin(&caller).await?;
    let endpoint = existing(&mut change, caller.org_id, id).await?;
    db::webhook_endpoints::rotate(&mut change, &state().db.key, caller.org_id, id, secret.expose()).await?;
    change.commit("webhook.rotate_secret", &endpoint_label(id, &endpoint.url)).await?;
    Ok(ShownSecret { endpoint_id: id, secret: secret.expose().to_string() })
}

/// Deletes an endpoint and its delivery log; deliveries still queued for it fail.
#[server(endpoint = "delete_webhook_endpoint")]
pub async fn delete_webhook_endpoint(id: i64) -> Result<(), AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let mut change = AuditedChange::begin(&caller).await?;
    let url = db::webhook_endpoints::delete(&mut change, caller.org_id, id).await?.ok_or(AppError::NotFound)?;
    change.commit("webhook.delete", &endpoint_label(id, &url)).await
}

/// A `webhook.test` event, sent to this endpoint alone.
#[server(endpoint = "send_test_webhook")]
pub async fn send_test_webhook(id: i64) -> Result<(), AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let state = state();
    let mut change = AuditedChange::begin(&caller).await?;
    let endpoint = existing(&mut change, caller.org_id, id).await?;
    if endpoint.disabled_at.is_some() {
        return Err(AppError::Conflict("This endpoint is turned off: turn it on to send it a test event.".into()));
    }
    let data = events::TestData { endpoint_id: id, message: "A test event from Onboard." };
    events::emit_to(&mut change, &state.db.key, caller.org_id, &[id], EventType::WebhookTest, &data).await?;
    change.commit("webhook.test", &endpoint_label(id, &endpoint.url)).await?;
    state.outbox_wake.notify_waiters();
    Ok(())
}

/// Sends a delivered or failed delivery again, with its `webhook-id` and body as they were.
#[server(endpoint = "replay_webhook_delivery")]
pub async fn replay_webhook_delivery(id: i64) -> Result<(), AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let state = state();
    let mut change = AuditedChange::begin(&caller).await?;
    let Some(replay) = db::webhook_endpoints::replay(&mut change, caller.org_id, id).await? else {
        if !db::webhook_endpoints::has_delivery(&mut change, caller.org_id, id).await? {
            return Err(AppError::NotFound);
        }
        return Err(AppError::Conflict("This delivery is on its way already, or its endpoint is turned off.".into()));
    };
    events::queue(&mut change, &state.db.key, caller.org_id, replay.endpoint_id, replay.event_type, id).await?;
    change.commit("webhook.replay", &format!("{} to endpoint #{}", replay.message_id, replay.endpoint_id)).await?;
    state.outbox_wake.notify_waiters();
    Ok(())
}

/// An endpoint's delivery log, newest first, [`DELIVERY_PAGE`] at a time: those before
/// `before` (a delivery id), or the newest.
#[server(input = GetUrl, endpoint = "webhook_deliveries")]
pub async fn webhook_deliveries(
    endpoint: i64,
    #[server(default)] before: Option<i64>,
) -> Result<Vec<WebhookDelivery>, AppError> {
    let caller = require(Permission::OrgSettings).await?;
    db::webhook_endpoints::deliveries(&state().db, caller.org_id, endpoint, before, DELIVERY_PAGE)
        .await?
        .ok_or(AppError::NotFound)
}
