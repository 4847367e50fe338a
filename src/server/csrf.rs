//! Cross-site request refusal. Leptos does no CSRF checking, so every state-changing request
//! must come from our own pages: browsers say so in `Sec-Fetch-Site`, older ones in `Origin`.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

#[derive(Clone)]
pub struct AllowedOrigin(pub String);

pub async fn refuse_cross_site(State(allowed): State<AllowedOrigin>, req: Request<Body>, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) || is_same_site(&req, &allowed.0) {
        return next.run(req).await;
    }
    tracing::warn!(method = %req.method(), path = %req.uri().path(), "refused a cross-site request");
    (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response()
}

fn is_same_site(req: &Request<Body>, allowed: &str) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        // "none" is the person typing the address or using a bookmark.
        return matches!(site, "same-origin" | "none");
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
            origin == allowed || origin.split_once("://").is_some_and(|(_, rest)| !host.is_empty() && rest == host)
        }
        // Neither header: not a browser (curl, a test client), so not a cross-site forgery.
        None => true,
    }
}
