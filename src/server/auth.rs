//! Who is calling and what they may do: the caller of a request, its permissions, its address.

use super::db::{self, accounts::ActiveMembership};
use super::sessions::{ACCOUNT_KEY, ORG_KEY};
use super::AppState;
use crate::domain::{Permission, PermissionSet};
use crate::AppError;
use leptos::prelude::{expect_context, use_context};
use std::net::{IpAddr, SocketAddr};
use tower_sessions::Session;

/// The signed-in person acting inside one organization.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: i64,
    pub org_id: i64,
    pub permissions: PermissionSet,
    pub membership: ActiveMembership,
}

pub fn state() -> AppState {
    expect_context::<AppState>()
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session layer on this request");
        AppError::Internal
    })
}

/// The client's address: the connection's peer, or, when the peer is one of
/// `server.trusted_proxies`, the nearest address in `X-Forwarded-For` that is not a trusted proxy.
pub async fn client_ip() -> IpAddr {
    let trusted = use_context::<AppState>().map(|s| s.settings.server.trusted_proxies.clone()).unwrap_or_default();
    let forwarded = use_context::<http::request::Parts>()
        .map(|parts| {
            parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let peer = leptos_axum::extract::<axum::extract::ConnectInfo<SocketAddr>>()
        .await
        .map(|info| info.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    client_behind(&trusted, peer, &forwarded)
}

/// The request's User-Agent, at most 400 characters, as accepting the agreement records it;
/// empty when there is none.
pub fn user_agent() -> String {
    use_context::<http::request::Parts>()
        .and_then(|p| p.headers.get(http::header::USER_AGENT)?.to_str().ok().map(|s| s.chars().take(400).collect()))
        .unwrap_or_default()
}

/// Whether the request is a HEAD (RFC 9110, section 9.3.2): axum answers it with the GET route,
/// so a page rendered for it runs as for a GET.
pub fn head_request() -> bool {
    use_context::<http::request::Parts>().is_some_and(|p| p.method == http::Method::HEAD)
}

/// Walks `X-Forwarded-For` from the right (the hop nearest us) while the hop is a trusted proxy;
/// with an untrusted peer the header is ignored, since any client can send one.
pub fn client_behind(trusted: &[ipnet::IpNet], peer: IpAddr, forwarded_for: &str) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d.
    let mut client = peer.to_canonical();
    for hop in forwarded_for.rsplit(',') {
        if !is_trusted(&client) {
            break;
        }
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => client = ip.to_canonical(),
            Err(_) => break,
        }
    }
    client
}

/// The network a client address is counted under: the address itself for IPv4, its /64 for
/// IPv6, since one subscriber is usually handed a whole /64 (RFC 6177).
pub fn network_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

pub fn session_error(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session store failed");
    match e {
        tower_sessions::session::Error::Store(tower_sessions::session_store::Error::Backend(m))
            if m.starts_with(super::sessions::UNREACHABLE) =>
        {
            AppError::Unavailable
        }
        _ => AppError::Internal,
    }
}

/// The caller, if signed in with an Active membership in the organization their session names.
/// A page render reads it once (see [`CallerOfRender`]); a server function called over HTTP reads
/// it whenever it asks.
pub async fn current() -> Result<Option<Caller>, AppError> {
    let read = || async { caller_of(&state(), &session().await?).await };
    match use_context::<CallerOfRender>() {
        Some(once) => once.0.get_or_try_init(read).await.cloned(),
        None => read().await,
    }
}

/// The caller of a page being rendered, read by the first server function that asks: the shell's
/// `whoami` and the page's own functions would otherwise each read the same membership. Only page
/// renders get one: a rendered page changes no session, while a server function may (signing in,
/// switching organization) and must then see the caller afresh.
#[derive(Clone, Default)]
struct CallerOfRender(std::sync::Arc<tokio::sync::OnceCell<Option<Caller>>>);

/// The router's per-request context: a [`CallerOfRender`] for a page render. leptos_axum runs the
/// same function for server-function requests too, which get none; only a page render has a
/// `RequestUrl`.
pub fn provide_request_context() {
    if use_context::<leptos_router::location::RequestUrl>().is_some() {
        leptos::prelude::provide_context(CallerOfRender::default());
    }
}

/// Like `current`, for plain axum handlers that have the state and session in hand.
pub async fn caller_of(state: &AppState, session: &Session) -> Result<Option<Caller>, AppError> {
    let account: Option<i64> = session.get(ACCOUNT_KEY).await.map_err(session_error)?;
    let org: Option<i64> = session.get(ORG_KEY).await.map_err(session_error)?;
    let (Some(account_id), Some(org_id)) = (account, org) else {
        return Ok(None);
    };
    match db::accounts::active_membership(&state.db, account_id, org_id).await? {
        Some(membership) => {
            Ok(Some(Caller { account_id, org_id, permissions: membership.permission_set(), membership }))
        }
        None => {
            // Paused, removed, or the organization is gone: the session is over.
            session.flush().await.map_err(session_error)?;
            Ok(None)
        }
    }
}

/// Every server function starts here: the caller must be signed in and hold `permission` in
/// the organization they are acting in. Everything they then touch is scoped to `caller.org_id`.
pub async fn require(permission: Permission) -> Result<Caller, AppError> {
    let caller = signed_in().await?;
    if caller.permissions.contains(permission) {
        Ok(caller)
    } else {
        tracing::info!(account = caller.account_id, org = caller.org_id, %permission, "permission refused");
        Err(AppError::NotAllowed)
    }
}

/// Like `require`, for pages open to holders of any one of several permissions.
pub async fn require_any(permissions: &[Permission]) -> Result<Caller, AppError> {
    let caller = signed_in().await?;
    if permissions.iter().any(|p| caller.permissions.contains(*p)) {
        Ok(caller)
    } else {
        tracing::info!(account = caller.account_id, org = caller.org_id, "permission refused");
        Err(AppError::NotAllowed)
    }
}

/// Nobody acts on a member whose role holds a permission they lack (an Admin cannot pause, resend
/// to, revoke or reset an Owner), so no role can be used to reach above itself.
pub fn ensure_outranks(caller: &Caller, email: &str, their_permissions: &str) -> Result<(), AppError> {
    let theirs = PermissionSet::parse(their_permissions);
    if theirs.iter().any(|p| !caller.permissions.contains(p)) {
        return Err(AppError::Conflict(format!("{email} has permissions you do not have, so you cannot change them.")));
    }
    Ok(())
}

/// For the few functions any member may call (their own profile, switching organization).
/// A member who has yet to accept a new version of the agreement is refused until they do.
pub async fn signed_in() -> Result<Caller, AppError> {
    let caller = signed_in_before_agreement().await?;
    if caller.membership.agreement_pending {
        return Err(AppError::AgreementPending);
    }
    Ok(caller)
}

/// The caller even while the agreement awaits their acceptance: only for reading and
/// accepting it, knowing who is signed in, and leaving for another organization.
pub async fn signed_in_before_agreement() -> Result<Caller, AppError> {
    current().await?.ok_or(AppError::Unauthenticated)
}

#[cfg(test)]
mod tests;
