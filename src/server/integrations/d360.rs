//! WhatsApp through 360dialog's Cloud API: notifications are not signed, so the webhook is set
//! up with a secret header that every delivery must carry; replies go to `POST /messages`.

use super::chat::{header, json_body, secret_matches, Inbound, InboundMessage, Refusal, ReplyAddress};
use super::{unreachable, ProviderFailure};
use serde_json::json;

pub const SECRET_HEADER: &str = "x-onboard-secret";

pub fn verify_secret(webhook_secret: &str, headers: &axum::http::HeaderMap) -> Result<(), Refusal> {
    if secret_matches(webhook_secret, header(headers, SECRET_HEADER)) {
        Ok(())
    } else {
        Err(Refusal::unauthorized("the X-Onboard-Secret header is missing or wrong"))
    }
}

/// Every text message in a notification (one may carry several); statuses and other types are skipped.
pub fn decode_notification(body: &[u8]) -> Result<Inbound, Refusal> {
    let notification = json_body(body)?;
    let entries = notification["entry"].as_array().ok_or_else(|| Refusal::malformed("no entry list"))?;
    let mut messages = Vec::new();
    for value in entries.iter().flat_map(|e| e["changes"].as_array().into_iter().flatten()).map(|c| &c["value"]) {
        let contacts = value["contacts"].as_array();
        for message in value["messages"].as_array().into_iter().flatten() {
            let (Some(from), Some(id), Some(text)) =
                (message["from"].as_str(), message["id"].as_str(), message["text"]["body"].as_str())
            else {
                continue;
            };
            let name = contacts
                .into_iter()
                .flatten()
                .find(|c| c["wa_id"].as_str() == Some(from))
                .and_then(|c| c["profile"]["name"].as_str())
                .unwrap_or_default();
            let (first_name, last_name) = super::chat::split_name(name);
            let digits = from.trim_start_matches('+');
            messages.push(InboundMessage {
                platform_user_id: format!("+{digits}"),
                first_name,
                last_name,
                message_id: id.to_string(),
                text: text.to_string(),
                reply_to: ReplyAddress::WhatsApp { to: digits.to_string() },
            });
        }
    }
    Ok(if messages.is_empty() { Inbound::Nothing } else { Inbound::Messages(messages) })
}

pub async fn send_text(
    http: &reqwest::Client,
    base: &str,
    api_key: &str,
    to: &str,
    text: &str,
) -> Result<(), ProviderFailure> {
    let body = json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": { "body": text },
    });
    let response = http
        .post(format!("{}/messages", base.trim_end_matches('/')))
        .header("D360-API-KEY", api_key)
        .json(&body)
        .send()
        .await
        .map_err(|e| unreachable("360dialog", e))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(ProviderFailure::from_response("360dialog", response).await)
    }
}
