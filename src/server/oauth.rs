//! "Connect Slack" and "Connect Microsoft Teams" on a member's profile: OAuth 2.0 authorization
//! code with PKCE (Sign in with Slack; Entra ID). The account the provider vouches for becomes
//! the member's mapping, marked as connected by the user.

use super::auth::{caller_of, Caller};
use super::db::{self, now_ms};
use super::integrations::provider::http_client;
use super::AppState;
use crate::domain::onboarding::{ConnectProblem, Provider};
use crate::domain::time::MINUTE_MS;
use axum::extract::{Path, Query, State};
use axum::response::Redirect;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tower_sessions::Session;

const PENDING_KEY: &str = "oauth_connect";

/// A connection under way, kept in the person's session until the provider sends them back.
#[derive(Serialize, Deserialize)]
struct PendingConnect {
    provider: Provider,
    csrf: String,
    verifier: String,
    at: i64,
}

struct Endpoints {
    authorize: String,
    token: String,
    scopes: &'static [&'static str],
    client_id: String,
    client_secret: String,
}

/// Where to send people for `provider`, when this Onboard is set up for it.
fn endpoints(state: &AppState, provider: Provider) -> Option<Endpoints> {
    let s = &state.settings;
    match provider {
        Provider::Slack if s.slack.oauth_configured() => Some(Endpoints {
            authorize: s.slack.authorize_url.clone(),
            token: format!("{}/openid.connect.token", s.slack.api_base_url.trim_end_matches('/')),
            scopes: &["openid", "profile", "email"],
            client_id: s.slack.client_id.clone(),
            client_secret: s.slack.client_secret.expose().to_string(),
        }),
        Provider::Teams if s.teams.configured() => {
            let base = format!("{}/{}/oauth2/v2.0", s.teams.login_base_url.trim_end_matches('/'), s.teams.tenant_id);
            Some(Endpoints {
                authorize: format!("{base}/authorize"),
                token: format!("{base}/token"),
                scopes: &["openid", "profile", "User.Read"],
                client_id: s.teams.app_id.clone(),
                client_secret: s.teams.app_secret.expose().to_string(),
            })
        }
        _ => None,
    }
}

pub fn available(state: &AppState, provider: Provider) -> bool {
    endpoints(state, provider).is_some()
}

fn redirect_uri(state: &AppState, provider: Provider) -> String {
    format!("{}/oauth/{}/callback", state.settings.public_base(), provider.key())
}

type Client = oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    oauth2::basic::BasicTokenResponse,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

fn client(state: &AppState, provider: Provider, e: &Endpoints) -> Result<Client, ConnectProblem> {
    let bad = |what: &str, err: oauth2::url::ParseError| {
        tracing::error!(%err, what, "an OAuth address in the configuration is not a URL");
        ConnectProblem::Failed
    };
    Ok(BasicClient::new(ClientId::new(e.client_id.clone()))
        .set_client_secret(ClientSecret::new(e.client_secret.clone()))
        .set_auth_type(AuthType::RequestBody)
        .set_auth_uri(AuthUrl::new(e.authorize.clone()).map_err(|err| bad("authorize", err))?)
        .set_token_uri(TokenUrl::new(e.token.clone()).map_err(|err| bad("token", err))?)
        .set_redirect_uri(RedirectUrl::new(redirect_uri(state, provider)).map_err(|err| bad("redirect", err))?))
}

/// The provider's authorization address for this person, with a fresh PKCE challenge and state.
pub async fn start(state: &AppState, session: &Session, provider: Provider) -> Result<String, ConnectProblem> {
    let e = endpoints(state, provider).ok_or(ConnectProblem::Unavailable)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let client = client(state, provider, &e)?;
    let mut request = client.authorize_url(CsrfToken::new_random);
    for scope in e.scopes {
        request = request.add_scope(Scope::new(scope.to_string()));
    }
    let (url, csrf) = request.set_pkce_challenge(challenge).url();
    let pending =
        PendingConnect { provider, csrf: csrf.secret().clone(), verifier: verifier.secret().clone(), at: now_ms() };
    session.insert(PENDING_KEY, &pending).await.map_err(failed_session)?;
    Ok(url.to_string())
}

