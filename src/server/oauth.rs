//! "Connect Slack" and "Connect Microsoft Teams" on a member's profile: OAuth 2.0 authorization
//! code with PKCE (Sign in with Slack; Entra ID). The account the provider vouches for becomes
//! the member's mapping, marked as connected by the user.

use super::auth::{caller_of, constant_time_eq, Caller};
use super::db::{self, now_ms};
use super::integrations::http_client;
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
        .filter(|p| constant_time_eq(p.csrf.as_bytes(), returned_state.as_bytes()))
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
    let (external_id, name) = whoami(state, provider, &http, token.access_token().secret()).await?;
    store(state, caller, provider, &external_id, &name).await.map_err(|e| {
        tracing::error!(error = %e, "storing a connected identity failed");
        ConnectProblem::Failed
    })?;
    Ok(name)
}

async fn store(
    state: &AppState,
    caller: &Caller,
    provider: Provider,
    external_id: &str,
    name: &str,
) -> Result<(), sqlx::Error> {
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

/// The provider's own id and name for the person the token belongs to.
async fn whoami(
    state: &AppState,
    provider: Provider,
    http: &reqwest::Client,
    token: &str,
) -> Result<(String, String), ConnectProblem> {
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
    Ok((id.to_string(), name.unwrap_or(id).to_string()))
}

/// `GET /oauth/{provider}/start`: off to the provider, or back to the profile saying why not.
pub async fn start_route(State(state): State<AppState>, session: Session, Path(provider): Path<String>) -> Redirect {
    let Some(provider) = Provider::parse(&provider) else {
        return Redirect::to("/profile");
    };
    match caller_of(&state, &session).await {
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
