//! Assembles the application: state, router, middleware, workers. `Application::build` with
//! port 0 is what the integration tests start.

use super::auth;
use super::config::Settings;
use super::csrf::{self, AllowedOrigin};
use super::db::{self, Db};
use super::jobs;
use super::sessions::DbSessionStore;
use super::state::AppState;
use crate::app::{shell, App};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::routing::get;
use axum::Router;
use leptos::server_fn::ServerFn;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use tokio_util::sync::CancellationToken;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};

pub struct Application {
    listener: tokio::net::TcpListener,
    state: AppState,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(settings.server.site_addr)
            .await
            .map_err(|e| anyhow::anyhow!("listening on {}: {e}", settings.server.site_addr))?;
        Self::build_on(settings, listener).await
    }

    /// Serves on a listener bound by the caller, e.g. to learn the port before settings are made.
    pub async fn build_on(settings: Settings, listener: tokio::net::TcpListener) -> anyhow::Result<Self> {
        let state = AppState::new(settings).await?;
        Ok(Self { listener, state })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests and jobs finish and hands
    /// back any job still claimed.
    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let stop = CancellationToken::new();
        let outbox = jobs::spawn_workers(self.state.clone(), stop.clone());
        let housekeeping = tokio::spawn(housekeeping(self.state.db.clone(), stop.clone()));
        let checkpoints = tokio::spawn(db::checkpoint_wal(self.state.db.clone(), stop.clone()));
        let sweep_every = std::time::Duration::from_secs(self.state.settings.outbox.reminder_sweep_seconds);
        let reminders =
            tokio::spawn(super::reminders::sweep_until_stopped(self.state.clone(), sweep_every, stop.clone()));
        let router = router(self.state.clone());
        axum::serve(self.listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await?;
        stop.cancel();
        let _ = outbox.await;
        let _ = housekeeping.await;
        let _ = checkpoints.await;
        let _ = reminders.await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Drops expired sessions, lapsed attempt limits and unsent spreadsheet checks once an hour.
async fn housekeeping(db: Db, stop: CancellationToken) {
    loop {
        let now = db::now_ms();
        if let Err(e) = db::sessions::prune(&db, now).await {
            tracing::warn!(error = %e, "pruning sessions failed");
        }
        if let Err(e) = db::limits::prune(&db, now - crate::domain::time::DAY_MS).await {
            tracing::warn!(error = %e, "pruning attempt limits failed");
        }
        if let Err(e) = db::sheet_imports::prune(&db, now).await {
            tracing::warn!(error = %e, "dropping unsent spreadsheet checks failed");
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {}
        }
    }
}

/// A request path as logged: the one-time token of a link page is masked, and no query string
/// (GET server functions carry tokens there) is ever logged.
fn loggable_path(path: &str) -> String {
    for page in ["/register/", "/set-password/"] {
        if path.len() > page.len() && path.starts_with(page) {
            return format!("{page}••••");
        }
    }
    path.to_string()
}

fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let host = rest.split('/').next().unwrap_or_default();
    format!("{scheme}://{host}")
}

/// The app's pages, listed once per process. Leptos marks a route listing in progress with one
/// process-wide flag (which stops resources loading while the app is run to list its routes), so
/// two listings at once, as several apps in one test process would make, let one of them load
/// resources outside any request.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    let settings = state.settings.clone();
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name("onboard_session")
        .with_secure(settings.secure_cookies())
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(settings.security.session_days)));
    let routes = route_list();
    let options = state.leptos_options.clone();
    let build_files = super::assets::build_output(&options.site_root, &options.site_pkg_dir, options.hash_files);
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/oauth/{provider}/start", get(super::oauth::start_route))
        .route("/oauth/{provider}/callback", get(super::oauth::callback_route))
        .route("/webhooks/{key}", axum::routing::post(super::webhooks::receive_route))
        .nest("/scim/v2", super::scim::routes(state.clone()))
        .leptos_routes_with_context(&state, routes, auth::provide_request_context, move || shell(options.clone()))
        .merge(build_files)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(sessions)
        .layer(axum::middleware::from_fn(status_of_errors))
        .layer(axum::middleware::from_fn_with_state(
            AllowedOrigin(origin_of(&settings.server.public_url)),
            csrf::refuse_cross_site,
        ))
        // axum's own limit (2 MB, for extractors and server functions) gives way to ours.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(
            BodyLimits {
                body: settings.server.max_body_bytes,
                // Never below the general limit, whatever is configured.
                paste: settings.server.max_paste_bytes.max(settings.server.max_body_bytes),
            },
            limit_body,
        ))
        // Links carry one-time tokens: never leak them to another site through Referer.
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(axum::middleware::from_fn_with_state(
            super::headers::Https(settings.server.public_url.starts_with("https://")),
            super::headers::set_security_headers,
        ))
        .layer(super::assets::compression())
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(answer_panic))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<axum::body::Body>| {
            tracing::debug_span!("request", method = %req.method(), path = %loggable_path(req.uri().path()))
        }))
        .with_state(state)
}

/// The server functions whose body is a pasted list of addresses or a sheet of people, up to
/// `MAX_BATCH` of them.
const PASTE_PATHS: [&str; 3] = [
    <crate::api::invites::CheckInvites as ServerFn>::PATH,
    <crate::api::invites::SendInvites as ServerFn>::PATH,
    <crate::api::invites::CheckSheet as ServerFn>::PATH,
];

#[derive(Clone, Copy)]
struct BodyLimits {
    body: usize,
    paste: usize,
}

/// Refuses a request body over its limit, in bytes: `max_paste_bytes` for the pasted lists,
/// `max_body_bytes` for everything else. A declared length over it is answered 413 at once; a
/// body that grows past it unannounced fails to read.
async fn limit_body(
    State(limits): State<BodyLimits>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let limit = if PASTE_PATHS.contains(&req.uri().path()) { limits.paste } else { limits.body };
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return (StatusCode::PAYLOAD_TOO_LARGE, "The request is too large.").into_response();
    }
    next.run(req.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit)))).await
}

/// Gives a server function's failed response the HTTP status of its `AppError` (server_fn
/// answers every error 500): the one place where an error becomes a status.
async fn status_of_errors(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    use leptos::server_fn::error::{FromServerFnError, SERVER_FN_ERROR_HEADER};
    let response = next.run(req).await;
    // A form posted without JavaScript is sent back to its page with the error in `__err`
    // (server_fn's form redirects): a browser follows only a redirect, so it stays one.
    if !response.headers().contains_key(SERVER_FN_ERROR_HEADER) || response.status().is_redirection() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // An encoded AppError is a few hundred bytes; anything far larger is not one.
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side. Please try again.")
            .into_response();
    };
    parts.status = StatusCode::from_u16(crate::AppError::de(bytes.clone()).status()).unwrap_or(parts.status);
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// A panic in a handler becomes a logged error and a plain 500, instead of a dropped
/// connection the browser reports as a network failure.
fn answer_panic(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = message, "a request handler panicked");
    let answer = (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side. Please try again.");
    axum::response::IntoResponse::into_response(answer)
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.db.ping().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}
