//! Fake chat providers on loopback: Slack's Web API, Entra ID's token endpoint, Microsoft
//! Graph's users and the Bot Framework's conversations. They check the auth headers and the
//! shape of each request, and record what was sent.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

pub const SLACK_TOKEN: &str = "xoxb-test-token";
pub const TENANT: &str = "tenant-1";
pub const APP_ID: &str = "app-1";
pub const APP_SECRET: &str = "app-secret-1";
pub const SLACK_CLIENT_ID: &str = "slack-client-1";
pub const SLACK_CLIENT_SECRET: &str = "slack-secret-1";

#[derive(Clone, Debug)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub email: String,
}

impl Person {
    pub fn new(id: &str, name: &str, email: &str) -> Self {
        Self { id: id.into(), name: name.into(), email: email.into() }
    }
}

#[derive(Default)]
pub struct Recorded {
    pub slack_people: Vec<Person>,
    pub teams_people: Vec<Person>,
    /// (Slack user, text) of each message posted.
    pub slack_messages: Vec<(String, String)>,
    /// (Entra object id, text) of each activity sent.
    pub teams_messages: Vec<(String, String)>,
    /// Slack users for whom conversations.open answers this error.
    pub slack_errors: HashMap<String, String>,
    /// How many of the next chat.postMessage calls get 429 with Retry-After: 1.
    pub slack_rate_limited: u32,
    /// While set, Slack's API answers every call 503, as during an outage.
    pub slack_down: bool,
    /// Each chat.postMessage call: to whom, when, and whether it was answered 429.
    pub slack_posts: Vec<(String, std::time::Instant, bool)>,
    /// Entra object ids that blocked the bot: 403 MessageWritesBlocked.
    pub teams_blocked: HashSet<String>,
    pub tokens_issued: Vec<String>,
    pub lookups_by_email: u32,
    /// Requests refused for bad credentials or a malformed body.
    pub refused: Vec<String>,
    /// Who signs in at the provider's authorization page (a Slack user id or an Entra object id).
    pub signing_in: String,
    /// Codes handed out: code → (PKCE challenge, redirect URI, user id).
    pub codes: HashMap<String, (String, String, String)>,
    /// The Content-Type Graph's profile photo comes with ([`GRAPH_PHOTO`]); `None`: no photo (404).
    pub photo_type: Option<&'static str>,
}

#[derive(Clone)]
pub struct FakeChat {
    pub base: String,
    pub recorded: Arc<Mutex<Recorded>>,
}

type Shared = Arc<Mutex<Recorded>>;

