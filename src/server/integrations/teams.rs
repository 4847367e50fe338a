//! Microsoft Teams: proactive one-to-one messages through the Bot Framework, and the tenant's
//! people through Microsoft Graph. Both take an app-only token from Entra ID's client-credentials
//! flow, cached until shortly before it expires.

use super::bot_framework::{cached_token, token_cache, BotFramework, TokenCache};
use super::connector::Connector;
use super::provider::{http_client, unreachable, ProviderFailure};
use super::shared::{
    json_body, split_name, ChatDecision, Inbound, InboundMessage, NoticeAddress, Refusal, ReplyAddress,
};
use crate::api::identity::types::DirectoryUser;
use crate::domain::chat_users::{Decision, MessageKind, RequestCard};
use crate::server::config::Settings;
use crate::server::config::TeamsSettings;
use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
use serde_json::{json, Value};
use sha2::Digest;
use std::time::{Duration, Instant};

const BOT_SCOPE: &str = "https://api.botframework.com/.default";
const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

#[derive(Clone)]
pub struct TeamsClient {
    http: reqwest::Client,
    settings: TeamsSettings,
    /// Tokens by scope.
    tokens: TokenCache,
    /// The people, for the mapping pages.
    pub directory: super::provider::DirectoryCache,
}

impl TeamsClient {
    pub fn from_settings(settings: &TeamsSettings) -> anyhow::Result<Option<Self>> {
        if !settings.configured() {
            return Ok(None);
        }
        Ok(Some(Self {
            http: http_client()?,
            settings: settings.clone(),
            tokens: token_cache(),
            directory: Default::default(),
        }))
    }

    async fn token(&self, scope: &'static str) -> Result<String, ProviderFailure> {
        let s = &self.settings;
        let fetch = client_credentials_token(
            &self.http,
            &s.login_base_url,
            &s.tenant_id,
            &s.app_id,
            s.app_secret.expose(),
            scope,
        );
        cached_token(&self.tokens, scope, fetch).await
    }

    async fn forget_token(&self, scope: &'static str) {
        self.tokens.invalidate(scope).await;
    }

    async fn send(&self, request: reqwest::RequestBuilder, scope: &'static str) -> Result<Value, ProviderFailure> {
        let token = self.token(scope).await?;
        let response = request.bearer_auth(token).send().await.map_err(|e| unreachable("Microsoft Teams", e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response.json().await.unwrap_or(Value::Null));
        }
        if status.as_u16() == 401 {
            // A revoked or early-expired token: the next attempt gets a fresh one.
            self.forget_token(scope).await;
            return Err(ProviderFailure::transient(
                "Microsoft Teams refused the app token (401); will retry with a new one",
            ));
        }
        Err(ProviderFailure::from_response("Microsoft Teams", response).await)
    }

    /// Opens a one-to-one conversation between the bot and the person with this Entra object id,
    /// then posts `html` in it. A 403 (MessageWritesBlocked) means they blocked or removed the app.
    pub async fn send_direct(&self, aad_object_id: &str, html: &str) -> Result<(), ProviderFailure> {
        let s = &self.settings;
        let base = s.service_url.trim_end_matches('/');
        let member = json!({ "id": format!("8:orgid:{aad_object_id}"), "aadObjectId": aad_object_id });
        let conversation = one_to_one(&s.app_id, &s.tenant_id, member);
        let created =
            self.send(self.http.post(format!("{base}/v3/conversations")).json(&conversation), BOT_SCOPE).await?;
        let id = created["id"]
            .as_str()
            .ok_or_else(|| ProviderFailure::transient("Microsoft Teams created no conversation id"))?;
        let activity = json!({ "type": "message", "textFormat": "xml", "text": html });
        let url = format!(
            "{base}/v3/conversations/{}/activities",
            percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC)
        );
        self.send(self.http.post(url).json(&activity), BOT_SCOPE).await?;
        Ok(())
    }

    fn graph_users_url(&self) -> String {
        format!("{}/v1.0/users", self.settings.graph_base_url.trim_end_matches('/'))
    }

    /// Every enabled person in the tenant, following Graph's paging links.
    pub async fn users(&self) -> Result<Vec<DirectoryUser>, ProviderFailure> {
        let base = self.settings.graph_base_url.trim_end_matches('/').to_string();
        let mut users = Vec::new();
        let mut next = Some(
            self.http
                .get(self.graph_users_url())
                .query(&[("$select", "id,displayName,mail,userPrincipalName,accountEnabled"), ("$top", "999")]),
        );
        while let Some(request) = next.take() {
            let page = self.send(request, GRAPH_SCOPE).await?;
            for user in page["value"].as_array().into_iter().flatten() {
                if user["accountEnabled"] != false {
                    users.extend(directory_user(user));
                }
            }
            // The token goes only to Graph itself, never to a link pointing elsewhere: origins
            // are compared parsed (scheme, host, port), not as text prefixes.
            next = page["@odata.nextLink"].as_str().filter(|l| same_origin(l, &base)).map(|l| self.http.get(l));
        }
        users.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()));
        Ok(users)
    }

    /// The person whose mail or sign-in name is this address, if any.
    pub async fn lookup_by_email(&self, email: &str) -> Result<Option<DirectoryUser>, ProviderFailure> {
        let quoted = email.replace('\'', "''");
        let filter = format!("mail eq '{quoted}' or userPrincipalName eq '{quoted}'");
        let request = self
            .http
            .get(self.graph_users_url())
            .query(&[("$filter", filter.as_str()), ("$select", "id,displayName,mail,userPrincipalName")]);
        let page = self.send(request, GRAPH_SCOPE).await?;
        Ok(page["value"].as_array().and_then(|users| users.first()).and_then(directory_user))
    }
}

