//! Runtime configuration in three layers (the `config` crate): each setting's default, then the
//! file (`Leptos.toml`, or the one `ONBOARD_CONFIG` names), then its environment variable, which
//! wins. [`SETTINGS`] declares every setting once; tests hold the README table and the shipped
//! `Leptos.toml` to it.

use super::secret::Secret;
use anyhow::{bail, Context};
use config::{Config, ConfigError, File, FileFormat};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::Path;

mod declared;
use declared::CARGO_LEPTOS_VARIABLES;
pub use declared::{Setting, Shape, SETTINGS};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: Secret,
    pub max_connections: u32,
    /// How long a request waits for a database connection before it is answered "unavailable".
    pub acquire_timeout_seconds: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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

/// The Slack app Onboard messages people through and maps identities with. Unset: no Slack.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// The Microsoft Teams bot (an Entra app registration) that messages people, and the Graph
/// access that lists the tenant's users. Unset: no Teams.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// Chat connectors: where the providers' APIs are (tests point them at fakes) and how inbound
/// webhooks and agent calls are bounded. Each connector's credentials are set on its card.
/// Slack's API is `[slack] api_base_url`, Twilio's `[sms] twilio_base_url` and Entra ID's
/// `[teams] login_base_url`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
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

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstRunSettings {
    pub organization: String,
    pub owner_email: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvitationSettings {
    /// Lifetime given to new organizations; each organization can change its own.
    pub default_lifetime_days: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    pub max_failed_sign_ins_per_account: i64,
    pub max_failed_sign_ins_per_ip: i64,
    pub throttle_window_minutes: i64,
    /// Requests one SCIM provisioning token may make per minute.
    pub scim_requests_per_minute: i64,
    pub session_days: i64,
    /// The server key secrets at rest are sealed with: 32 bytes in base64. Empty: read from
    /// `secret_key_file`. Several instances on one PostgreSQL database must share it.
    pub secret_key: Secret,
    /// Where the key is kept when `secret_key` is empty. Empty: beside the SQLite database file
    /// (`onboard.db` → `onboard.db.key`), created with mode 0600 by the first start.
    pub secret_key_file: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxSettings {
    pub workers: usize,
    pub max_attempts: i64,
    /// How long a claimed job stays claimed before another instance may take it over.
    pub lease_seconds: i64,
    pub poll_millis: u64,
    /// How often each instance looks for reminders the database says are due.
    pub reminder_sweep_seconds: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `pretty` or `json`.
    pub format: String,
    /// A tracing filter such as `info,onboard=debug`; `RUST_LOG` wins.
    pub filter: String,
}

impl Default for Settings {
    /// Every setting at its declared default.
    fn default() -> Self {
        Self::layered(None, |_| None).expect("the declared defaults are valid settings")
    }
}

impl Settings {
    /// Reads the configuration file if there is one, then applies the environment.
    pub fn load() -> anyhow::Result<Self> {
        let path = std::env::var("ONBOARD_CONFIG").unwrap_or_else(|_| "Leptos.toml".into());
        let text = match Path::new(&path).exists() {
            true => Some(std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?),
            false => None,
        };
        let settings = Self::layered(text.as_deref().map(|text| (path.as_str(), text)), |v| std::env::var(v).ok())?;
        settings.validate()?;
        Ok(settings)
    }

    /// The declared defaults, then `file` (its name and TOML text), then every variable of
    /// [`SETTINGS`] that `environment` returns a value for.
    ///
    /// Errors: a file that is not TOML, a key no setting has, or a value of the wrong shape; a bad
    /// value from the environment is reported under its variable's name.
    pub fn layered(file: Option<(&str, &str)>, environment: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let mut builder = Config::builder();
        for setting in SETTINGS {
            let default = setting.value(setting.default).expect("a declared default has its setting's shape");
            builder = builder.set_default(setting.key, default)?;
        }
        if let Some((_, text)) = file {
            builder = builder.add_source(File::from_str(text, FileFormat::Toml));
        }
        // Each variable given, with the key it sets: a later one for the same key wins.
        let given: Vec<(&str, &str, String)> = CARGO_LEPTOS_VARIABLES
            .iter()
            .map(|&(variable, key)| (variable, key))
            .chain(SETTINGS.iter().map(|s| (s.variable, s.key)))
            .filter_map(|(variable, key)| Some((variable, key, environment(variable)?)))
            .collect();
        for (variable, key, text) in &given {
            let shape = SETTINGS.iter().find(|s| s.key == *key).expect("every key is declared");
            let Some(value) = shape.value(text) else {
                bail!("{variable} must be a whole number, not “{text}”");
            };
            builder = builder.set_override(*key, value)?;
        }
        let explain = |error: ConfigError| -> anyhow::Error {
            let key = match &error {
                ConfigError::Type { key, .. } | ConfigError::At { key, .. } => key.as_deref().unwrap_or(""),
                _ => "",
            };
            // A key such as `server.trusted_proxies[1]` belongs to `server.trusted_proxies`.
            let from_environment = given.iter().rev().find(|(_, setting, _)| {
                key.strip_prefix(setting).is_some_and(|rest| rest.is_empty() || rest.starts_with('['))
            });
            match (from_environment, &error) {
                (Some((variable, _, text)), ConfigError::Type { expected, .. }) => {
                    anyhow::anyhow!("{variable} must be {expected}, not “{text}”")
                }
                (Some((variable, _, text)), ConfigError::At { error, .. }) => {
                    anyhow::anyhow!("{variable}: “{text}” is not valid: {error}")
                }
                _ => match file {
                    Some((name, _)) => anyhow::anyhow!("{name} is not valid configuration: {error}"),
                    None => anyhow::anyhow!("configuration error: {error}"),
                },
            }
        };
        builder.build().and_then(Config::try_deserialize).map_err(explain)
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
        if self.outbox.reminder_sweep_seconds == 0 {
            bail!("ONBOARD_OUTBOX_REMINDER_SWEEP_SECONDS must be at least 1");
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
