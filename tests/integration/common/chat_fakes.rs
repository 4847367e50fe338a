//! Fakes on loopback for the chat connectors: the five providers' send APIs (Slack, Bot
//! Framework with its token endpoint and signing keys, Telegram, 360dialog, Twilio) and an agent
//! endpoint. Each checks credentials and request shape and records what it was sent; the agent
//! checks Onboard's signature and answers as told.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const SLACK_BOT: &str = "xoxb-connector-token";
pub const SLACK_SIGNING: &str = "slack-signing-secret";
pub const TEAMS_APP: &str = "bot-app-id";
pub const TEAMS_PASSWORD: &str = "bot-app-password";
pub const TEAMS_TENANT: &str = "botframework.com";
pub const TELEGRAM_BOT: &str = "123456:ABC-test-token";
pub const TELEGRAM_SECRET: &str = "telegram_secret-1-0123456789abcdefghij";
pub const D360_KEY: &str = "d360-api-key";
pub const D360_SECRET: &str = "d360-webhook-secret-0001-0123456789ab";
pub const TWILIO_SID: &str = "AC00000000000000000000000000000001";
pub const TWILIO_TOKEN: &str = "twilio-auth-token";
pub const TWILIO_NUMBER: &str = "+15005550006";
pub const AGENT_SECRET: &str = "agent-signing-secret-1";
pub const KEY_ID: &str = "test-key";
pub const AVATAR: &[u8] = b"\xff\xd8\xff\xe0fake-jpeg";

/// One message a provider was asked to send: (provider, conversation or number, text).
#[derive(Clone, Debug, PartialEq)]
pub struct Sent {
    pub provider: &'static str,
    pub to: String,
    pub text: String,
}

/// How the agent answers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AgentMode {
    /// `{"reply": "Echo: <text>"}`.
    Echo,
    /// 204.
    Silent,
    /// 503 with Retry-After: 1 for this many calls, then Echo.
    Unavailable(u32),
}

pub struct Recorded {
    pub sent: Vec<Sent>,
    /// Approvers' cards posted: Slack `chat.postMessage` bodies with blocks, Teams activities
    /// with an attachment (their conversation added as `conversation`).
    pub cards: Vec<Value>,
    /// Cards updated: Slack `chat.update` bodies, Teams activities put (with `conversation` and `activity`).
    pub card_updates: Vec<Value>,
    /// Slack `chat.postEphemeral`: (user, text).
    pub ephemeral: Vec<(String, String)>,
    /// Bodies the agent received with a valid signature.
    pub agent_calls: Vec<Value>,
    pub agent_mode: AgentMode,
    pub profile_lookups: u32,
    pub refused: Vec<String>,
}

#[derive(Clone)]
pub struct FakeProviders {
    pub base: String,
    pub recorded: Arc<Mutex<Recorded>>,
}

type Shared = Arc<Mutex<Recorded>>;

