//! Slack's Web API: direct messages (`conversations.open` + `chat.postMessage`) and the
//! workspace directory (`users.list`, `users.lookupByEmail`). Errors come back as HTTP 200
//! with `{"ok": false, "error": "…"}`; rate limits as 429 with Retry-After.

use super::provider::{http_client, unreachable, ProviderFailure};
use super::shared::{header, json_body, split_name, Inbound, InboundMessage, Refusal, ReplyAddress};
use crate::api::identity::types::DirectoryUser;
use crate::domain::chat_users::ChatProfile;
use crate::domain::chat_users::MessageKind;
use crate::server::config::SlackSettings;
use crate::server::secret::Secret;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

#[derive(Clone)]
pub struct SlackClient {
    http: reqwest::Client,
    base: String,
    token: Secret,
    /// The people, for the mapping pages.
    pub directory: super::provider::DirectoryCache,
}

/// Errors after which the same call can never succeed: recorded, not retried.
const PERMANENT: &[&str] = &[
    "user_not_found",
    "users_not_found",
    "channel_not_found",
    "user_disabled",
    "cannot_dm_bot",
    "is_archived",
    "not_authed",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "missing_scope",
    "no_permission",
    "invalid_arguments",
    "msg_too_long",
    "no_text",
];

impl SlackClient {
    pub fn from_settings(settings: &SlackSettings) -> anyhow::Result<Option<Self>> {
        if !settings.configured() {
            return Ok(None);
        }
        Ok(Some(Self {
            http: http_client()?,
            base: settings.api_base_url.trim_end_matches('/').to_string(),
            token: settings.bot_token.clone(),
            directory: Default::default(),
        }))
    }

    /// A client for one connector's bot token, sharing the connectors' HTTP client.
    pub fn with_token(http: reqwest::Client, base: &str, token: Secret) -> Self {
        Self { http, base: base.trim_end_matches('/').to_string(), token, directory: Default::default() }
    }

    async fn call(&self, method: &str, request: reqwest::RequestBuilder) -> Result<Value, ProviderFailure> {
        let response = request.bearer_auth(self.token.expose()).send().await.map_err(|e| unreachable("Slack", e))?;
        if !response.status().is_success() {
            return Err(ProviderFailure::from_response("Slack", response).await);
        }
        let body: Value = response.json().await.map_err(|e| {
            ProviderFailure::transient(format!("Slack {method}: {}", crate::server::outbound::without_url(&e)))
        })?;
        if body["ok"] == true {
            return Ok(body);
        }
        let error = body["error"].as_str().unwrap_or("unknown_error").to_string();
        let message = format!("Slack {method} said {error}");
        Err(if PERMANENT.contains(&error.as_str()) {
            ProviderFailure::permanent(message)
        } else {
            ProviderFailure::transient(message)
        })
    }

    fn post(&self, method: &str, body: Value) -> reqwest::RequestBuilder {
        self.http.post(format!("{}/{method}", self.base)).json(&body)
    }

    fn get(&self, method: &str, query: &[(&str, &str)]) -> reqwest::RequestBuilder {
        self.http.get(format!("{}/{method}", self.base)).query(query)
    }

    /// Opens (or finds) the direct-message channel with `user` and posts `text` (mrkdwn) in it.
    pub async fn send_direct(&self, user: &str, text: &str) -> Result<(), ProviderFailure> {
        let opened = self.call("conversations.open", self.post("conversations.open", json!({ "users": user }))).await?;
        let channel = opened["channel"]["id"]
            .as_str()
            .ok_or_else(|| ProviderFailure::transient("Slack conversations.open returned no channel"))?;
        let message = json!({ "channel": channel, "text": text, "mrkdwn": true, "unfurl_links": false });
        self.call("chat.postMessage", self.post("chat.postMessage", message)).await?;
        Ok(())
    }

    /// Posts `text` (mrkdwn, already escaped) in a conversation the person opened with the bot.
    pub async fn post_message(&self, channel: &str, text: &str) -> Result<(), ProviderFailure> {
        let message = json!({ "channel": channel, "text": text, "unfurl_links": false });
        self.call("chat.postMessage", self.post("chat.postMessage", message)).await?;
        Ok(())
    }

    /// A person's names and picture (`users.info`), which message events do not carry.
    pub async fn profile(&self, user: &str) -> Result<ChatProfile, ProviderFailure> {
        let body = self.call("users.info", self.get("users.info", &[("user", user)])).await?;
        let profile = &body["user"]["profile"];
        let text = |v: &Value| v.as_str().unwrap_or_default().trim().to_string();
        let (mut first_name, mut last_name) = (text(&profile["first_name"]), text(&profile["last_name"]));
        if first_name.is_empty() && last_name.is_empty() {
            (first_name, last_name) = split_name(&text(&profile["real_name"]));
        }
        let avatar_url = profile["image_72"].as_str().filter(|u| u.starts_with("https://")).map(str::to_string);
        Ok(ChatProfile { first_name, last_name, avatar_url })
    }

