//! Server functions: the API between the browser and the server. Each one is thin: who is
//! calling and may they → domain rules → one transaction → a DTO.

pub mod access;
pub mod account;
pub mod agreement;
pub mod connectors;
pub mod identity;
pub mod invites;
pub mod onboarding;
pub mod outbox;
pub mod profile;
pub mod provisioning;
pub mod registration;
pub mod settings;
pub mod users;
pub mod webhooks;

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::server::auth::{self, require, require_any, signed_in, state};
    pub use crate::server::change::AuditedChange;
    pub use crate::server::db;
    pub use crate::server::secret::Secret;
    pub use crate::server::sign_in;

    /// A form posted without JavaScript gets a real redirect; the hydrated app navigates by itself
    /// once it has refetched who is signed in (see `app::nav`).
    pub fn redirect_plain_form(path: &str) {
        let plain_form = leptos::prelude::use_context::<http::request::Parts>()
            .and_then(|parts| {
                parts.headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).map(|a| a.contains("text/html"))
            })
            .unwrap_or(false);
        if plain_form {
            leptos_axum::redirect(path);
        }
    }
}