impl FakeProviders {
    pub async fn start() -> Self {
        let recorded: Shared = Arc::new(Mutex::new(Recorded {
            sent: Vec::new(),
            cards: Vec::new(),
            card_updates: Vec::new(),
            ephemeral: Vec::new(),
            agent_calls: Vec::new(),
            agent_mode: AgentMode::Echo,
            profile_lookups: 0,
            refused: Vec::new(),
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/slack/api/chat.postMessage", post(slack_post))
            .route("/slack/api/chat.update", post(slack_update))
            .route("/slack/api/chat.postEphemeral", post(slack_ephemeral))
            .route("/slack/api/users.info", get(slack_user_info))
            .route("/login/{tenant}/oauth2/v2.0/token", post(teams_token))
            .route("/botframework/openid", get(openid_metadata))
            .route("/botframework/keys", get(signing_keys))
            .route("/teams-service/v3/conversations", post(teams_conversation))
            .route("/teams-service/v3/conversations/{id}/activities", post(teams_activity))
            .route("/teams-service/v3/conversations/{id}/activities/{activity}", axum::routing::put(teams_update))
            .route("/telegram/{bot}/{method}", post(telegram_method))
            .route("/telegram/file/{bot}/{*path}", get(telegram_file))
            .route("/d360/messages", post(d360_send))
            .route("/twilio/2010-04-01/Accounts/{sid}/Messages.json", post(twilio_send))
            .route("/agent", post(agent))
            .with_state((recorded.clone(), base.clone()));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, recorded }
    }

    /// Points an app's provider base URLs at this fake.
    pub fn configure(&self, s: &mut onboard::server::Settings) {
        s.slack.api_base_url = format!("{}/slack/api", self.base);
        s.teams.login_base_url = format!("{}/login", self.base);
        s.teams.service_url = self.teams_service_url();
        s.chat.botframework_openid_url = format!("{}/botframework/openid", self.base);
        s.chat.telegram_base_url = format!("{}/telegram", self.base);
        s.chat.d360_base_url = format!("{}/d360", self.base);
        s.sms.twilio_base_url = format!("{}/twilio", self.base);
    }

    pub fn agent_url(&self) -> String {
        format!("{}/agent", self.base)
    }

    pub fn teams_service_url(&self) -> String {
        format!("{}/teams-service", self.base)
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut Recorded) -> T) -> T {
        f(&mut self.recorded.lock().unwrap())
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.with(|r| r.sent.clone())
    }

    pub fn agent_texts(&self) -> Vec<String> {
        self.with(|r| r.agent_calls.iter().map(|c| c["text"].as_str().unwrap_or_default().to_string()).collect())
    }
}

type St = State<(Shared, String)>;

fn refuse(rec: &Shared, why: impl Into<String>) -> Response {
    let why = why.into();
    rec.lock().unwrap().refused.push(why.clone());
    (StatusCode::UNAUTHORIZED, why).into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ")
}

fn record(rec: &Shared, provider: &'static str, to: impl Into<String>, text: impl Into<String>) {
    rec.lock().unwrap().sent.push(Sent { provider, to: to.into(), text: text.into() });
}

async fn slack_post(State((rec, _)): St, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if bearer(&headers) != Some(SLACK_BOT) {
        return refuse(&rec, "slack: wrong bot token");
    }
    let (Some(channel), Some(text)) = (body["channel"].as_str(), body["text"].as_str()) else {
        return Json(json!({ "ok": false, "error": "invalid_arguments" })).into_response();
    };
    let mut r = rec.lock().unwrap();
    if body["blocks"].is_array() {
        r.cards.push(body.clone());
        let ts = format!("{}.0", r.cards.len() + 100);
        return Json(json!({ "ok": true, "channel": channel, "ts": ts })).into_response();
    }
    r.sent.push(Sent { provider: "slack", to: channel.into(), text: text.into() });
    Json(json!({ "ok": true, "channel": channel, "ts": "1.0" })).into_response()
}

async fn slack_update(State((rec, _)): St, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if bearer(&headers) != Some(SLACK_BOT) {
        return refuse(&rec, "slack: wrong bot token");
    }
    let known = rec.lock().unwrap().cards.iter().enumerate().any(|(i, c)| {
        c["channel"] == body["channel"] && body["ts"] == format!("{}.0", i + 101) && body["blocks"].is_array()
    });
    if !known {
        return Json(json!({ "ok": false, "error": "message_not_found" })).into_response();
    }
    rec.lock().unwrap().card_updates.push(body);
    Json(json!({ "ok": true })).into_response()
}

async fn slack_ephemeral(State((rec, _)): St, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if bearer(&headers) != Some(SLACK_BOT) {
        return refuse(&rec, "slack: wrong bot token");
    }
    let (Some(_), Some(user), Some(text)) = (body["channel"].as_str(), body["user"].as_str(), body["text"].as_str())
    else {
        return Json(json!({ "ok": false, "error": "invalid_arguments" })).into_response();
    };
    rec.lock().unwrap().ephemeral.push((user.to_string(), text.to_string()));
    Json(json!({ "ok": true, "message_ts": "2.0" })).into_response()
}

async fn slack_user_info(
    State((rec, _)): St,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if bearer(&headers) != Some(SLACK_BOT) {
        return refuse(&rec, "slack: wrong bot token");
    }
    rec.lock().unwrap().profile_lookups += 1;
    let user = q.get("user").cloned().unwrap_or_default();
    Json(json!({ "ok": true, "user": { "id": user, "profile": {
        "first_name": "Ada", "last_name": "Lovelace", "real_name": "Ada Lovelace",
        "image_72": "https://avatars.example/ada-72.png"
    }}}))
    .into_response()
}

async fn teams_token(
    State((rec, _)): St,
    Path(tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let ok = tenant == TEAMS_TENANT
        && form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("client_id").map(String::as_str) == Some(TEAMS_APP)
        && form.get("client_secret").map(String::as_str) == Some(TEAMS_PASSWORD)
        && form.get("scope").map(String::as_str) == Some("https://api.botframework.com/.default");
    if !ok {
        rec.lock().unwrap().refused.push(format!("teams token: {form:?}"));
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid_client" }))).into_response();
    }
    Json(json!({ "access_token": "bot-token-1", "token_type": "Bearer", "expires_in": 3600 })).into_response()
}

async fn openid_metadata(State((_, base)): St) -> Json<Value> {
    Json(json!({ "issuer": "https://api.botframework.com", "jwks_uri": format!("{base}/botframework/keys") }))
}

async fn signing_keys() -> Json<Value> {
    let n = include_str!("../fixtures/botframework-test-key.n").trim();
    Json(json!({ "keys": [{ "kty": "RSA", "use": "sig", "kid": KEY_ID, "n": n, "e": "AQAB" }] }))
}

async fn teams_activity(
    State((rec, _)): St,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if bearer(&headers) != Some("bot-token-1") {
        return refuse(&rec, "teams: wrong bearer token");
    }
    if body["type"] != "message" {
        return (StatusCode::BAD_REQUEST, "not a message").into_response();
    }
    if body["attachments"].is_array() {
        let mut r = rec.lock().unwrap();
        let mut card = body.clone();
        card["conversation"] = json!(id);
        r.cards.push(card);
        return Json(json!({ "id": format!("card-{}", r.cards.len()) })).into_response();
    }
    record(&rec, "teams", id, body["text"].as_str().unwrap_or_default());
    Json(json!({ "id": "activity-1" })).into_response()
}

/// Opens a one-to-one conversation with one member: its id names them.
async fn teams_conversation(State((rec, _)): St, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if bearer(&headers) != Some("bot-token-1") {
        return refuse(&rec, "teams: wrong bearer token");
    }
    let (Some(member), Some(TEAMS_TENANT)) = (body["members"][0]["id"].as_str(), body["tenantId"].as_str()) else {
        return (StatusCode::BAD_REQUEST, "a member and the tenant are required").into_response();
    };
    Json(json!({ "id": format!("a:1on1-{member}") })).into_response()
}

async fn teams_update(
    State((rec, _)): St,
    Path((id, activity)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if bearer(&headers) != Some("bot-token-1") {
        return refuse(&rec, "teams: wrong bearer token");
    }
    let mut r = rec.lock().unwrap();
    let posted = activity
        .strip_prefix("card-")
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| r.cards.get(i));
    if posted.is_none_or(|c| c["conversation"] != id.as_str()) || !body["attachments"].is_array() {
        return (StatusCode::NOT_FOUND, "no such activity").into_response();
    }
    let mut update = body.clone();
    update["conversation"] = json!(id);
    update["activity"] = json!(activity);
    r.card_updates.push(update);
    Json(json!({ "id": activity })).into_response()
}

async fn telegram_method(
    State((rec, base)): St,
    Path((bot, method)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    if bot != format!("bot{TELEGRAM_BOT}") {
        rec.lock().unwrap().refused.push("telegram: wrong token".into());
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "ok": false, "error_code": 401, "description": "Unauthorized" })),
        )
            .into_response();
    }
    let result = match method.as_str() {
        "sendMessage" => {
            let (Some(chat), Some(text)) = (body["chat_id"].as_i64(), body["text"].as_str()) else {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({ "ok": false, "error_code": 400, "description": "Bad Request" })),
                )
                    .into_response();
            };
            record(&rec, "telegram", chat.to_string(), text);
            json!({ "message_id": 1 })
        }
        "getUserProfilePhotos" => {
            rec.lock().unwrap().profile_lookups += 1;
            json!({ "total_count": 1, "photos": [[{ "file_id": "small-photo", "width": 160, "height": 160 }]] })
        }
        "getFile" if body["file_id"] == "small-photo" => {
            json!({ "file_id": "small-photo", "file_path": "photos/file_1.jpg" })
        }
        _ => {
            let _ = base;
            return (
                StatusCode::NOT_FOUND,
                Json(json!({ "ok": false, "error_code": 404, "description": "Not Found" })),
            )
                .into_response();
        }
    };
    Json(json!({ "ok": true, "result": result })).into_response()
}

