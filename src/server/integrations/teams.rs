//! Microsoft Teams: proactive one-to-one messages through the Bot Framework, and the tenant's
//! people through Microsoft Graph. Both take an app-only token from Entra ID's client-credentials
//! flow, cached until shortly before it expires.

use super::{http_client, unreachable, ProviderFailure};
use crate::api::types::DirectoryUser;
use crate::server::config::TeamsSettings;
use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const BOT_SCOPE: &str = "https://api.botframework.com/.default";
const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

#[derive(Clone)]
pub struct TeamsClient {
    http: reqwest::Client,
    settings: TeamsSettings,
    /// Tokens by scope, with when to stop using them.
    tokens: Arc<tokio::sync::Mutex<HashMap<&'static str, (String, Instant)>>>,
    /// The people, for the mapping pages.
    pub directory: super::DirectoryCache,
}

impl TeamsClient {
    pub fn from_settings(settings: &TeamsSettings) -> anyhow::Result<Option<Self>> {
        if !settings.configured() {
            return Ok(None);
        }
        Ok(Some(Self {
            http: http_client()?,
            settings: settings.clone(),
            tokens: Default::default(),
            directory: Default::default(),
        }))
    }

    async fn token(&self, scope: &'static str) -> Result<String, ProviderFailure> {
        let mut tokens = self.tokens.lock().await;
        if let Some((token, until)) = tokens.get(scope) {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let s = &self.settings;
        let url = format!("{}/{}/oauth2/v2.0/token", s.login_base_url.trim_end_matches('/'), s.tenant_id);
        let client = BasicClient::new(ClientId::new(s.app_id.clone()))
            .set_client_secret(ClientSecret::new(s.app_secret.expose().to_string()))
            .set_auth_type(AuthType::RequestBody)
            .set_token_uri(
                TokenUrl::new(url).map_err(|e| ProviderFailure::permanent(format!("Teams token URL: {e}")))?,
            );
        let answer = client
            .exchange_client_credentials()
            .add_scope(Scope::new(scope.to_string()))
            .request_async(&self.http)
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
        let token = answer.access_token().secret().clone();
        tokens.insert(scope, (token.clone(), until));
        Ok(token)
    }

    async fn forget_token(&self, scope: &'static str) {
        self.tokens.lock().await.remove(scope);
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
        let conversation = json!({
            "bot": { "id": format!("28:{}", s.app_id) },
            "members": [{ "id": format!("8:orgid:{aad_object_id}"), "aadObjectId": aad_object_id }],
            "channelData": { "tenant": { "id": s.tenant_id } },
            "isGroup": false,
            "tenantId": s.tenant_id,
        });
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
            // The token goes only to Graph itself, never to a link pointing elsewhere.
            next = page["@odata.nextLink"].as_str().filter(|l| l.starts_with(&base)).map(|l| self.http.get(l));
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

fn directory_user(user: &Value) -> Option<DirectoryUser> {
    let id = user["id"].as_str()?.to_string();
    let email = user["mail"].as_str().or(user["userPrincipalName"].as_str()).map(str::to_string);
    let name = user["displayName"].as_str().filter(|n| !n.trim().is_empty()).map(str::to_string);
    Some(DirectoryUser { name: name.or_else(|| email.clone()).unwrap_or_else(|| id.clone()), id, email })
}
