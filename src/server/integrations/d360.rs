//! WhatsApp through 360dialog's Cloud API: notifications are not signed, so the webhook is set
//! up with a secret header that every delivery must carry; replies go to `POST /messages`.

use super::provider::{unreachable, ProviderFailure};
use super::shared::{header, json_body, secret_matches, Inbound, InboundMessage, Refusal, ReplyAddress};
use crate::domain::chat_users::MessageKind;
use serde_json::{json, Value};

pub const SECRET_HEADER: &str = "x-onboard-secret";

pub fn verify_secret(webhook_secret: &str, headers: &axum::http::HeaderMap) -> Result<(), Refusal> {
    if secret_matches(webhook_secret, header(headers, SECRET_HEADER)) {
        Ok(())
    } else {
        Err(Refusal::unauthorized("the X-Onboard-Secret header is missing or wrong"))
    }
}

/// Every message in a notification (one may carry several), text or media; statuses and
/// reactions are skipped. A message in a WhatsApp group carries `group_id`: shared.
pub fn decode_notification(body: &[u8]) -> Result<Inbound, Refusal> {
    let notification = json_body(body)?;
    let entries = notification["entry"].as_array().ok_or_else(|| Refusal::malformed("no entry list"))?;
    let mut messages = Vec::new();
    for value in entries.iter().flat_map(|e| e["changes"].as_array().into_iter().flatten()).map(|c| &c["value"]) {
        let contacts = value["contacts"].as_array();
        for message in value["messages"].as_array().into_iter().flatten() {
            let (Some(from), Some(id), Some((kind, text, attachment))) =
                (message["from"].as_str(), message["id"].as_str(), content(message))
            else {
                continue;
            };
            let name = contacts
                .into_iter()
                .flatten()
                .find(|c| c["wa_id"].as_str() == Some(from))
                .and_then(|c| c["profile"]["name"].as_str())
                .unwrap_or_default();
            let (first_name, last_name) = super::shared::split_name(name);
            let digits = from.trim_start_matches('+');
            messages.push(InboundMessage {
                platform_user_id: format!("+{digits}"),
                first_name,
                last_name,
                message_id: id.to_string(),
                text,
                kind,
                attachment,
                // A WhatsApp group (Cloud API `group_id`); the reply still goes to the person.
                shared: message["group_id"].is_string(),
                reply_to: ReplyAddress::WhatsApp { to: digits.to_string() },
            });
        }
    }
    Ok(if messages.is_empty() { Inbound::Nothing } else { Inbound::Messages(messages) })
}

/// A Cloud API message's kind, text (or caption) and media id (or `geo:`/`tel:` URI); `None`
/// for a reaction or a message with no sender content.
fn content(message: &Value) -> Option<(MessageKind, String, Option<String>)> {
    let kind = message["type"].as_str()?;
    let body = &message[kind];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    Some(match kind {
        "text" => (MessageKind::Text, body["body"].as_str()?.to_string(), None),
        // A reply button or list choice reads as what the person tapped.
        "button" => (MessageKind::Text, text(&body["text"]), None),
        "interactive" => {
            let reply = if body["button_reply"].is_object() { &body["button_reply"] } else { &body["list_reply"] };
            match reply["title"].as_str() {
                Some(title) => (MessageKind::Text, title.to_string(), None),
                // A Flows answer (`nfm_reply`) and the like: no words of the person's own.
                None => (MessageKind::Other, String::new(), None),
            }
        }
        "image" | "video" | "audio" | "document" | "sticker" => {
            let kind = match kind {
                "image" => MessageKind::Photo,
                "video" => MessageKind::Video,
                "audio" if body["voice"] == true => MessageKind::Voice,
                "audio" => MessageKind::Audio,
                "sticker" => MessageKind::Sticker,
                _ => MessageKind::Document,
            };
            (kind, text(&body["caption"]), body["id"].as_str().map(String::from))
        }
        "location" => {
            let geo = match (body["latitude"].as_f64(), body["longitude"].as_f64()) {
                (Some(lat), Some(lon)) => Some(format!("geo:{lat},{lon}")),
                _ => None,
            };
            (MessageKind::Location, text(&body["name"]), geo)
        }
        "contacts" => {
            let phone = message["contacts"][0]["phones"][0]["phone"].as_str();
            (MessageKind::Contact, String::new(), phone.map(|p| format!("tel:{}", p.replace(' ', ""))))
        }
        "reaction" | "system" => return None,
        _ => (MessageKind::Other, String::new(), None),
    })
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
