//! Slack's Web API: direct messages (`conversations.open` + `chat.postMessage`) and the
//! workspace directory (`users.list`, `users.lookupByEmail`). Errors come back as HTTP 200
//! with `{"ok": false, "error": "…"}`; rate limits as 429 with Retry-After.

use super::{http_client, unreachable, ProviderFailure};
use crate::api::types::DirectoryUser;
use crate::server::config::SlackSettings;
use crate::server::secret::Secret;
use serde_json::{json, Value};

#[derive(Clone)]
pub struct SlackClient {
    http: reqwest::Client,
    base: String,
    token: Secret,
    /// The people, for the mapping pages.
    pub directory: super::DirectoryCache,
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

    async fn call(&self, method: &str, request: reqwest::RequestBuilder) -> Result<Value, ProviderFailure> {
        let response = request.bearer_auth(self.token.expose()).send().await.map_err(|e| unreachable("Slack", e))?;
        if !response.status().is_success() {
            return Err(ProviderFailure::from_response("Slack", response).await);
        }
        let body: Value =
            response.json().await.map_err(|e| ProviderFailure::transient(format!("Slack {method}: {e}")))?;
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
