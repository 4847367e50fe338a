//! Slack's Web API: direct messages (`conversations.open` + `chat.postMessage`) and the
//! workspace directory (`users.list`, `users.lookupByEmail`). Errors come back as HTTP 200
//! with `{"ok": false, "error": "…"}`; rate limits as 429 with Retry-After.

use super::provider::{http_client, unreachable, ProviderFailure};
use super::shared::{
    header, json_body, split_name, ChatDecision, Inbound, InboundMessage, NoticeAddress, Refusal, ReplyAddress,
};
use crate::api::identity::types::DirectoryUser;
use crate::domain::chat_users::ChatProfile;
use crate::domain::chat_users::{Decision, MessageKind, RequestCard};
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
    "not_in_channel",
    "invalid_blocks",
    "message_not_found",
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

    /// Posts an approvers' card (Block Kit `blocks`, with `text` for notifications and screen
    /// readers) in a channel the bot was invited to; answers the message's `ts`, which `chat.update` takes.
    pub async fn post_blocks(&self, channel: &str, text: &str, blocks: Value) -> Result<String, ProviderFailure> {
        let message = json!({ "channel": channel, "text": text, "blocks": blocks, "unfurl_links": false });
        let posted = self.call("chat.postMessage", self.post("chat.postMessage", message)).await?;
        posted["ts"]
            .as_str()
            .map(str::to_string)
            // Posted, but with nothing to update it by: another attempt would post a second card.
            .ok_or_else(|| ProviderFailure::permanent("Slack chat.postMessage returned no ts"))
    }

    /// Replaces a posted message's text and blocks (`chat.update`).
    pub async fn update_blocks(
        &self,
        channel: &str,
        ts: &str,
        text: &str,
        blocks: Value,
    ) -> Result<(), ProviderFailure> {
        let message = json!({ "channel": channel, "ts": ts, "text": text, "blocks": blocks });
        self.call("chat.update", self.post("chat.update", message)).await?;
        Ok(())
    }

    /// A message in `channel` only `user` sees (`chat.postEphemeral`); `text` is mrkdwn, escaped.
    pub async fn post_ephemeral(&self, channel: &str, user: &str, text: &str) -> Result<(), ProviderFailure> {
        let message = json!({ "channel": channel, "user": user, "text": text });
        self.call("chat.postEphemeral", self.post("chat.postEphemeral", message)).await?;
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

/// The Block Kit `action_id`s of an approvers' card's buttons; each button's `value` is the request id.
const APPROVE_ACTION: &str = "access_request.approve";
const REJECT_ACTION: &str = "access_request.reject";

/// Slack's longest section text is 3,000 characters; the first message is cut well before.
const CARD_MESSAGE_CHARS: usize = 2_500;

/// `<!date^…>`: Slack writes the time in each reader's own time zone, UTC in the fallback. How a
/// card, and the private answer to a late click, say when a request was decided.
pub fn decided_when(ms: i64) -> String {
    let fallback = chrono::DateTime::from_timestamp_millis(ms).map(|t| t.format("%H:%M UTC").to_string());
    format!("<!date^{}^{{time}}|{}>", ms / 1_000, fallback.unwrap_or_default())
}

/// An approvers' card in Block Kit (the person, their platform and first message, then Approve
/// and Reject, or once decided who decided and when), with the plain text Slack shows in
/// notifications. Names and messages are escaped, so nobody's text can mention `@channel`.
pub fn approval_blocks(card: &RequestCard) -> (String, Value) {
    use crate::domain::message::escape_slack;
    let text = format!("Access request from {} on {}", escape_slack(&card.name), escape_slack(&card.connector));
    // What people wrote (their name, their message) goes in plain_text, which Slack neither
    // formats nor links: nobody's name can mention @channel or dress up a link.
    let about = format!("wants to talk to the agent · {} · {} · {}", card.connector, card.platform, card.platform_id);
    let mut person = json!({
        "type": "section",
        "text": { "type": "plain_text", "text": format!("{}\n{about}", card.name), "emoji": false },
    });
    // Slack fetches the picture itself, so only a public address will do (not a kept data: URL).
    if let Some(url) = card.avatar_url.as_ref().filter(|u| u.starts_with("https://")) {
        person["accessory"] = json!({ "type": "image", "image_url": url, "alt_text": card.name });
    }
    let first: String = card.first_message.chars().take(CARD_MESSAGE_CHARS).collect();
    let said = if first.trim().is_empty() { "(no text)".to_string() } else { first };
    let mut blocks =
        vec![person, json!({ "type": "section", "text": { "type": "plain_text", "text": said, "emoji": false } })];
    match crate::domain::chat_users::card_outcome(card.status, card.decided_by.as_deref()) {
        None => {
            let value = card.request_id.to_string();
            blocks.push(json!({
                "type": "actions",
                "block_id": format!("access_request_{}", card.request_id),
                "elements": [
                    { "type": "button", "action_id": APPROVE_ACTION, "style": "primary", "value": value,
                      "text": { "type": "plain_text", "text": "Approve" } },
                    { "type": "button", "action_id": REJECT_ACTION, "style": "danger", "value": value,
                      "text": { "type": "plain_text", "text": "Reject" } },
                ],
            }));
        }
        Some(outcome) => {
            let when = card.decided_at.map(|ms| format!(", {}", decided_when(ms))).unwrap_or_default();
            let outcome = escape_slack(&outcome);
            blocks.push(
                json!({ "type": "context", "elements": [{ "type": "mrkdwn", "text": format!("{outcome}{when}") }] }),
            );
        }
    }
    (text, Value::Array(blocks))
}

/// An interactivity request (form-encoded, its JSON in `payload`): a click on an approvers'
/// card's button, or something else Onboard does not offer, acknowledged and ignored. The
/// signature is checked before this, over the raw body.
pub fn decode_interaction(body: &[u8]) -> Result<Inbound, Refusal> {
    let payload = url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "payload")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| Refusal::malformed("an interactivity request without a payload"))?;
    let payload = json_body(payload.as_bytes())?;
    if payload["type"] != "block_actions" {
        return Ok(Inbound::Nothing);
    }
    let action = &payload["actions"][0];
    let decision = match action["action_id"].as_str() {
        Some(APPROVE_ACTION) => Decision::Approve,
        Some(REJECT_ACTION) => Decision::Reject,
        _ => return Ok(Inbound::Nothing),
    };
    let request_id = action["value"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| Refusal::malformed("no request in the button"))?;
    let user = payload["user"]["id"].as_str().ok_or_else(|| Refusal::malformed("no user"))?;
    let channel = payload["channel"]["id"]
        .as_str()
        .or(payload["container"]["channel_id"].as_str())
        .ok_or_else(|| Refusal::malformed("no channel"))?;
    Ok(Inbound::Decision(ChatDecision {
        request_id,
        decision,
        approver: user.to_string(),
        notice_to: NoticeAddress::Slack { channel: channel.to_string(), user: user.to_string() },
    }))
}

/// Whether a signed Slack request is an interactivity one (form-encoded) rather than an Events
/// API one (JSON): both come to the connector's one webhook URL.
pub fn is_interaction(headers: &axum::http::HeaderMap, body: &[u8]) -> bool {
    let form = header(headers, "content-type").is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    form || body.starts_with(b"payload=")
}
