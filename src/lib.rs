#![recursion_limit = "256"]
//! Onboard: a self-hosted onboarding console.

pub mod api;
pub mod app;
pub mod components;
pub mod domain;
pub mod error;

#[cfg(feature = "ssr")]
pub mod server;

pub use error::AppError;

/// Browser entry point: adopt the server-rendered page, then mark it hydrated so tests
/// (and people with fast fingers) never click a button that is not wired up yet.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