impl FakeChat {
    pub async fn start(slack_people: Vec<Person>, teams_people: Vec<Person>) -> Self {
        let recorded: Shared = Arc::new(Mutex::new(Recorded { slack_people, teams_people, ..Default::default() }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/slack/api/conversations.open", post(slack_open))
            .route("/slack/api/chat.postMessage", post(slack_post))
            .route("/slack/api/users.list", get(slack_users))
            .route("/slack/api/users.lookupByEmail", get(slack_lookup))
            .route("/slack/oauth/authorize", get(authorize))
            .route("/slack/api/openid.connect.token", post(slack_code_token))
            .route("/slack/api/openid.connect.userInfo", get(slack_user_info))
            .route("/login/{tenant}/oauth2/v2.0/authorize", get(authorize))
            .route("/graph/v1.0/me", get(graph_me))
            .route("/graph/v1.0/me/photos/48x48/$value", get(graph_photo))
            .route("/login/{tenant}/oauth2/v2.0/token", post(token))
            .route("/graph/v1.0/users", get(graph_users))
            .route("/bot/v3/conversations", post(bot_conversation))
            .route("/bot/v3/conversations/{id}/activities", post(bot_activity))
            .with_state((recorded.clone(), base.clone()));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, recorded }
    }

    /// The Slack and Teams settings, by environment variable, that point an app at this fake.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ONBOARD_SLACK_BOT_TOKEN", SLACK_TOKEN.to_string()),
            ("ONBOARD_SLACK_API_BASE_URL", format!("{}/slack/api", self.base)),
            ("ONBOARD_SLACK_CLIENT_ID", SLACK_CLIENT_ID.to_string()),
            ("ONBOARD_SLACK_CLIENT_SECRET", SLACK_CLIENT_SECRET.to_string()),
            ("ONBOARD_SLACK_AUTHORIZE_URL", format!("{}/slack/oauth/authorize", self.base)),
            ("ONBOARD_TEAMS_TENANT_ID", TENANT.to_string()),
            ("ONBOARD_TEAMS_APP_ID", APP_ID.to_string()),
            ("ONBOARD_TEAMS_APP_SECRET", APP_SECRET.to_string()),
            ("ONBOARD_TEAMS_LOGIN_BASE_URL", format!("{}/login", self.base)),
            ("ONBOARD_TEAMS_GRAPH_BASE_URL", format!("{}/graph", self.base)),
            ("ONBOARD_TEAMS_SERVICE_URL", format!("{}/bot", self.base)),
        ]
    }

    /// Points an app's Slack and Teams settings at this fake.
    pub fn configure(&self, s: &mut onboard::server::Settings) {
        use onboard::server::secret::Secret;
        s.slack.bot_token = Secret::new(SLACK_TOKEN.to_string());
        s.slack.api_base_url = format!("{}/slack/api", self.base);
        s.slack.client_id = SLACK_CLIENT_ID.to_string();
        s.slack.client_secret = Secret::new(SLACK_CLIENT_SECRET.to_string());
        s.slack.authorize_url = format!("{}/slack/oauth/authorize", self.base);
        s.teams.tenant_id = TENANT.to_string();
        s.teams.app_id = APP_ID.to_string();
        s.teams.app_secret = Secret::new(APP_SECRET.to_string());
        s.teams.login_base_url = format!("{}/login", self.base);
        s.teams.graph_base_url = format!("{}/graph", self.base);
        s.teams.service_url = format!("{}/bot", self.base);
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut Recorded) -> T) -> T {
        f(&mut self.recorded.lock().unwrap())
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ").map(str::to_string)
}

fn refuse(rec: &Shared, why: String) -> Response {
    rec.lock().unwrap().refused.push(why.clone());
    (StatusCode::UNAUTHORIZED, Json(json!({ "ok": false, "error": "invalid_auth", "why": why }))).into_response()
}

fn slack_person(p: &Person) -> Value {
    json!({ "id": p.id, "name": p.name.to_lowercase(), "real_name": p.name, "deleted": false, "is_bot": false,
            "profile": { "real_name": p.name, "email": p.email } })
}

type FakeState = State<(Shared, String)>;

