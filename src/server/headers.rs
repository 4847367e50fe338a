//! Response headers (OWASP ASVS 4.0 V14.4): on every page a Content-Security-Policy whose nonce
//! is the one Leptos generated for this response and puts on its inline scripts, HSTS when
//! Onboard is served over https, and `Cache-Control: no-store` on pages and server functions,
//! which carry personal data.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// Whether Onboard is served over https (from `server.public_url`).
#[derive(Clone, Copy)]
pub struct Https(pub bool);

/// Scripts only from this site or with this response's nonce, plus WebAssembly compilation;
/// inline `style` attributes are allowed (progress bars set their width), images may come from
/// chat providers (avatars), and no other site may frame a page or receive a form.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let nonce = nonce.map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'{nonce} 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: https:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

pub async fn set_security_headers(State(https): State<Https>, req: Request<Body>, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    let html =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
    // Any other HTML (none is expected) still gets a policy: no inline scripts at all.
    if html && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(csp) = HeaderValue::from_str(&content_security_policy(None)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
    }
    if html || api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https.0 {
        headers
            .insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    response
}

/// Names, in this response's Content-Security-Policy, the nonce Leptos generated for it and
/// puts on the hydration and resource scripts. Called while the shell renders.
pub fn set_policy_for_this_page() {
    let (Some(nonce), Some(response)) =
        (leptos::nonce::use_nonce(), leptos::prelude::use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy(Some(&nonce))) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, csp);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_policy_allows_scripts_only_from_this_site_or_with_the_nonce() {
        let csp = super::content_security_policy(Some("abc"));
        assert!(csp.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"));
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }
}