    /// Every active person in the workspace (no bots, no deactivated accounts), page by page.
    pub async fn users(&self) -> Result<Vec<DirectoryUser>, ProviderFailure> {
        let mut users = Vec::new();
        let mut cursor = String::new();
        loop {
            let page =
                self.call("users.list", self.get("users.list", &[("limit", "200"), ("cursor", &cursor)])).await?;
            for member in page["members"].as_array().into_iter().flatten() {
                let skip = member["deleted"] == true || member["is_bot"] == true || member["id"] == "USLACKBOT";
                if let (false, Some(user)) = (skip, directory_user(member)) {
                    users.push(user);
                }
            }
            cursor = page["response_metadata"]["next_cursor"].as_str().unwrap_or_default().to_string();
            if cursor.is_empty() {
                break;
            }
        }
        users.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()));
        Ok(users)
    }

    /// The person Slack knows by this address, if any.
    pub async fn lookup_by_email(&self, email: &str) -> Result<Option<DirectoryUser>, ProviderFailure> {
        match self.call("users.lookupByEmail", self.get("users.lookupByEmail", &[("email", email)])).await {
            Ok(body) => Ok(directory_user(&body["user"])),
            Err(e) if e.message.ends_with("users_not_found") => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn directory_user(member: &Value) -> Option<DirectoryUser> {
    let id = member["id"].as_str()?.to_string();
    let profile = &member["profile"];
    let name = [profile["real_name"].as_str(), member["real_name"].as_str(), member["name"].as_str()]
        .into_iter()
        .flatten()
        .find(|n| !n.trim().is_empty())
        .unwrap_or(&id)
        .to_string();
    let email = profile["email"].as_str().map(str::to_string);
    Some(DirectoryUser { id, name, email })
}

/// Requests older than this (or this far in the future) are refused: a captured request cannot be replayed later.
const SIGNATURE_WINDOW_S: i64 = 300;

/// Slack's request signing: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the
/// signing secret, checked before the body is parsed.
pub fn verify_signature(
    signing_secret: &str,
    headers: &axum::http::HeaderMap,
    body: &[u8],
    now_s: i64,
) -> Result<(), Refusal> {
    let timestamp = header(headers, "x-slack-request-timestamp")
        .ok_or_else(|| Refusal::unauthorized("no X-Slack-Request-Timestamp"))?;
    let signature =
        header(headers, "x-slack-signature").ok_or_else(|| Refusal::unauthorized("no X-Slack-Signature"))?;
    let at: i64 = timestamp.trim().parse().map_err(|_| Refusal::unauthorized("the timestamp is not a number"))?;
    if (now_s - at).abs() > SIGNATURE_WINDOW_S {
        return Err(Refusal::unauthorized("the timestamp is more than five minutes away"));
    }
    let expected = sign(signing_secret, timestamp, body);
    if signing_secret.is_empty() || !bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
        return Err(Refusal::unauthorized("the signature does not match"));
    }
    Ok(())
}

pub fn sign(signing_secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(signing_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// An Events API delivery: the URL check, or a person's direct message to the bot.
pub fn decode_event(body: &[u8]) -> Result<Inbound, Refusal> {
    let payload = json_body(body)?;
    match payload["type"].as_str() {
        Some("url_verification") => payload["challenge"]
            .as_str()
            .map(|c| Inbound::Challenge(c.to_string()))
            .ok_or_else(|| Refusal::malformed("url_verification without a challenge")),
        Some("event_callback") => {
            let event = &payload["event"];
            let event_id = payload["event_id"].as_str().ok_or_else(|| Refusal::malformed("no event_id"))?;
            // Edits, joins and the bot's own posts come as other subtypes or with a bot_id: not a
            // person writing. A file a person shares is `file_share`.
            let subtype = event["subtype"].as_str();
            let from_person =
                event["type"] == "message" && matches!(subtype, None | Some("file_share")) && event["bot_id"].is_null();
            let (Some(user), Some(channel), true) = (event["user"].as_str(), event["channel"].as_str(), from_person)
            else {
                return Ok(Inbound::Nothing);
            };
            let file = &event["files"][0];
            let kind = match file["subtype"].as_str() {
                _ if !file.is_object() => MessageKind::Text,
                // A voice clip recorded in Slack.
                Some("slack_audio") => MessageKind::Voice,
                _ => MessageKind::of_mime_type(file["mimetype"].as_str().unwrap_or_default()),
            };
            Ok(Inbound::Messages(vec![InboundMessage {
                platform_user_id: user.to_string(),
                first_name: String::new(),
                last_name: String::new(),
                message_id: event_id.to_string(),
                text: event["text"].as_str().unwrap_or_default().to_string(),
                kind,
                attachment: file["id"].as_str().map(String::from),
                // Only a direct message ("im", a `D…` channel) is the person and the bot alone.
                shared: event["channel_type"].as_str().map_or(!channel.starts_with('D'), |t| t != "im"),
                reply_to: ReplyAddress::Slack { channel: channel.to_string() },
            }]))
        }
        Some(_) => Ok(Inbound::Nothing),
        None => Err(Refusal::malformed("no type")),
    }
}
