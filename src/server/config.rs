//! Runtime configuration: `Leptos.toml` (or the file named by `ONBOARD_CONFIG`), then environment
//! variables, which win. Every key is documented in the README.

use super::secret::Secret;
use anyhow::{bail, Context};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::Path;

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub mail: MailSettings,
    pub sms: SmsSettings,
    pub slack: SlackSettings,
    pub teams: TeamsSettings,
    pub chat: ChatSettings,
    pub first_run: FirstRunSettings,
    pub invitations: InvitationSettings,
    pub security: SecuritySettings,
    pub outbox: OutboxSettings,
    pub log: LogSettings,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Where the HTTP server listens; port 0 picks a free port (tests).
    pub site_addr: SocketAddr,
    /// The address people use to reach Onboard; links in emails are built from it.
    pub public_url: String,
    /// The folder cargo-leptos writes the WASM, JS and CSS to.
    pub site_root: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest request body of the two calls that take a pasted list of addresses
    /// (`check_invites`, `send_invites`), in bytes: a batch may hold `MAX_BATCH` addresses.
    pub max_paste_bytes: usize,
    /// Reverse proxies (CIDRs) whose `X-Forwarded-For` names the client; empty: the header is ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: Secret,
    pub max_connections: u32,
    /// How long a request waits for a database connection before it is answered "unavailable".
    pub acquire_timeout_seconds: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    /// `smtp://host:port` (plain, loopback only), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS) or `smtps://user:pass@host:465`. Empty: messages are logged and kept in the outbox.
    pub smtp_url: Secret,
    pub from: String,
    /// Most SMTP connections open at once.
    pub pool_size: usize,
}

/// Text messages (2FA codes) through Twilio's send API. Unset: the mobile choice says it is
/// unavailable.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsSettings {
    pub twilio_account_sid: String,
    pub twilio_auth_token: Secret,
    /// The sending number, in E.164 form.
    pub twilio_from: String,
    pub twilio_base_url: String,
}

impl SmsSettings {
    pub fn configured(&self) -> bool {
        !self.twilio_account_sid.is_empty() && !self.twilio_auth_token.is_empty() && !self.twilio_from.is_empty()
    }
}

impl Default for SmsSettings {
    fn default() -> Self {
        Self {
            twilio_account_sid: String::new(),
            twilio_auth_token: Secret::default(),
            twilio_from: String::new(),
            twilio_base_url: "https://api.twilio.com".into(),
        }
    }
}

/// The Slack app Onboard messages people through and maps identities with. Unset: no Slack.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlackSettings {
    /// The bot token (`xoxb-…`): chat:write, im:write, users:read, users:read.email.
    pub bot_token: Secret,
    /// For "Connect Slack" on a person's profile (Sign in with Slack); optional.
    pub client_id: String,
    pub client_secret: Secret,
    /// `https://slack.com/api`; tests point it at a fake.
    pub api_base_url: String,
    pub authorize_url: String,
}

impl SlackSettings {
    pub fn configured(&self) -> bool {
        !self.bot_token.is_empty()
    }

    pub fn oauth_configured(&self) -> bool {
        !self.client_id.is_empty() && !self.client_secret.is_empty()
    }
}

impl Default for SlackSettings {
    fn default() -> Self {
        Self {
            bot_token: Secret::default(),
            client_id: String::new(),
            client_secret: Secret::default(),
            api_base_url: "https://slack.com/api".into(),
            authorize_url: "https://slack.com/openid/connect/authorize".into(),
        }
    }
}

/// The Microsoft Teams bot (an Entra app registration) that messages people, and the Graph
/// access that lists the tenant's users. Unset: no Teams.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TeamsSettings {
    pub tenant_id: String,
    pub app_id: String,
    pub app_secret: Secret,
    /// `https://login.microsoftonline.com`; tests point these at fakes.
    pub login_base_url: String,
    pub graph_base_url: String,
    /// The Bot Framework service URL of the tenant's region.
    pub service_url: String,
}

impl TeamsSettings {
    pub fn configured(&self) -> bool {
        !self.tenant_id.is_empty() && !self.app_id.is_empty() && !self.app_secret.is_empty()
    }
}

