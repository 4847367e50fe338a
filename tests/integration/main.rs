//! Integration tests: the real app on port 0, each scenario on SQLite and on PostgreSQL.
//! One test binary, so the app is linked once.

mod common;

mod agreement;
mod auth;
mod authorization;
mod connectors;
mod funnel;
mod imports;
mod invitations;
mod onboarding;
mod outbox;
mod pages;
mod reminders;
mod scim;
mod secrets;
mod security;
mod settings;
mod users;
mod webhooks;
