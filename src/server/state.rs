//! What every request and worker shares: the database, settings and provider clients.

use super::config::Settings;
use super::db::Db;
use super::mail::Mailer;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;
use tokio::sync::Notify;

/// Everything a request or a worker needs; passed around, never global.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub settings: Arc<Settings>,
    pub mailer: Mailer,
    /// Text messages, when Twilio is configured.
    pub sms: Option<super::sms::SmsSender>,
    /// Slack and Microsoft Teams, when set up: onboarding messages and identity mappings.
    pub slack: Option<super::integrations::slack::SlackClient>,
    pub teams: Option<super::integrations::teams::TeamsClient>,
    /// What the chat connectors share: an HTTP client, Teams tokens and Bot Framework's keys.
    pub chat: super::integrations::chat::ChatClients,
    /// Connectors by webhook key, for the webhooks' hot path.
    pub webhook_connectors: super::connectors::cache::WebhookConnectors,
    /// Wakes the outbox's claimer when this instance queues a job.
    pub outbox_wake: Arc<Notify>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    pub async fn new(settings: Settings) -> anyhow::Result<Self> {
        let db = Db::open(&settings).await?;
        let mailer = Mailer::from_settings(&settings.mail)?;
        let sms = super::sms::SmsSender::from_settings(&settings.sms)?;
        let slack = super::integrations::slack::SlackClient::from_settings(&settings.slack)?;
        let teams = super::integrations::teams::TeamsClient::from_settings(&settings.teams)?;
        let chat = super::integrations::chat::ChatClients::new(&settings.chat.allowed_private_agent_hosts)?;
        let leptos_options = LeptosOptions::builder()
            .output_name("onboard")
            .site_root(settings.server.site_root.as_str())
            .site_pkg_dir("pkg")
            .site_addr(settings.server.site_addr)
            .hash_files(super::assets::hashed_names())
            .build();
        Ok(Self {
            leptos_options,
            db,
            settings: Arc::new(settings),
            mailer,
            sms,
            slack,
            teams,
            chat,
            webhook_connectors: Default::default(),
            outbox_wake: Arc::new(Notify::new()),
        })
    }
}