/// The body of `POST /v3/conversations` that opens (or finds) the one-to-one chat between the
/// bot and one member of the tenant.
fn one_to_one(bot_app_id: &str, tenant_id: &str, member: Value) -> Value {
    json!({
        "bot": { "id": format!("28:{bot_app_id}") },
        "members": [member],
        "channelData": { "tenant": { "id": tenant_id } },
        "isGroup": false,
        "tenantId": tenant_id,
    })
}

fn directory_user(user: &Value) -> Option<DirectoryUser> {
    let id = user["id"].as_str()?.to_string();
    let email = user["mail"].as_str().or(user["userPrincipalName"].as_str()).map(str::to_string);
    let name = user["displayName"].as_str().filter(|n| !n.trim().is_empty()).map(str::to_string);
    Some(DirectoryUser { name: name.or_else(|| email.clone()).unwrap_or_else(|| id.clone()), id, email })
}

/// An app-only token from Entra ID's client-credentials flow, with when to stop using it.
async fn client_credentials_token(
    http: &reqwest::Client,
    login_base_url: &str,
    tenant: &str,
    app_id: &str,
    secret: &str,
    scope: &str,
) -> Result<(String, Instant), ProviderFailure> {
    let url = format!("{}/{}/oauth2/v2.0/token", login_base_url.trim_end_matches('/'), tenant);
    let client = BasicClient::new(ClientId::new(app_id.to_string()))
        .set_client_secret(ClientSecret::new(secret.to_string()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(TokenUrl::new(url).map_err(|e| ProviderFailure::permanent(format!("Teams token URL: {e}")))?);
    let answer = client
        .exchange_client_credentials()
        .add_scope(Scope::new(scope.to_string()))
        .request_async(http)
        .await
        .map_err(|e| match e {
            // Entra ID refused the app's credentials: only a configuration change helps.
            oauth2::RequestTokenError::ServerResponse(r) => {
                ProviderFailure::permanent(format!("Entra ID refused the Teams app's credentials: {}", r.error()))
            }
            other => ProviderFailure::transient(format!("getting a Teams token: {other}")),
        })?;
    let lifetime = answer.expires_in().unwrap_or(Duration::from_secs(3_600));
    // A minute early, so a token never runs out between this check and its use.
    let until = Instant::now() + lifetime.saturating_sub(Duration::from_secs(60));
    Ok((answer.access_token().secret().clone(), until))
}

/// A connector's Bot Framework token, cached by what earns it (tenant, app id, password) until
/// shortly before it expires.
pub async fn connector_token(
    settings: &Settings,
    http: &reqwest::Client,
    bot: &BotFramework,
    connector: &Connector,
) -> Result<String, ProviderFailure> {
    let c = &connector.credentials;
    let app_id = c.get("app_id");
    let fetch = client_credentials_token(
        http,
        &settings.teams.login_base_url,
        c.get("tenant_id"),
        app_id,
        c.get("app_password"),
        BOT_SCOPE,
    );
    // Keyed by everything that earns the token, not the app id alone: a connector naming another
    // organization's app id with a wrong password must not be handed that organization's token.
    let mut key = sha2::Sha256::new();
    for part in [c.get("tenant_id"), app_id, c.get("app_password")] {
        key.update(part.as_bytes());
        key.update([0]);
    }
    cached_token(&bot.tokens, &hex::encode(key.finalize()), fetch).await
}

/// Replies in the conversation an inbound activity came from.
pub async fn reply(
    http: &reqwest::Client,
    token: &str,
    service_url: &str,
    conversation_id: &str,
    text: &str,
) -> Result<(), ProviderFailure> {
    let activity = json!({ "type": "message", "textFormat": "plain", "text": text });
    bot_call(http.post(activities_url(service_url, conversation_id)).json(&activity), token).await?;
    Ok(())
}

/// The attachment type of a file shared in a Teams chat.
const FILE_DOWNLOAD_INFO: &str = "application/vnd.microsoft.teams.file.download.info";

/// The activity's text with the bot's mention removed and other `<at>…</at>` mentions reduced to
/// the name (Bot Framework: "Mentions" in the activity's entities).
fn without_mentions(activity: &Activity) -> String {
    let mut text = activity.text.clone().unwrap_or_default();
    let bot = activity.recipient.id.as_str();
    for mention in activity.entities.iter().filter(|e| e["type"] == "mention") {
        let markup = mention["text"].as_str().filter(|m| m.starts_with("<at>") && m.ends_with("</at>"));
        if let (Some(markup), true) = (markup, !bot.is_empty() && mention["mentioned"]["id"] == bot) {
            // Once per entity: someone else mentioned by the same name keeps theirs.
            text = text.replacen(markup, "", 1);
        }
    }
    text.replace("<at>", "").replace("</at>", "").trim().to_string()
}

/// The parts of a Bot Framework activity Onboard reads.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub service_url: String,
    /// "msteams" for Teams; Web Chat and Direct Line, which an Azure Bot also offers, are others.
    #[serde(default)]
    pub channel_id: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub from: ActivityFrom,
    /// The bot.
    #[serde(default)]
    pub recipient: ActivityFrom,
    #[serde(default)]
    pub conversation: ActivityConversation,
    /// Files and images; Teams also attaches an HTML copy of the text.
    #[serde(default)]
    pub attachments: Vec<Value>,
    /// Mentions (`{type: "mention", mentioned: {id}, text: "<at>Name</at>"}`) among others.
    #[serde(default)]
    pub entities: Vec<Value>,
    /// What an Adaptive Card's `Action.Submit` sends back: its `data`.
    #[serde(default)]
    pub value: Option<Value>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityFrom {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub aad_object_id: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityConversation {
    #[serde(default)]
    pub id: String,
    /// "personal", "groupChat" or "channel".
    #[serde(default)]
    pub conversation_type: Option<String>,
    #[serde(default)]
    pub is_group: Option<bool>,
}

pub fn decode_activity(body: &[u8]) -> Result<Activity, Refusal> {
    let value = json_body(body)?;
    serde_json::from_value(value).map_err(|e| Refusal::malformed(format!("not a Bot Framework activity: {e}")))
}

/// A person's message in an activity, text or a file; conversation updates, typing and the like
/// carry none. The bot's own `<at>` mention is removed from the text, and other mentions keep
/// only the name, so the agent reads what the person wrote. Group chats and channels are shared.
pub fn inbound(activity: &Activity) -> Inbound {
    if activity.value.as_ref().is_some_and(|v| v["onboard"] == CARD_KIND) {
        // A card's submit, never a message for the agent: one that does not read is dropped.
        return decision(activity).map_or(Inbound::Nothing, Inbound::Decision);
    }
    let text = without_mentions(activity);
    // The HTML copy of the text is not a file the person sent.
    let file = activity.attachments.iter().find(|a| a["contentType"].as_str().is_some_and(|t| t != "text/html"));
    // This connector speaks for Teams only: what other Bot Framework channels send is not taken in.
    let from_teams = activity.channel_id == "msteams";
    let empty = text.is_empty() && file.is_none();
    if !from_teams || activity.kind != "message" || empty || activity.conversation.id.is_empty() {
        return Inbound::Nothing;
    }
    let (kind, attachment) = match file {
        None => (MessageKind::Text, None),
        // A file shared in a chat: its download URL carries a short-lived credential, so the
        // agent gets the file's id and type instead.
        Some(file) if file["contentType"] == FILE_DOWNLOAD_INFO => {
            let kind = MessageKind::of_file_extension(file["content"]["fileType"].as_str().unwrap_or_default());
            (kind, file["content"]["uniqueId"].as_str().map(String::from))
        }
        Some(file) => {
            let kind = MessageKind::of_mime_type(file["contentType"].as_str().unwrap_or_default());
            (kind, file["contentUrl"].as_str().map(String::from))
        }
    };
    // Only a personal chat is the person and the bot alone; a conversation that does not say
    // is taken as shared, unless its id is a personal one (`a:…`).
    let conversation = &activity.conversation;
    let shared = match (conversation.conversation_type.as_deref(), conversation.is_group) {
        (Some(kind), _) => kind != "personal",
        (None, Some(group)) => group,
        (None, None) => !conversation.id.starts_with("a:"),
    };
    let platform_user_id = activity.from.aad_object_id.clone().unwrap_or_else(|| activity.from.id.clone());
    let (first_name, last_name) = split_name(&activity.from.name);
    Inbound::Messages(vec![InboundMessage {
        platform_user_id,
        first_name,
        last_name,
        message_id: activity.id.clone(),
        text,
        kind,
        attachment,
        shared,
        reply_to: ReplyAddress::Teams {
            service_url: activity.service_url.clone(),
            conversation_id: activity.conversation.id.clone(),
        },
    }])
}

/// The `data` of an approvers' card's buttons names this, so no other card's submit is taken for one.
const CARD_KIND: &str = "access_request";

/// A click on an approvers' card's Approve or Reject, from Teams.
fn decision(activity: &Activity) -> Option<ChatDecision> {
    let data = activity.value.as_ref()?;
    if activity.channel_id != "msteams" || activity.kind != "message" || activity.from.id.is_empty() {
        return None;
    }
    let decision = match data["decision"].as_str()? {
        "approve" => Decision::Approve,
        "reject" => Decision::Reject,
        _ => return None,
    };
    Some(ChatDecision {
        request_id: data["request"].as_i64()?,
        decision,
        approver: activity.from.aad_object_id.clone().unwrap_or_else(|| activity.from.id.clone()),
        notice_to: NoticeAddress::Teams {
            service_url: activity.service_url.clone(),
            member_id: activity.from.id.clone(),
        },
    })
}

/// An approvers' card as an Adaptive Card attachment (schema 1.4, which Teams renders): the
/// person with their picture, their platform and first message, then Approve and Reject
/// (`Action.Submit`), or once decided who decided and when, in each reader's time zone.
pub fn approval_card(card: &RequestCard) -> Value {
    // What people wrote goes in TextRuns, which Teams shows as typed: a TextBlock would render
    // Markdown, so a first message could carry a link dressed up as something else.
    let plain = |text: &str, subtle: bool| json!({ "type": "RichTextBlock", "inlines": [{ "type": "TextRun", "text": text, "isSubtle": subtle, "weight": if subtle { "Default" } else { "Bolder" } }] });
    let about = format!("wants to talk to the agent · {} · {} · {}", card.connector, card.platform, card.platform_id);
    let mut person =
        vec![json!({ "type": "Column", "width": "stretch", "items": [plain(&card.name, false), plain(&about, true)] })];
    // Teams fetches the picture itself; a kept data: URL could be larger than a whole activity may be.
    if let Some(url) = card.avatar_url.as_ref().filter(|u| u.starts_with("https://")) {
        person.insert(
            0,
            json!({ "type": "Column", "width": "auto", "items": [
                { "type": "Image", "url": url, "size": "Small", "style": "Person", "altText": card.name },
            ]}),
        );
    }
    let said: String = card.first_message.chars().take(CARD_MESSAGE_CHARS).collect();
    let said = if said.trim().is_empty() { "(no text)".to_string() } else { said };
    let mut body = vec![json!({ "type": "ColumnSet", "columns": person }), plain(&said, false)];
    body[1]["inlines"][0]["weight"] = json!("Default");
    let mut actions = Vec::new();
    match crate::domain::chat_users::card_outcome(card.status, card.decided_by.as_deref()) {
        None => {
            for (title, decision, style) in [("Approve", "approve", "positive"), ("Reject", "reject", "destructive")] {
                actions.push(json!({ "type": "Action.Submit", "title": title, "style": style,
                    "data": { "onboard": CARD_KIND, "decision": decision, "request": card.request_id } }));
            }
        }
        Some(outcome) => {
            let when = card.decided_at.map(|ms| format!(", {}", teams_time(ms))).unwrap_or_default();
            // A TextRun too, so a member's name is shown as typed; Teams expands the time function in it.
            body.push(plain(&format!("{outcome}{when}"), false));
        }
    }
    json!({
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": {
            "type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "version": "1.4",
            "body": body, "actions": actions,
        },
    })
}

/// The first message as a card shows it, cut well inside what one activity may carry.
const CARD_MESSAGE_CHARS: usize = 2_500;

/// `{{TIME(…)}}`: Teams writes the time in each reader's own time zone.
fn teams_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| format!("{{{{TIME({})}}}}", t.format("%Y-%m-%dT%H:%M:%SZ")))
        .unwrap_or_default()
}

