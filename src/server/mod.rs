//! Server-only code: configuration, database, sessions, mail, the outbox worker and the app itself.

pub mod app;
pub mod assets;
pub mod auth;
pub mod bootstrap;
pub mod change;
pub mod cli;
pub mod codes;
pub mod config;
pub mod connectors;
pub mod csrf;
pub mod db;
pub mod headers;
pub mod integrations;
pub mod invitations;
pub mod jobs;
pub mod key_rotation;
pub mod keys;
pub mod mail;
pub mod oauth;
pub mod onboarding;
pub mod outbound;
pub mod outbox;
pub mod phone;
pub mod registration;
pub mod sealing;
pub mod secret;
pub mod seed;
pub mod sessions;
pub mod sms;
pub mod state;
pub mod totp;
pub mod webhooks;

pub use app::Application;
pub use config::Settings;
pub use state::AppState;