impl Default for TeamsSettings {
    fn default() -> Self {
        Self {
            tenant_id: String::new(),
            app_id: String::new(),
            app_secret: Secret::default(),
            login_base_url: "https://login.microsoftonline.com".into(),
            graph_base_url: "https://graph.microsoft.com".into(),
            service_url: "https://smba.trafficmanager.net/teams".into(),
        }
    }
}

/// Chat connectors: where the providers' APIs are (tests point them at fakes) and how inbound
/// webhooks and agent calls are bounded. Each connector's credentials are set on its card.
/// Slack's API is `[slack] api_base_url`, Twilio's `[sms] twilio_base_url` and Entra ID's
/// `[teams] login_base_url`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChatSettings {
    pub telegram_base_url: String,
    pub d360_base_url: String,
    /// Bot Framework's OpenID metadata, which names the keys inbound Teams activities are signed with.
    pub botframework_openid_url: String,
    /// Largest webhook body accepted; providers send a few KiB.
    pub max_webhook_bytes: usize,
    /// How long the agent may take to answer before the call is retried.
    pub agent_timeout_seconds: u64,
    /// Hosts of agent endpoints allowed on private or local addresses (an on-premises agent);
    /// empty: agents must be on the public internet.
    pub allowed_private_agent_hosts: Vec<String>,
}