/// Back from the provider: checks the state, trades the code (with the PKCE verifier) for a
/// token, asks who it belongs to, and maps the caller to that account. Returns its name.
pub async fn finish(
    state: &AppState,
    session: &Session,
    caller: &Caller,
    provider: Provider,
    code: &str,
    returned_state: &str,
) -> Result<String, ConnectProblem> {
    // Taken out at once: a state works for one return only.
    let pending: Option<PendingConnect> = session.remove(PENDING_KEY).await.map_err(failed_session)?;
    let pending = pending
        .filter(|p| p.provider == provider && now_ms() - p.at < 10 * MINUTE_MS)
        .filter(|p| bool::from(p.csrf.as_bytes().ct_eq(returned_state.as_bytes())))
        .ok_or(ConnectProblem::Expired)?;
    let e = endpoints(state, provider).ok_or(ConnectProblem::Unavailable)?;
    let http = http_client().map_err(|_| ConnectProblem::Failed)?;
    let token = client(state, provider, &e)?
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
        .request_async(&http)
        .await
        .map_err(|err| {
            tracing::warn!(error = %err, provider = provider.key(), "exchanging an OAuth code failed");
            ConnectProblem::NotConfirmed
        })?;
    let access_token = token.access_token().secret();
    let mut account = whoami(state, provider, &http, access_token).await?;
    if provider == Provider::Teams {
        account.picture = graph_photo(state, &http, access_token).await;
    }
    store(state, caller, provider, &account).await.map_err(|e| {
        tracing::error!(error = %e, "storing a connected identity failed");
        ConnectProblem::Failed
    })?;
    Ok(account.name)
}

/// The account a member connected, as the provider described it.
struct Connected {
    external_id: String,
    name: String,
    /// An https or data: URL, for the top bar.
    picture: Option<String>,
}

async fn store(state: &AppState, caller: &Caller, provider: Provider, account: &Connected) -> Result<(), sqlx::Error> {
    let (external_id, name) = (account.external_id.as_str(), account.name.as_str());
    let mut tx = state.db.begin().await?;
    db::identities::set(
        &mut tx,
        &db::identities::NewMapping {
            org_id: caller.org_id,
            membership_id: caller.membership.membership_id,
            provider,
            external_id,
            external_name: name,
            source: "oauth",
            created_by: caller.account_id,
            picture: account.picture.as_deref(),
        },
    )
    .await?;
    let detail = format!("{} connected {} {name} ({external_id})", caller.membership.email, provider.label());
    db::audit::record(&mut tx, caller.org_id, caller.account_id, "identity.connected", &detail).await?;
    tx.commit().await
}

fn failed_session(e: tower_sessions::session::Error) -> ConnectProblem {
    tracing::error!(error = %e, "session store failed");
    ConnectProblem::Failed
}

/// The provider's own id and name for the person the token belongs to, and for Slack their
/// picture: the OpenID Connect userInfo `picture` claim (OpenID Connect Core 1.0, 5.1), an https
/// address the browser loads itself.
async fn whoami(
    state: &AppState,
    provider: Provider,
    http: &reqwest::Client,
    token: &str,
) -> Result<Connected, ConnectProblem> {
    let s = &state.settings;
    let url = match provider {
        Provider::Slack => format!("{}/openid.connect.userInfo", s.slack.api_base_url.trim_end_matches('/')),
        Provider::Teams => format!("{}/v1.0/me", s.teams.graph_base_url.trim_end_matches('/')),
    };
    let failed = |why: String| {
        tracing::warn!(why, provider = provider.key(), "asking the provider who signed in failed");
        ConnectProblem::NotConfirmed
    };
    let response =
        http.get(url).bearer_auth(token).send().await.map_err(|e| failed(crate::server::outbound::without_url(&e)))?;
    if !response.status().is_success() {
        return Err(failed(format!("status {}", response.status())));
    }
    let body: serde_json::Value =
        response.json().await.map_err(|e| failed(crate::server::outbound::without_url(&e)))?;
    let (id, name) = match provider {
        Provider::Slack => (body["https://slack.com/user_id"].as_str(), body["name"].as_str()),
        Provider::Teams => (body["id"].as_str(), body["displayName"].as_str()),
    };
    let id = id.filter(|i| !i.is_empty()).ok_or_else(|| failed(format!("no user id in {body}")))?;
    let picture = match provider {
        Provider::Slack => body["picture"].as_str().and_then(picture_address),
        Provider::Teams => None,
    };
    Ok(Connected { external_id: id.to_string(), name: name.unwrap_or(id).to_string(), picture })
}

/// A picture address the browser may load: an absolute https URL with a host, at most 2,048
/// characters, as the URL parser writes it.
fn picture_address(claimed: &str) -> Option<String> {
    let url = url::Url::parse(claimed).ok().filter(|u| u.scheme() == "https" && u.host_str().is_some())?;
    Some(url.to_string()).filter(|u| u.len() <= 2048)
}

