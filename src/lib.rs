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
/// (and people with fast fingers) never click a button that is not wired up yet. Hydration is
/// asynchronous because the page's own code may still be loading (see `app::pages`).
/// The WebAssembly module itself is the `onboard-hydrate` crate (in `hydrate/`).
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document().body().expect("a page has a body");
        leptos::mount::hydrate_from_async(body.clone(), app::App).await.forget();
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