async fn slack_open(State((rec, _)): FakeState, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if bearer(&headers).as_deref() != Some(SLACK_TOKEN) {
        return refuse(&rec, "conversations.open without the bot token".into());
    }
    let Some(user) = body["users"].as_str() else {
        return refuse(&rec, format!("conversations.open without users: {body}"));
    };
    if rec.lock().unwrap().slack_down {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    if let Some(error) = rec.lock().unwrap().slack_errors.get(user) {
        return Json(json!({ "ok": false, "error": error })).into_response();
    }
    Json(json!({ "ok": true, "channel": { "id": format!("D-{user}") } })).into_response()
}

async fn slack_post(State((rec, _)): FakeState, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if bearer(&headers).as_deref() != Some(SLACK_TOKEN) {
        return refuse(&rec, "chat.postMessage without the bot token".into());
    }
    let (Some(channel), Some(text)) = (body["channel"].as_str(), body["text"].as_str()) else {
        return refuse(&rec, format!("chat.postMessage without channel and text: {body}"));
    };
    let mut r = rec.lock().unwrap();
    if r.slack_down {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let limited = r.slack_rate_limited > 0;
    r.slack_posts.push((channel.to_string(), std::time::Instant::now(), limited));
    if limited {
        r.slack_rate_limited -= 1;
        return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "").into_response();
    }
    let user = channel.strip_prefix("D-").unwrap_or(channel).to_string();
    r.slack_messages.push((user, text.to_string()));
    Json(json!({ "ok": true, "channel": channel, "ts": "1.0" })).into_response()
}

/// Two people a page, so clients must follow the cursor.
async fn slack_users(
    State((rec, _)): FakeState,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if bearer(&headers).as_deref() != Some(SLACK_TOKEN) {
        return refuse(&rec, "users.list without the bot token".into());
    }
    let start: usize = q.get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let people = rec.lock().unwrap().slack_people.clone();
    let mut members: Vec<Value> = people.iter().skip(start).take(2).map(slack_person).collect();
    if start == 0 {
        members.push(json!({ "id": "UBOT", "name": "bot", "is_bot": true, "profile": {} }));
    }
    let next = if start + 2 < people.len() { (start + 2).to_string() } else { String::new() };
    Json(json!({ "ok": true, "members": members, "response_metadata": { "next_cursor": next } })).into_response()
}

async fn slack_lookup(
    State((rec, _)): FakeState,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if bearer(&headers).as_deref() != Some(SLACK_TOKEN) {
        return refuse(&rec, "users.lookupByEmail without the bot token".into());
    }
    let mut r = rec.lock().unwrap();
    r.lookups_by_email += 1;
    let email = q.get("email").cloned().unwrap_or_default().to_lowercase();
    match r.slack_people.iter().find(|p| p.email.to_lowercase() == email) {
        Some(p) => Json(json!({ "ok": true, "user": slack_person(p) })).into_response(),
        None => Json(json!({ "ok": false, "error": "users_not_found" })).into_response(),
    }
}

async fn token(
    State((rec, _)): FakeState,
    Path(tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if get("grant_type") == "authorization_code" && tenant == TENANT {
        return code_token(&rec, &form, APP_ID, APP_SECRET);
    }
    if tenant != TENANT
        || get("grant_type") != "client_credentials"
        || get("client_id") != APP_ID
        || get("client_secret") != APP_SECRET
    {
        rec.lock().unwrap().refused.push(format!("token request {form:?}"));
        return (StatusCode::UNAUTHORIZED, Json(json!({ "error": "invalid_client" }))).into_response();
    }
    let token = match get("scope") {
        "https://api.botframework.com/.default" => "bot-token",
        "https://graph.microsoft.com/.default" => "graph-token",
        other => {
            rec.lock().unwrap().refused.push(format!("token scope {other}"));
            return (StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid_scope" }))).into_response();
        }
    };
    rec.lock().unwrap().tokens_issued.push(token.to_string());
    Json(json!({ "access_token": token, "token_type": "Bearer", "expires_in": 3600 })).into_response()
}

fn graph_person(p: &Person) -> Value {
    json!({ "id": p.id, "displayName": p.name, "mail": p.email, "userPrincipalName": p.email, "accountEnabled": true })
}

async fn graph_users(
    State((rec, base)): FakeState,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if bearer(&headers).as_deref() != Some("graph-token") {
        return refuse(&rec, "Graph without a Graph token".into());
    }
    let people = rec.lock().unwrap().teams_people.clone();
    if let Some(filter) = q.get("$filter") {
        rec.lock().unwrap().lookups_by_email += 1;
        let wanted = filter.split('\'').nth(1).unwrap_or_default().to_lowercase();
        let found: Vec<Value> = people.iter().filter(|p| p.email.to_lowercase() == wanted).map(graph_person).collect();
        return Json(json!({ "value": found })).into_response();
    }
    let start: usize = q.get("$skiptoken").and_then(|c| c.parse().ok()).unwrap_or(0);
    let value: Vec<Value> = people.iter().skip(start).take(2).map(graph_person).collect();
    let mut page = json!({ "value": value });
    if start + 2 < people.len() {
        page["@odata.nextLink"] = json!(format!("{base}/graph/v1.0/users?$skiptoken={}", start + 2));
    }
    Json(page).into_response()
}

async fn bot_conversation(State((rec, _)): FakeState, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if bearer(&headers).as_deref() != Some("bot-token") {
        return refuse(&rec, "Bot Framework without a bot token".into());
    }
    let shaped = body["bot"]["id"] == format!("28:{APP_ID}") && body["channelData"]["tenant"]["id"] == TENANT;
    let Some(aad) = body["members"][0]["aadObjectId"].as_str().filter(|_| shaped) else {
        return refuse(&rec, format!("malformed conversation: {body}"));
    };
    Json(json!({ "id": format!("a:{aad}") })).into_response()
}

async fn bot_activity(
    State((rec, _)): FakeState,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if bearer(&headers).as_deref() != Some("bot-token") {
        return refuse(&rec, "Bot Framework without a bot token".into());
    }
    let aad = id.strip_prefix("a:").unwrap_or(&id).to_string();
    let mut r = rec.lock().unwrap();
    if r.teams_blocked.contains(&aad) {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({ "error": { "code": "MessageWritesBlocked", "message": "Thread is blocked" } })),
        )
            .into_response();
    }
    let (Some("message"), Some(text)) = (body["type"].as_str(), body["text"].as_str()) else {
        drop(r);
        return refuse(&rec, format!("malformed activity: {body}"));
    };
    r.teams_messages.push((aad, text.to_string()));
    Json(json!({ "id": "activity-1" })).into_response()
}

/// The provider's authorization page, where `signing_in` always approves: back to the
/// redirect URI with a code bound to the PKCE challenge.
async fn authorize(State((rec, _)): FakeState, Query(q): Query<HashMap<String, String>>) -> Response {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let known_client = [SLACK_CLIENT_ID, APP_ID].contains(&get("client_id").as_str());
    if !known_client
        || get("response_type") != "code"
        || get("code_challenge_method") != "S256"
        || get("state").is_empty()
    {
        return refuse(&rec, format!("authorize request {q:?}"));
    }
    let mut r = rec.lock().unwrap();
    let code = format!("code-{}", r.codes.len() + 1);
    let user = r.signing_in.clone();
    r.codes.insert(code.clone(), (get("code_challenge"), get("redirect_uri"), user));
    let location = format!("{}?code={code}&state={}", get("redirect_uri"), get("state"));
    (StatusCode::FOUND, [("location", location)]).into_response()
}

fn code_token(rec: &Shared, form: &HashMap<String, String>, client_id: &str, secret: &str) -> Response {
    use base64::Engine;
    use sha2::Digest;
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let mut r = rec.lock().unwrap();
    // Codes work once.
    let Some((challenge, redirect, user)) = r.codes.remove(get("code")) else {
        return (StatusCode::BAD_REQUEST, Json(json!({ "ok": false, "error": "invalid_grant" }))).into_response();
    };
    let verified =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(get("code_verifier").as_bytes()));
    if get("client_id") != client_id
        || get("client_secret") != secret
        || get("redirect_uri") != redirect
        || verified != challenge
    {
        r.refused.push(format!("code exchange {form:?}"));
        return (StatusCode::BAD_REQUEST, Json(json!({ "ok": false, "error": "invalid_grant" }))).into_response();
    }
    Json(json!({ "ok": true, "access_token": format!("user-{user}"), "token_type": "Bearer", "expires_in": 3600 }))
        .into_response()
}