/// The largest profile photo kept, in bytes: Graph's 48x48 photos are 1 to 3 KB.
const MAX_PHOTO_BYTES: usize = 16 * 1024;

/// The 48x48 profile photo of the Microsoft account behind `token`, as a data: URL; `None`
/// when it has none (404) or asking failed: the initials show instead, and connecting still
/// succeeds. Microsoft Graph `GET /me/photos/48x48/$value` ("Get profilePhoto") answers with the
/// image's bytes, not an address. Only JPEG, PNG and GIF are kept.
async fn graph_photo(state: &AppState, http: &reqwest::Client, token: &str) -> Option<String> {
    let url = format!("{}/v1.0/me/photos/48x48/$value", state.settings.teams.graph_base_url.trim_end_matches('/'));
    // A slow photo must not hold up the person's return to their profile.
    let request = http.get(url).bearer_auth(token).timeout(std::time::Duration::from_secs(3));
    let mut response = request.send().await.ok()?.error_for_status().ok()?;
    let kind = response.headers().get(reqwest::header::CONTENT_TYPE)?.to_str().ok()?.to_ascii_lowercase();
    let kind = ["image/jpeg", "image/png", "image/gif"].into_iter().find(|k| kind.starts_with(k))?;
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.ok()? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_PHOTO_BYTES {
            return None;
        }
    }
    use base64::Engine as _;
    (!bytes.is_empty())
        .then(|| format!("data:{kind};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes)))
}

/// `GET /oauth/{provider}/start`: off to the provider, or back to the profile saying why not.
pub async fn start_route(State(state): State<AppState>, session: Session, Path(provider): Path<String>) -> Redirect {
    let Some(provider) = Provider::parse(&provider) else {
        return Redirect::to("/profile");
    };
    match caller_of(&state, &session).await {
        Ok(Some(caller)) if caller.membership.agreement_pending => return Redirect::to("/agreement"),
        Ok(Some(_)) => {}
        _ => return Redirect::to("/sign-in"),
    }
    match start(&state, &session, provider).await {
        Ok(url) => Redirect::to(&url),
        Err(problem) => Redirect::to(&profile_with(provider, problem)),
    }
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /oauth/{provider}/callback`: where the provider sends the person back.
pub async fn callback_route(
    State(state): State<AppState>,
    session: Session,
    Path(provider): Path<String>,
    Query(back): Query<Callback>,
) -> Redirect {
    let Some(provider) = Provider::parse(&provider) else {
        return Redirect::to("/profile");
    };
    let caller = match caller_of(&state, &session).await {
        Ok(Some(caller)) if caller.membership.agreement_pending => return Redirect::to("/agreement"),
        Ok(Some(caller)) => caller,
        _ => return Redirect::to("/sign-in"),
    };
    let outcome = match (back.code, back.state, back.error) {
        (_, _, Some(_)) | (None, _, _) | (_, None, _) => {
            // Declined at the provider: forget the attempt.
            let _ = session.remove::<PendingConnect>(PENDING_KEY).await;
            Err(ConnectProblem::Cancelled)
        }
        (Some(code), Some(returned), None) => finish(&state, &session, &caller, provider, &code, &returned).await,
    };
    match outcome {
        Ok(_) => Redirect::to(&format!("/profile?connected={}", provider.key())),
        Err(problem) => Redirect::to(&profile_with(provider, problem)),
    }
}

fn profile_with(provider: Provider, problem: ConnectProblem) -> String {
    format!("/profile?provider={}&problem={}", provider.key(), problem.key())
}

#[cfg(test)]
mod tests {
    use super::picture_address;

    #[test]
    fn only_absolute_https_pictures_are_kept() {
        let slack = "https://avatars.slack-edge.com/2026-01-01/1_abc_192.png";
        assert_eq!(picture_address(slack).as_deref(), Some(slack));
        for refused in
            ["http://avatars.example/a.png", "javascript:alert(1)", "data:image/svg+xml,<svg/>", "https:/", "/a.png"]
        {
            assert_eq!(picture_address(refused), None, "{refused}");
        }
        assert_eq!(picture_address(&format!("https://a.example/{}", "x".repeat(2100))), None);
        // Written as the parser writes it: quotes and spaces are escaped.
        assert_eq!(picture_address("https://a.example/a b\"c.png").as_deref(), Some("https://a.example/a%20b%22c.png"));
    }
}
