//! Telegram's Bot API: updates arrive with the webhook's secret token in a header; replies go
//! out through `sendMessage`; a sender's picture through `getUserProfilePhotos` and `getFile`.

use super::provider::{unreachable, ProviderFailure};
use super::shared::{header, json_body, secret_matches, Inbound, InboundMessage, Refusal, ReplyAddress};
use crate::domain::chat_users::MessageKind;
use base64::Engine;
use serde_json::{json, Value};

/// `setWebhook`'s `secret_token` comes back in this header on every update.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

pub fn verify_secret(secret_token: &str, headers: &axum::http::HeaderMap) -> Result<(), Refusal> {
    if secret_matches(secret_token, header(headers, SECRET_HEADER)) {
        Ok(())
    } else {
        Err(Refusal::unauthorized("the secret token is missing or wrong"))
    }
}

/// A message from a person: text, or media with its caption; other updates (edits, joins, a
/// bot's posts, service messages) carry none. Groups, supergroups and channels are shared.
pub fn decode_update(body: &[u8]) -> Result<Inbound, Refusal> {
    let update = json_body(body)?;
    let update_id = update["update_id"].as_i64().ok_or_else(|| Refusal::malformed("no update_id"))?;
    let message = &update["message"];
    let from = &message["from"];
    let (Some(user_id), Some(chat_id), Some((kind, attachment))) =
        (from["id"].as_i64(), message["chat"]["id"].as_i64(), content(message))
    else {
        return Ok(Inbound::Nothing);
    };
    // A bot, or a post made as a chat (a channel's post forwarded into its discussion group):
    // not a person writing.
    if from["is_bot"] == true || message["sender_chat"].is_object() || message["is_automatic_forward"] == true {
        return Ok(Inbound::Nothing);
    }
    let name = |key: &str| from[key].as_str().unwrap_or_default().to_string();
    let text = message["text"].as_str().or(message["caption"].as_str()).unwrap_or_default();
    Ok(Inbound::Messages(vec![InboundMessage {
        platform_user_id: user_id.to_string(),
        first_name: name("first_name"),
        last_name: name("last_name"),
        message_id: update_id.to_string(),
        text: text.to_string(),
        kind,
        attachment,
        shared: message["chat"]["type"].as_str() != Some("private"),
        reply_to: ReplyAddress::Telegram { chat_id },
    }]))
}

/// What a Bot API `Message` carries and the `file_id` of its file, if any; `None` for service
/// messages (someone joined, a pinned message).
fn content(message: &Value) -> Option<(MessageKind, Option<String>)> {
    if message["text"].is_string() {
        return Some((MessageKind::Text, None));
    }
    let file = |v: &Value| v["file_id"].as_str().map(String::from);
    // Several sizes, smallest first: the largest is the photo.
    if let Some(sizes) = message["photo"].as_array() {
        return Some((MessageKind::Photo, sizes.last().and_then(file)));
    }
    // An animation also carries a `document`, so it is looked at first.
    for (field, kind) in [
        ("voice", MessageKind::Voice),
        ("video_note", MessageKind::Video),
        ("animation", MessageKind::Video),
        ("video", MessageKind::Video),
        ("audio", MessageKind::Audio),
        ("sticker", MessageKind::Sticker),
        ("document", MessageKind::Document),
    ] {
        if message[field].is_object() {
            return Some((kind, file(&message[field])));
        }
    }
    let place = if message["venue"].is_object() { &message["venue"]["location"] } else { &message["location"] };
    if let (Some(lat), Some(lon)) = (place["latitude"].as_f64(), place["longitude"].as_f64()) {
        return Some((MessageKind::Location, Some(format!("geo:{lat},{lon}"))));
    }
    if message["contact"].is_object() {
        let number = message["contact"]["phone_number"].as_str().map(|n| format!("tel:{}", n.replace(' ', "")));
        return Some((MessageKind::Contact, number));
    }
    let other = ["poll", "dice", "game", "story", "paid_media", "giveaway", "invoice", "checklist"];
    other.iter().any(|f| message[*f].is_object()).then_some((MessageKind::Other, None))
}

fn method_url(base: &str, token: &str, method: &str) -> String {
    format!("{}/bot{token}/{method}", base.trim_end_matches('/'))
}

/// Calls a Bot API method: `{ok: true, result}` or `{ok: false, error_code, description}`.
async fn call(http: &reqwest::Client, url: String, body: Value) -> Result<Value, ProviderFailure> {
    let response = http.post(url).json(&body).send().await.map_err(|e| unreachable("Telegram", e))?;
    let status = response.status();
    let retry_after = response.headers().get(reqwest::header::RETRY_AFTER).is_some();
    if !status.is_success() && retry_after {
        return Err(ProviderFailure::from_response("Telegram", response).await);
    }
    let answer: Value = response.json().await.map_err(|e| {
        ProviderFailure::transient(format!("Telegram answered {status}: {}", crate::server::outbound::without_url(&e)))
    })?;
    if answer["ok"] == true {
        return Ok(answer["result"].clone());
    }
    let description = answer["description"].as_str().unwrap_or("no description");
    let message = format!("Telegram answered {status}: {description}");
    Err(match answer["error_code"].as_i64().unwrap_or(status.as_u16() as i64) {
        429 => ProviderFailure {
            retry_after_ms: answer["parameters"]["retry_after"].as_i64().map(|s| s.clamp(0, 3_600) * 1_000),
            ..ProviderFailure::transient(message)
        },
        code if (400..500).contains(&code) => ProviderFailure::permanent(message),
        _ => ProviderFailure::transient(message),
    })
}

/// Plain text (no parse mode), so nothing in it is ever read as markup.
pub async fn send_message(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    chat_id: i64,
    text: &str,
) -> Result<(), ProviderFailure> {
    call(http, method_url(base, token, "sendMessage"), json!({ "chat_id": chat_id, "text": text })).await.map(|_| ())
}

/// Largest picture kept; the smallest size Telegram offers is far below it.
const MAX_AVATAR_BYTES: usize = 64 * 1024;

/// The person's current profile picture as a data URL: Telegram's file links carry the bot
/// token, so the image itself is kept rather than a link to it.
pub async fn avatar(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    user_id: &str,
) -> Result<Option<String>, ProviderFailure> {
    let user_id: i64 = user_id.parse().map_err(|_| ProviderFailure::permanent("not a Telegram user id"))?;
    let photos =
        call(http, method_url(base, token, "getUserProfilePhotos"), json!({ "user_id": user_id, "limit": 1 })).await?;
    // Each photo comes in several sizes, smallest first.
    let Some(file_id) = photos["photos"][0][0]["file_id"].as_str() else {
        return Ok(None);
    };
    let file = call(http, method_url(base, token, "getFile"), json!({ "file_id": file_id })).await?;
    let Some(path) = file["file_path"].as_str() else {
        return Ok(None);
    };
    let url = format!("{}/file/bot{token}/{path}", base.trim_end_matches('/'));
    let response = http.get(url).send().await.map_err(|e| unreachable("Telegram", e))?;
    if !response.status().is_success() {
        return Err(ProviderFailure::from_response("Telegram", response).await);
    }
    let bytes = response.bytes().await.map_err(|e| unreachable("Telegram", e))?;
    if bytes.len() > MAX_AVATAR_BYTES {
        return Ok(None);
    }
    let mime = if path.ends_with(".png") { "image/png" } else { "image/jpeg" };
    Ok(Some(format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(&bytes))))
}
