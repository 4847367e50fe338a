//! Twilio SMS and WhatsApp: inbound messages are form posts signed with `X-Twilio-Signature`;
//! replies go through the Messages API.

use super::provider::{unreachable, ProviderFailure};
use super::shared::{header, Inbound, InboundMessage, Refusal, ReplyAddress};
use crate::domain::chat_users::MessageKind;
use base64::Engine;
use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;

pub struct Account<'a> {
    pub sid: &'a str,
    pub auth_token: &'a str,
}

/// The form's fields, decoded; a body that is not a form is refused.
pub fn form_params(body: &[u8]) -> Result<Vec<(String, String)>, Refusal> {
    let text = std::str::from_utf8(body).map_err(|_| Refusal::malformed("the form is not UTF-8"))?;
    if text.trim_start().starts_with('{') || text.trim_start().starts_with('<') {
        return Err(Refusal::malformed("the body is not a form"));
    }
    Ok(url::form_urlencoded::parse(text.as_bytes()).into_owned().collect())
}

/// base64(HMAC-SHA1(auth token, URL + each parameter sorted by name as name+value)), where the
/// URL is the one configured at Twilio (ours, from configuration, never from request headers).
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

pub fn verify_signature(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    headers: &axum::http::HeaderMap,
) -> Result<(), Refusal> {
    let presented =
        header(headers, "x-twilio-signature").ok_or_else(|| Refusal::unauthorized("no X-Twilio-Signature"))?;
    let expected = signature(auth_token, url, params);
    if auth_token.is_empty() || !bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) {
        return Err(Refusal::unauthorized("the signature does not match"));
    }
    Ok(())
}

pub fn decode_message(params: &[(String, String)]) -> Result<Inbound, Refusal> {
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let (Some(from), Some(to), Some(sid)) = (get("From"), get("To"), get("MessageSid")) else {
        return Err(Refusal::malformed("From, To and MessageSid are required"));
    };
    let text = get("Body").unwrap_or_default();
    // MMS and WhatsApp media come as numbered URLs; a WhatsApp location as coordinates.
    let media = get("NumMedia").and_then(|n| n.parse::<u32>().ok()).unwrap_or(0) > 0;
    let (kind, attachment) = match (media, get("Latitude"), get("Longitude")) {
        (true, _, _) => {
            let kind = match get("MediaContentType0").unwrap_or_default() {
                "text/vcard" | "text/x-vcard" => MessageKind::Contact,
                mime => MessageKind::of_mime_type(mime),
            };
            (kind, get("MediaUrl0").map(String::from))
        }
        (false, Some(lat), Some(lon)) => (MessageKind::Location, Some(format!("geo:{lat},{lon}"))),
        _ if text.is_empty() => return Ok(Inbound::Nothing),
        _ => (MessageKind::Text, None),
    };
    let (first_name, last_name) = super::shared::split_name(get("ProfileName").unwrap_or_default());
    Ok(Inbound::Messages(vec![InboundMessage {
        platform_user_id: from.trim_start_matches("whatsapp:").to_string(),
        first_name,
        last_name,
        message_id: sid.to_string(),
        text: text.to_string(),
        kind,
        attachment,
        // Text messages and WhatsApp through Twilio are one to one.
        shared: false,
        reply_to: ReplyAddress::Twilio { to: from.to_string(), from: to.to_string() },
    }]))
}

pub async fn send_message(
    http: &reqwest::Client,
    base: &str,
    account: &Account<'_>,
    from: &str,
    to: &str,
    body: &str,
) -> Result<(), ProviderFailure> {
    let url = format!("{}/2010-04-01/Accounts/{}/Messages.json", base.trim_end_matches('/'), account.sid);
    let response = http
        .post(url)
        .basic_auth(account.sid, Some(account.auth_token))
        .form(&[("To", to), ("From", from), ("Body", body)])
        .send()
        .await
        .map_err(|e| unreachable("Twilio", e))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(ProviderFailure::from_response("Twilio", response).await)
    }
}