/// When a decision was made, for a private answer (plain text, so in UTC).
pub fn decided_when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.format("%H:%M UTC").to_string()).unwrap_or_default()
}

fn activities_url(service_url: &str, conversation_id: &str) -> String {
    format!(
        "{}/v3/conversations/{}/activities",
        service_url.trim_end_matches('/'),
        percent_encoding::utf8_percent_encode(conversation_id, percent_encoding::NON_ALPHANUMERIC)
    )
}

async fn bot_call(request: reqwest::RequestBuilder, token: &str) -> Result<Value, ProviderFailure> {
    let response = request.bearer_auth(token).send().await.map_err(|e| unreachable("Microsoft Teams", e))?;
    if response.status().is_success() {
        Ok(response.json().await.unwrap_or(Value::Null))
    } else {
        Err(ProviderFailure::from_response("Microsoft Teams", response).await)
    }
}

/// Posts an approvers' card in a channel or group chat the bot is in; answers the activity id,
/// which updating it takes.
pub async fn post_card(
    http: &reqwest::Client,
    token: &str,
    service_url: &str,
    conversation_id: &str,
    card: Value,
    summary: &str,
) -> Result<String, ProviderFailure> {
    let activity = json!({ "type": "message", "summary": summary, "attachments": [card] });
    let posted = bot_call(http.post(activities_url(service_url, conversation_id)).json(&activity), token).await?;
    posted["id"]
        .as_str()
        .map(str::to_string)
        // Posted, but with nothing to update it by: another attempt would post a second card.
        .ok_or_else(|| ProviderFailure::permanent("Microsoft Teams returned no activity id for the card"))
}