impl Default for ChatSettings {
    fn default() -> Self {
        Self {
            telegram_base_url: "https://api.telegram.org".into(),
            d360_base_url: "https://waba-v2.360dialog.io".into(),
            botframework_openid_url: "https://login.botframework.com/v1/.well-known/openidconfiguration".into(),
            max_webhook_bytes: 256 * 1024,
            agent_timeout_seconds: 30,
            allowed_private_agent_hosts: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FirstRunSettings {
    pub organization: String,
    pub owner_email: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InvitationSettings {
    /// Lifetime given to new organizations; each organization can change its own.
    pub default_lifetime_days: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySettings {
    pub max_failed_sign_ins_per_account: i64,
    pub max_failed_sign_ins_per_ip: i64,
    pub throttle_window_minutes: i64,
    pub session_days: i64,
    /// The server key secrets at rest are sealed with: 32 bytes in base64. Empty: read from
    /// `secret_key_file`. Several instances on one PostgreSQL database must share it.
    pub secret_key: Secret,
    /// Where the key is kept when `secret_key` is empty. Empty: beside the SQLite database file
    /// (`onboard.db` → `onboard.db.key`), created with mode 0600 by the first start.
    pub secret_key_file: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboxSettings {
    pub workers: usize,
    pub max_attempts: i64,
    /// How long a claimed job stays claimed before another instance may take it over.
    pub lease_seconds: i64,
    pub poll_millis: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `pretty` or `json`.
    pub format: String,
    /// A tracing filter such as `info,onboard=debug`; `RUST_LOG` wins.
    pub filter: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server: ServerSettings::default(),
            database: DatabaseSettings::default(),
            mail: MailSettings::default(),
            sms: SmsSettings::default(),
            slack: SlackSettings::default(),
            teams: TeamsSettings::default(),
            chat: ChatSettings::default(),
            first_run: FirstRunSettings::default(),
            invitations: InvitationSettings::default(),
            security: SecuritySettings::default(),
            outbox: OutboxSettings::default(),
            log: LogSettings::default(),
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            site_addr: "127.0.0.1:3000".parse().expect("valid default address"),
            public_url: "http://127.0.0.1:3000".into(),
            site_root: "target/site".into(),
            max_body_bytes: 2 * 1024 * 1024,
            // 100,000 addresses of about 40 characters, form-encoded, with room to spare.
            max_paste_bytes: 16 * 1024 * 1024,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self { url: Secret::new("sqlite://data/onboard.db"), max_connections: 10, acquire_timeout_seconds: 10 }
    }
}

impl Default for MailSettings {
    fn default() -> Self {
        Self { smtp_url: Secret::default(), from: "Onboard <onboard@localhost>".into(), pool_size: 16 }
    }
}

impl Default for FirstRunSettings {
    fn default() -> Self {
        Self { organization: "My organization".into(), owner_email: "owner@example.com".into() }
    }
}

impl Default for InvitationSettings {
    fn default() -> Self {
        Self { default_lifetime_days: crate::domain::settings::DEFAULT_INVITE_DAYS }
    }
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            max_failed_sign_ins_per_account: 5,
            max_failed_sign_ins_per_ip: 30,
            throttle_window_minutes: 15,
            session_days: 14,
            secret_key: Secret::default(),
            secret_key_file: String::new(),
        }
    }
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self { workers: 16, max_attempts: 8, lease_seconds: 120, poll_millis: 1000 }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { format: "pretty".into(), filter: "info".into() }
    }
}

/// Each environment variable and the setting it overrides.
const ENV_KEYS: &[&str] = &[
    "ONBOARD_SITE_ADDR",
    "ONBOARD_PUBLIC_URL",
    "ONBOARD_SITE_ROOT",
    "ONBOARD_MAX_BODY_BYTES",
    "ONBOARD_MAX_PASTE_BYTES",
    "ONBOARD_TRUSTED_PROXIES",
    "DATABASE_URL",
    "ONBOARD_DB_MAX_CONNECTIONS",
    "ONBOARD_DB_ACQUIRE_TIMEOUT_SECONDS",
    "ONBOARD_SMTP_URL",
    "ONBOARD_MAIL_FROM",
    "ONBOARD_SMTP_POOL_SIZE",
    "ONBOARD_TWILIO_ACCOUNT_SID",
    "ONBOARD_TWILIO_AUTH_TOKEN",
    "ONBOARD_TWILIO_FROM",
    "ONBOARD_TWILIO_BASE_URL",
    "ONBOARD_SLACK_BOT_TOKEN",
    "ONBOARD_SLACK_CLIENT_ID",
    "ONBOARD_SLACK_CLIENT_SECRET",
    "ONBOARD_SLACK_API_BASE_URL",
    "ONBOARD_SLACK_AUTHORIZE_URL",
    "ONBOARD_TEAMS_TENANT_ID",
    "ONBOARD_TEAMS_APP_ID",
    "ONBOARD_TEAMS_APP_SECRET",
    "ONBOARD_TEAMS_LOGIN_BASE_URL",
    "ONBOARD_TEAMS_GRAPH_BASE_URL",
    "ONBOARD_TEAMS_SERVICE_URL",
    "ONBOARD_TELEGRAM_BASE_URL",
    "ONBOARD_D360_BASE_URL",
    "ONBOARD_BOTFRAMEWORK_OPENID_URL",
    "ONBOARD_MAX_WEBHOOK_BYTES",
    "ONBOARD_AGENT_TIMEOUT_SECONDS",
    "ONBOARD_ALLOWED_PRIVATE_AGENT_HOSTS",
    "ONBOARD_FIRST_ORGANIZATION",
    "ONBOARD_OWNER_EMAIL",
    "ONBOARD_INVITE_LIFETIME_DAYS",
    "ONBOARD_MAX_FAILED_SIGN_INS_PER_ACCOUNT",
    "ONBOARD_MAX_FAILED_SIGN_INS_PER_IP",
    "ONBOARD_THROTTLE_WINDOW_MINUTES",
    "ONBOARD_SESSION_DAYS",
    "ONBOARD_SECRET_KEY",
    "ONBOARD_SECRET_KEY_FILE",
    "ONBOARD_OUTBOX_WORKERS",
    "ONBOARD_OUTBOX_MAX_ATTEMPTS",
    "ONBOARD_OUTBOX_LEASE_SECONDS",
    "ONBOARD_OUTBOX_POLL_MILLIS",
    "ONBOARD_LOG_FORMAT",
    "RUST_LOG",
];

impl Settings {
    /// Reads the configuration file if there is one, then applies the environment.
    pub fn load() -> anyhow::Result<Self> {
        let path = std::env::var("ONBOARD_CONFIG").unwrap_or_else(|_| "Leptos.toml".into());
        let mut settings = if Path::new(&path).exists() {
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
            toml::from_str(&text).with_context(|| format!("{path} is not valid configuration"))?
        } else {
            Settings::default()
        };
        // cargo-leptos tells the server where it put the site and which address to use.
        for (leptos, ours) in [("LEPTOS_SITE_ROOT", "ONBOARD_SITE_ROOT"), ("LEPTOS_SITE_ADDR", "ONBOARD_SITE_ADDR")] {
            if std::env::var_os(ours).is_none() {
                if let Ok(v) = std::env::var(leptos) {
                    settings.set(ours, &v)?;
                }
            }
        }
        for key in ENV_KEYS {
            if let Ok(value) = std::env::var(key) {
                settings.set(key, &value)?;
            }
        }
        settings.validate()?;
        Ok(settings)
    }

    /// Sets one setting by its environment variable name, with a message naming the variable.
    pub fn set(&mut self, key: &str, value: &str) -> anyhow::Result<()> {
        fn num<T: std::str::FromStr>(key: &str, value: &str) -> anyhow::Result<T> {
            value.trim().parse().map_err(|_| anyhow::anyhow!("{key} must be a number, not “{value}”"))
        }
        match key {
            "ONBOARD_SITE_ADDR" => {
                self.server.site_addr = value.parse().with_context(|| format!("{key} must look like 127.0.0.1:3000"))?
            }
            "ONBOARD_PUBLIC_URL" => self.server.public_url = value.into(),
            "ONBOARD_SITE_ROOT" => self.server.site_root = value.into(),
            "ONBOARD_MAX_BODY_BYTES" => self.server.max_body_bytes = num(key, value)?,
            "ONBOARD_MAX_PASTE_BYTES" => self.server.max_paste_bytes = num(key, value)?,
            "ONBOARD_TRUSTED_PROXIES" => {
                self.server.trusted_proxies = value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse().with_context(|| format!("{key}: “{s}” is not a CIDR such as 10.0.0.0/8")))
                    .collect::<anyhow::Result<_>>()?
            }
            "DATABASE_URL" => self.database.url = Secret::new(value),
            "ONBOARD_DB_MAX_CONNECTIONS" => self.database.max_connections = num(key, value)?,
            "ONBOARD_DB_ACQUIRE_TIMEOUT_SECONDS" => self.database.acquire_timeout_seconds = num(key, value)?,
            "ONBOARD_SMTP_URL" => self.mail.smtp_url = Secret::new(value),
            "ONBOARD_MAIL_FROM" => self.mail.from = value.into(),
            "ONBOARD_SMTP_POOL_SIZE" => self.mail.pool_size = num(key, value)?,
            "ONBOARD_TWILIO_ACCOUNT_SID" => self.sms.twilio_account_sid = value.into(),
            "ONBOARD_TWILIO_AUTH_TOKEN" => self.sms.twilio_auth_token = Secret::new(value),
            "ONBOARD_TWILIO_FROM" => self.sms.twilio_from = value.into(),
            "ONBOARD_TWILIO_BASE_URL" => self.sms.twilio_base_url = value.into(),
            "ONBOARD_SLACK_BOT_TOKEN" => self.slack.bot_token = Secret::new(value),
            "ONBOARD_SLACK_CLIENT_ID" => self.slack.client_id = value.into(),
            "ONBOARD_SLACK_CLIENT_SECRET" => self.slack.client_secret = Secret::new(value),
            "ONBOARD_SLACK_API_BASE_URL" => self.slack.api_base_url = value.into(),
            "ONBOARD_SLACK_AUTHORIZE_URL" => self.slack.authorize_url = value.into(),
            "ONBOARD_TEAMS_TENANT_ID" => self.teams.tenant_id = value.into(),
            "ONBOARD_TEAMS_APP_ID" => self.teams.app_id = value.into(),
            "ONBOARD_TEAMS_APP_SECRET" => self.teams.app_secret = Secret::new(value),
            "ONBOARD_TEAMS_LOGIN_BASE_URL" => self.teams.login_base_url = value.into(),
            "ONBOARD_TEAMS_GRAPH_BASE_URL" => self.teams.graph_base_url = value.into(),
            "ONBOARD_TEAMS_SERVICE_URL" => self.teams.service_url = value.into(),
            "ONBOARD_TELEGRAM_BASE_URL" => self.chat.telegram_base_url = value.into(),
            "ONBOARD_D360_BASE_URL" => self.chat.d360_base_url = value.into(),
            "ONBOARD_BOTFRAMEWORK_OPENID_URL" => self.chat.botframework_openid_url = value.into(),
            "ONBOARD_MAX_WEBHOOK_BYTES" => self.chat.max_webhook_bytes = num(key, value)?,
            "ONBOARD_AGENT_TIMEOUT_SECONDS" => self.chat.agent_timeout_seconds = num(key, value)?,
            "ONBOARD_ALLOWED_PRIVATE_AGENT_HOSTS" => {
                self.chat.allowed_private_agent_hosts =
                    value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
            }
            "ONBOARD_FIRST_ORGANIZATION" => self.first_run.organization = value.into(),
            "ONBOARD_OWNER_EMAIL" => self.first_run.owner_email = value.into(),
            "ONBOARD_INVITE_LIFETIME_DAYS" => self.invitations.default_lifetime_days = num(key, value)?,
            "ONBOARD_MAX_FAILED_SIGN_INS_PER_ACCOUNT" => {
                self.security.max_failed_sign_ins_per_account = num(key, value)?
            }
            "ONBOARD_MAX_FAILED_SIGN_INS_PER_IP" => self.security.max_failed_sign_ins_per_ip = num(key, value)?,
            "ONBOARD_THROTTLE_WINDOW_MINUTES" => self.security.throttle_window_minutes = num(key, value)?,
            "ONBOARD_SESSION_DAYS" => self.security.session_days = num(key, value)?,
            "ONBOARD_SECRET_KEY" => self.security.secret_key = Secret::new(value),
            "ONBOARD_SECRET_KEY_FILE" => self.security.secret_key_file = value.into(),
            "ONBOARD_OUTBOX_WORKERS" => self.outbox.workers = num(key, value)?,
            "ONBOARD_OUTBOX_MAX_ATTEMPTS" => self.outbox.max_attempts = num(key, value)?,
            "ONBOARD_OUTBOX_LEASE_SECONDS" => self.outbox.lease_seconds = num(key, value)?,
            "ONBOARD_OUTBOX_POLL_MILLIS" => self.outbox.poll_millis = num(key, value)?,
            "ONBOARD_LOG_FORMAT" => self.log.format = value.into(),
            "RUST_LOG" => self.log.filter = value.into(),
            _ => bail!("unknown setting {key}"),
        }
        Ok(())
    }

    fn validate(&self) -> anyhow::Result<()> {
        if !(self.server.public_url.starts_with("http://") || self.server.public_url.starts_with("https://")) {
            bail!("ONBOARD_PUBLIC_URL must start with http:// or https://");
        }
        let days = self.invitations.default_lifetime_days;
        if crate::domain::settings::invite_days(&days.to_string()).is_err() {
            bail!("ONBOARD_INVITE_LIFETIME_DAYS must be from 1 to 90");
        }
        if crate::domain::EmailAddress::parse(&self.first_run.owner_email).is_err() {
            bail!("ONBOARD_OWNER_EMAIL must be an email address");
        }
        if !matches!(self.log.format.as_str(), "pretty" | "json") {
            bail!("ONBOARD_LOG_FORMAT must be pretty or json");
        }
        if self.outbox.workers == 0 || self.database.max_connections == 0 {
            bail!("ONBOARD_OUTBOX_WORKERS and ONBOARD_DB_MAX_CONNECTIONS must be at least 1");
        }
        if self.database.acquire_timeout_seconds == 0 {
            bail!("ONBOARD_DB_ACQUIRE_TIMEOUT_SECONDS must be at least 1");
        }
        Ok(())
    }

    /// The public URL without a trailing slash, for building links.
    pub fn public_base(&self) -> &str {
        self.server.public_url.trim_end_matches('/')
    }

    pub fn secure_cookies(&self) -> bool {
        self.server.public_url.starts_with("https://")
    }
}

#[cfg(test)]
mod tests;