async fn telegram_file(Path((bot, path)): Path<(String, String)>) -> Response {
    if bot == format!("bot{TELEGRAM_BOT}") && path == "photos/file_1.jpg" {
        AVATAR.into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

async fn d360_send(State((rec, _)): St, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if headers.get("d360-api-key").and_then(|v| v.to_str().ok()) != Some(D360_KEY) {
        return refuse(&rec, "d360: wrong API key");
    }
    let well_formed =
        body["messaging_product"] == "whatsapp" && body["type"] == "text" && body["recipient_type"] == "individual";
    let (Some(to), Some(text), true) = (body["to"].as_str(), body["text"]["body"].as_str(), well_formed) else {
        return (StatusCode::BAD_REQUEST, "malformed").into_response();
    };
    record(&rec, "d360", to, text);
    Json(json!({ "messages": [{ "id": "wamid.out" }] })).into_response()
}

async fn twilio_send(
    State((rec, _)): St,
    Path(sid): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let expected =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{TWILIO_SID}:{TWILIO_TOKEN}")));
    if sid != TWILIO_SID || headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return refuse(&rec, "twilio: wrong credentials");
    }
    let (Some(to), Some(from), Some(body)) = (form.get("To"), form.get("From"), form.get("Body")) else {
        return (StatusCode::BAD_REQUEST, "To, From and Body are required").into_response();
    };
    record(&rec, "twilio", format!("{to} from {from}"), body.clone());
    (StatusCode::CREATED, Json(json!({ "sid": "SM1" }))).into_response()
}

async fn agent(State((rec, _)): St, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let timestamp = header("x-onboard-timestamp");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(AGENT_SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(&body);
    if header("x-onboard-signature") != format!("v1={}", hex::encode(mac.finalize().into_bytes())) {
        return refuse(&rec, "agent: bad signature");
    }
    let call: Value = serde_json::from_slice(&body).unwrap();
    let mut r = rec.lock().unwrap();
    let mode = r.agent_mode;
    if let AgentMode::Unavailable(n) = mode {
        r.agent_mode = if n <= 1 { AgentMode::Echo } else { AgentMode::Unavailable(n - 1) };
        return (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "1")], "busy").into_response();
    }
    let text = call["text"].as_str().unwrap_or_default().to_string();
    r.agent_calls.push(call);
    match mode {
        AgentMode::Silent => StatusCode::NO_CONTENT.into_response(),
        _ => Json(json!({ "reply": format!("Echo: {text}") })).into_response(),
    }
}
