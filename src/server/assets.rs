//! How the browser receives Onboard's own files: the build output under `/pkg` (WASM, its JS
//! glue and split chunks, the stylesheet) and every page or server-function answer.
//!
//! - The release build names each file after a hash of its content and writes a brotli (`.br`)
//!   and a gzip (`.gz`) copy beside it. `/pkg` serves the copy `Accept-Encoding` prefers and lets
//!   any cache keep the file for a year (RFC 9111 §5.2.2.1, RFC 8246 `immutable`): a new build
//!   has new names, so a second visit downloads nothing again.
//! - Pages and server functions are compressed on the fly above [`MIN_COMPRESSED_BYTES`]; they
//!   are never cached (see `headers.rs`).

use axum::http::{header, HeaderValue, Response};
use axum::Router;
use std::path::{Path, PathBuf};
use tower::ServiceBuilder;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// A hashed build file never changes under its name (RFC 8246).
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Without hashed names (a development build) a file must be checked again on every use.
pub const REVALIDATE: &str = "no-cache";

/// Smaller answers gain less from compression than its headers and CPU cost.
pub const MIN_COMPRESSED_BYTES: u16 = 1024;

/// The file, beside the server executable, in which the release build records the hash in each
/// build file's name (`js: <hash>`, `wasm: <hash>`, `css: <hash>`, one per line). Leptos reads
/// the same file when it names the files in a page.
fn hash_file() -> Option<PathBuf> {
    Some(std::env::current_exe().ok()?.parent()?.join("hash.txt"))
}

/// Whether the build output carries hashed names: the release build wrote [`hash_file`].
pub fn hashed_names() -> bool {
    hash_file().is_some_and(|f| f.is_file())
}

/// Routes `/<pkg>/…` to the build output in `site_root/<pkg>`: the precompressed copy the request
/// accepts, with `Vary: Accept-Encoding`, and the year-long cache policy when names are hashed.
/// A missing file is a plain 404 that no cache keeps.
pub fn build_output<S: Clone + Send + Sync + 'static>(site_root: &str, pkg: &str, hashed: bool) -> Router<S> {
    let policy = HeaderValue::from_static(if hashed { IMMUTABLE } else { REVALIDATE });
    let files = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, move |res: &Response<_>| {
            res.status().is_success().then(|| policy.clone())
        }))
        .layer(SetResponseHeaderLayer::appending(header::VARY, HeaderValue::from_static("accept-encoding")))
        .service(ServeDir::new(Path::new(site_root).join(pkg)).precompressed_br().precompressed_gzip());
    Router::new().nest_service(&format!("/{pkg}"), files)
}

/// Compresses pages and server-function answers (brotli or gzip, as `Accept-Encoding` prefers)
/// once they pass [`MIN_COMPRESSED_BYTES`]. Precompressed files pass through untouched.
pub fn compression() -> CompressionLayer<impl Predicate + Clone> {
    CompressionLayer::new()
        .br(true)
        .gzip(true)
        .compress_when(DefaultPredicate::new().and(SizeAbove::new(MIN_COMPRESSED_BYTES)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    /// A site root holding one hashed build file and its brotli and gzip copies.
    fn site_root() -> std::path::PathBuf {
        let root =
            std::env::temp_dir().join(format!("onboard-assets-{}-{}", std::process::id(), rand::random::<u64>()));
        std::fs::create_dir_all(root.join("pkg")).unwrap();
        for (suffix, body) in [("", "plain"), (".br", "brotli"), (".gz", "gzip")] {
            std::fs::write(root.join(format!("pkg/onboard.H4sh.wasm{suffix}")), body).unwrap();
        }
        root
    }

    async fn get(router: Router, path: &str, accept_encoding: Option<&str>) -> (StatusCode, http::HeaderMap, String) {
        let mut request = Request::get(path);
        if let Some(accept) = accept_encoding {
            request = request.header(header::ACCEPT_ENCODING, accept);
        }
        let response = router.oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (parts.status, parts.headers, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn build_files_come_precompressed_as_accepted_and_cached_for_a_year() {
        let root = site_root();
        let files = || build_output::<()>(root.to_str().unwrap(), "pkg", true);

        let (status, headers, body) = get(files(), "/pkg/onboard.H4sh.wasm", Some("gzip, deflate, br")).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "brotli"));
        assert_eq!(headers[header::CONTENT_ENCODING], "br");
        assert_eq!(headers[header::CACHE_CONTROL], IMMUTABLE);
        assert!(headers.get_all(header::VARY).iter().any(|v| *v == "accept-encoding"));

        let (_, headers, body) = get(files(), "/pkg/onboard.H4sh.wasm", Some("gzip")).await;
        assert_eq!((headers[header::CONTENT_ENCODING].to_str().unwrap(), body.as_str()), ("gzip", "gzip"));

        let (_, headers, body) = get(files(), "/pkg/onboard.H4sh.wasm", None).await;
        assert_eq!(body, "plain");
        assert!(!headers.contains_key(header::CONTENT_ENCODING));

        // A missing file is not remembered: the next build may bring it.
        let (status, headers, _) = get(files(), "/pkg/onboard.0ther.wasm", Some("br")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(!headers.contains_key(header::CACHE_CONTROL));

        // Without hashed names a file is checked again on every use.
        let unhashed = build_output::<()>(root.to_str().unwrap(), "pkg", false);
        let (_, headers, _) = get(unhashed, "/pkg/onboard.H4sh.wasm", Some("br")).await;
        assert_eq!(headers[header::CACHE_CONTROL], REVALIDATE);
        let _ = std::fs::remove_dir_all(root);
    }

    #[tokio::test]
    async fn answers_above_a_kilobyte_are_compressed_and_smaller_ones_are_not() {
        let app = || {
            Router::new()
                .route("/large", axum::routing::get(|| async { "onboard ".repeat(256) }))
                .route("/small", axum::routing::get(|| async { "ok" }))
                .layer(compression())
        };
        let (_, headers, _) = get(app(), "/large", Some("br, gzip")).await;
        assert_eq!(headers[header::CONTENT_ENCODING], "br");
        let (_, headers, _) = get(app(), "/large", Some("gzip")).await;
        assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
        let (_, headers, body) = get(app(), "/small", Some("br, gzip")).await;
        assert!(!headers.contains_key(header::CONTENT_ENCODING));
        assert_eq!(body, "ok");
    }
}