/// Replaces a posted card (`PUT …/activities/{activityId}`).
pub async fn update_card(
    http: &reqwest::Client,
    token: &str,
    service_url: &str,
    conversation_id: &str,
    activity_id: &str,
    card: Value,
) -> Result<(), ProviderFailure> {
    let url = format!(
        "{}/{}",
        activities_url(service_url, conversation_id),
        percent_encoding::utf8_percent_encode(activity_id, percent_encoding::NON_ALPHANUMERIC)
    );
    let activity = json!({ "type": "message", "id": activity_id, "attachments": [card] });
    bot_call(http.put(url).json(&activity), token).await?;
    Ok(())
}

/// Tells one member something in a one-to-one chat with the bot, which Teams opens (or finds)
/// for a member of a team or chat the bot is in: the private answer to a click.
pub async fn tell_privately(
    http: &reqwest::Client,
    token: &str,
    service_url: &str,
    bot_app_id: &str,
    tenant_id: &str,
    member_id: &str,
    text: &str,
) -> Result<(), ProviderFailure> {
    let conversation = one_to_one(bot_app_id, tenant_id, json!({ "id": member_id }));
    let url = format!("{}/v3/conversations", service_url.trim_end_matches('/'));
    let created = bot_call(http.post(url).json(&conversation), token).await?;
    let id = created["id"]
        .as_str()
        .ok_or_else(|| ProviderFailure::transient("Microsoft Teams created no conversation id"))?;
    reply(http, token, service_url, id, text).await
}

/// Whether `link` has the origin (scheme, host, port) of `base` (RFC 6454), with no user info.
fn same_origin(link: &str, base: &str) -> bool {
    match (url::Url::parse(link), url::Url::parse(base)) {
        (Ok(l), Ok(b)) => l.origin() == b.origin() && l.username().is_empty() && l.password().is_none(),
        _ => false,
    }
}

#[cfg(test)]
mod origin_tests {
    use super::same_origin;

    #[test]
    fn paging_links_are_followed_only_to_graph_itself() {
        let graph = "https://graph.microsoft.com";
        assert!(same_origin("https://graph.microsoft.com/v1.0/users?$skiptoken=x", graph));
        for elsewhere in [
            "https://graph.microsoft.com.evil.example/v1.0/users",
            "https://graph.microsoft.com@evil.example/v1.0/users",
            "http://graph.microsoft.com/v1.0/users",
            "https://graph.microsoft.com:8443/v1.0/users",
        ] {
            assert!(!same_origin(elsewhere, graph), "{elsewhere}");
        }
    }
}
