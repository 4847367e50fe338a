//! `POST /webhooks/{key}`: one URL per connector. The request is authenticated the provider's
//! way before anything is stored; then each message gets the connector's policy. The answer goes
//! back at once: the agent is called from the outbox, so a slow agent never delays it.

use super::connectors::approvals;
use super::connectors::intake::{self, Receipt};
use super::db;
use super::integrations::chat;
use super::integrations::shared::{Inbound, WebhookRequest};
use super::AppState;
use crate::domain::connectors::ChatProvider;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

pub async fn receive_route(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let max = state.settings.chat.max_webhook_bytes;
    // A declared size over the limit is refused before a byte of the body is read.
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        tracing::warn!(declared, "refused an oversized webhook");
        return (StatusCode::PAYLOAD_TOO_LARGE, "Too large.").into_response();
    }
    let Ok(bytes) = axum::body::to_bytes(body, max).await else {
        tracing::warn!("refused an oversized or broken webhook body");
        return (StatusCode::PAYLOAD_TOO_LARGE, "Too large.").into_response();
    };
    let well_formed_key =
        !key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let found = if well_formed_key { state.webhook_connectors.get(&state.db, &key).await } else { Ok(None) };
    let connector = match found {
        Ok(Some(connector)) => connector,
        Ok(None) => return (StatusCode::NOT_FOUND, "No such connector.").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "loading a webhook's connector failed");
            // The provider retries later; nothing was stored.
            return (StatusCode::SERVICE_UNAVAILABLE, "Try again later.").into_response();
        }
    };
    if !connector.enabled {
        tracing::warn!(connector = connector.id, "refused a webhook for a disabled connector");
        return (StatusCode::FORBIDDEN, "This connector is disabled.").into_response();
    }
    let public_url = connector.webhook_url(&state.settings);
    let request =
        WebhookRequest { headers: &headers, body: &bytes, public_url: &public_url, now_s: db::now_ms() / 1_000 };
    let inbound = match chat::authenticate(&state.settings, &state.chat, &connector, &request).await {
        Ok(inbound) => inbound,
        Err(refusal) => {
            tracing::warn!(
                connector = connector.id,
                provider = connector.provider.key(),
                reason = %refusal.reason,
                "refused a webhook"
            );
            return (refusal.status, "Refused.").into_response();
        }
    };
    let messages = match inbound {
        Inbound::Challenge(challenge) => return ([(header::CONTENT_TYPE, "text/plain")], challenge).into_response(),
        Inbound::Nothing => return acknowledge(connector.provider),
        Inbound::Decision(click) => {
            return match approvals::decide_in_chat(&state, &connector, &click).await {
                Ok(()) => acknowledge(connector.provider),
                Err(e) => {
                    tracing::error!(connector = connector.id, error = %e, "deciding an access request from chat failed");
                    // Nothing was decided; the person can click again.
                    (StatusCode::SERVICE_UNAVAILABLE, "Try again later.").into_response()
                }
            };
        }
        Inbound::Messages(messages) => messages,
    };
    let mut stored_any = false;
    for message in &messages {
        match intake::receive(&state, &connector, message).await {
            Ok(Receipt::Stored(route)) => {
                stored_any = true;
                tracing::debug!(connector = connector.id, ?route, "chat message received");
            }
            Ok(Receipt::Duplicate) => {
                tracing::warn!(connector = connector.id, message = %message.message_id, "ignored a replayed chat message");
            }
            Err(e) => {
                tracing::error!(connector = connector.id, error = %e, "storing a chat message failed");
                // Messages stored before this one are recognised as duplicates when the provider retries.
                return (StatusCode::SERVICE_UNAVAILABLE, "Try again later.").into_response();
            }
        }
    }
    if stored_any {
        state.outbox_wake.notify_waiters();
    }
    acknowledge(connector.provider)
}

/// Twilio expects TwiML back; an empty response sends nothing of its own.
fn acknowledge(provider: ChatProvider) -> Response {
    match provider {
        ChatProvider::Twilio => {
            ([(header::CONTENT_TYPE, "text/xml")], "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>")
                .into_response()
        }
        _ => (StatusCode::OK, "ok").into_response(),
    }
}
