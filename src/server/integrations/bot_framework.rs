//! Bot Framework (Microsoft Teams bots): the bearer token each incoming activity carries,
//! checked against Bot Framework's published keys, and the tokens Onboard sends with, cached.

use super::provider::{unreachable, ProviderFailure};
use super::shared::{header, Refusal};
use crate::server::config::Settings;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const BOT_FRAMEWORK_ISSUER: &str = "https://api.botframework.com";

#[derive(serde::Deserialize)]
struct BotClaims {
    #[serde(rename = "serviceUrl", default)]
    service_url: String,
}

/// Checks the `Authorization: Bearer` JWT Bot Framework signs each activity with: RS256 by one
/// of its published keys, issued by Bot Framework for this bot's app id, unexpired. Returns the
/// service URL it was issued for.
pub async fn verify_bearer(
    settings: &Settings,
    http: &reqwest::Client,
    bot: &BotFramework,
    app_id: &str,
    headers: &axum::http::HeaderMap,
) -> Result<String, Refusal> {
    let token = header(headers, "authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(|| Refusal::unauthorized("no bearer token"))?;
    let jwt_header =
        jsonwebtoken::decode_header(token).map_err(|e| Refusal::unauthorized(format!("bad token: {e}")))?;
    if jwt_header.alg != jsonwebtoken::Algorithm::RS256 {
        return Err(Refusal::unauthorized("the token is not RS256"));
    }
    let kid = jwt_header.kid.ok_or_else(|| Refusal::unauthorized("the token names no key"))?;
    let key = bot.keys.key(http, &settings.chat.botframework_openid_url, &kid).await?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[BOT_FRAMEWORK_ISSUER]);
    validation.set_audience(&[app_id]);
    validation.leeway = 300;
    let claims = jsonwebtoken::decode::<BotClaims>(token, &key, &validation)
        .map_err(|e| Refusal::unauthorized(format!("the token does not verify: {e}")))?
        .claims;
    Ok(claims.service_url)
}

/// An activity must name the service URL its token was issued for, so a reply cannot be steered
/// elsewhere.
pub fn check_service_url(token_service_url: &str, activity_service_url: &str) -> Result<(), Refusal> {
    if token_service_url.trim_end_matches('/') == activity_service_url.trim_end_matches('/') {
        Ok(())
    } else {
        Err(Refusal::unauthorized("the token was issued for another service URL"))
    }
}

/// What is worth keeping between Bot Framework calls.
#[derive(Clone)]
pub struct BotFramework {
    /// Tokens by app id.
    pub(super) tokens: TokenCache,
    /// The signing keys, refetched when stale or when an unknown key id shows up.
    keys: SigningKeys,
}

impl Default for BotFramework {
    fn default() -> Self {
        Self { tokens: token_cache(), keys: SigningKeys::default() }
    }
}

/// Access tokens, each with when to stop using it, and dropped then.
pub(super) type TokenCache = moka::future::Cache<String, (String, Instant)>;

/// A bound on the tokens kept (one per bot or scope): far more than any organization has.
const MAX_TOKENS: u64 = 1_000;

pub(super) fn token_cache() -> TokenCache {
    moka::future::Cache::builder().max_capacity(MAX_TOKENS).expire_after(UntilTokenEnds).build()
}

/// The token cached for `key` (an app id, a scope), or the one `fetch` gets. Concurrent misses
/// for one key wait for a single fetch rather than each asking Entra ID.
pub(super) async fn cached_token(
    tokens: &TokenCache,
    key: &str,
    fetch: impl std::future::Future<Output = Result<(String, Instant), ProviderFailure>>,
) -> Result<String, ProviderFailure> {
    tokens.try_get_with(key.to_string(), fetch).await.map(|(token, _)| token).map_err(|shared| (*shared).clone())
}

struct UntilTokenEnds;

impl moka::Expiry<String, (String, Instant)> for UntilTokenEnds {
    fn expire_after_create(&self, _: &String, token: &(String, Instant), now: Instant) -> Option<Duration> {
        Some(token.1.saturating_duration_since(now))
    }
}

/// Bot Framework's published signing keys by key id, kept for a day; an unknown key id refetches
/// them (at most once a minute, so forged key ids cannot make Onboard hammer the metadata).
#[derive(Clone, Default)]
pub struct SigningKeys(Arc<tokio::sync::Mutex<Option<(Instant, HashMap<String, jsonwebtoken::DecodingKey>)>>>);

const KEYS_FRESH_FOR: Duration = Duration::from_secs(24 * 3_600);
const KEYS_REFETCH_AFTER: Duration = Duration::from_secs(60);

impl SigningKeys {
    async fn key(
        &self,
        http: &reqwest::Client,
        openid_url: &str,
        kid: &str,
    ) -> Result<jsonwebtoken::DecodingKey, Refusal> {
        let mut cached = self.0.lock().await;
        let refetch = match cached.as_ref() {
            None => true,
            Some((at, keys)) => {
                at.elapsed() > KEYS_FRESH_FOR || (!keys.contains_key(kid) && at.elapsed() > KEYS_REFETCH_AFTER)
            }
        };
        if refetch {
            match fetch_keys(http, openid_url).await {
                Ok(keys) => *cached = Some((Instant::now(), keys)),
                Err(e) => {
                    tracing::warn!(error = %e.message, "fetching Bot Framework's signing keys failed");
                    if cached.is_none() {
                        return Err(Refusal {
                            status: axum::http::StatusCode::SERVICE_UNAVAILABLE,
                            reason: "Bot Framework's signing keys are unavailable".into(),
                        });
                    }
                }
            }
        }
        cached
            .as_ref()
            .and_then(|(_, keys)| keys.get(kid).cloned())
            .ok_or_else(|| Refusal::unauthorized("the token is signed by an unknown key"))
    }
}

async fn fetch_keys(
    http: &reqwest::Client,
    openid_url: &str,
) -> Result<HashMap<String, jsonwebtoken::DecodingKey>, ProviderFailure> {
    let get = |url: String| async move {
        let response = http.get(&url).send().await.map_err(|e| unreachable("Bot Framework", e))?;
        if !response.status().is_success() {
            return Err(ProviderFailure::from_response("Bot Framework", response).await);
        }
        response.json::<Value>().await.map_err(|e| {
            ProviderFailure::transient(format!("Bot Framework keys: {}", crate::server::outbound::without_url(&e)))
        })
    };
    let metadata = get(openid_url.to_string()).await?;
    let jwks_uri =
        metadata["jwks_uri"].as_str().ok_or_else(|| ProviderFailure::transient("OpenID metadata without jwks_uri"))?;
    let jwks = get(jwks_uri.to_string()).await?;
    // Key by key (RFC 7517 §5), so one key of a kind we cannot read does not hide the others.
    let keys = jwks["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|key| serde_json::from_value::<jsonwebtoken::jwk::Jwk>(key.clone()).ok())
        .filter_map(|jwk| Some((jwk.common.key_id.clone()?, jsonwebtoken::DecodingKey::from_jwk(&jwk).ok()?)))
        .collect();
    Ok(keys)
}