async fn slack_code_token(State((rec, _)): FakeState, Form(form): Form<HashMap<String, String>>) -> Response {
    code_token(&rec, &form, SLACK_CLIENT_ID, SLACK_CLIENT_SECRET)
}

fn user_of(headers: &HeaderMap) -> Option<String> {
    bearer(headers)?.strip_prefix("user-").map(str::to_string)
}

async fn slack_user_info(State((rec, _)): FakeState, headers: HeaderMap) -> Response {
    let Some(id) = user_of(&headers) else {
        return refuse(&rec, "userInfo without a user token".into());
    };
    let name = rec.lock().unwrap().slack_people.iter().find(|p| p.id == id).map(|p| p.name.clone()).unwrap_or_default();
    let picture = format!("https://avatars.example/{id}_72.png");
    Json(json!({ "ok": true, "https://slack.com/user_id": id, "name": name, "picture": picture })).into_response()
}

/// A profile photo's bytes (a 1x1 PNG), as Graph answers `GET /me/photos/48x48/$value`.
pub const GRAPH_PHOTO: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d,
    0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

async fn graph_photo(State((rec, _)): FakeState, headers: HeaderMap) -> Response {
    if user_of(&headers).is_none() {
        return refuse(&rec, "Graph photo without a user token".into());
    }
    match rec.lock().unwrap().photo_type {
        Some(kind) => ([(axum::http::header::CONTENT_TYPE, kind)], GRAPH_PHOTO).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({ "error": { "code": "ImageNotFound" } }))).into_response(),
    }
}

async fn graph_me(State((rec, _)): FakeState, headers: HeaderMap) -> Response {
    let Some(id) = user_of(&headers) else {
        return refuse(&rec, "Graph /me without a user token".into());
    };
    let name = rec.lock().unwrap().teams_people.iter().find(|p| p.id == id).map(|p| p.name.clone()).unwrap_or_default();
    Json(json!({ "id": id, "displayName": name })).into_response()
}
