//! Every setting, declared once: its key, its environment variable, its default and its shape.

use config::Value;

/// One setting: its key in the file (`section.name`), the environment variable that overrides
/// it, its default as that variable would spell it, and how the variable's text is read.
#[derive(Debug)]
pub struct Setting {
    pub key: &'static str,
    pub variable: &'static str,
    pub default: &'static str,
    pub shape: Shape,
}

/// How an environment variable's text becomes a setting's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// As it is: text that looks like a number (a client id, a phone number) stays text.
    Text,
    /// A whole number, spaces around it ignored; "off" or "1.5" is refused, not read as 0 or 2.
    Number,
    /// An array in the file, comma-separated in the variable.
    List,
}

const fn one(key: &'static str, variable: &'static str, default: &'static str) -> Setting {
    Setting { key, variable, default, shape: Shape::Text }
}

const fn number(key: &'static str, variable: &'static str, default: &'static str) -> Setting {
    Setting { key, variable, default, shape: Shape::Number }
}

const fn list(key: &'static str, variable: &'static str) -> Setting {
    Setting { key, variable, default: "", shape: Shape::List }
}

/// Every setting, in the README's order.
pub const SETTINGS: &[Setting] = &[
    one("server.site_addr", "ONBOARD_SITE_ADDR", "127.0.0.1:3000"),
    one("server.public_url", "ONBOARD_PUBLIC_URL", "http://127.0.0.1:3000"),
    one("server.site_root", "ONBOARD_SITE_ROOT", "target/site"),
    number("server.max_body_bytes", "ONBOARD_MAX_BODY_BYTES", "2097152"),
    // 100,000 addresses of about 40 characters, form-encoded, with room to spare.
    number("server.max_paste_bytes", "ONBOARD_MAX_PASTE_BYTES", "16777216"),
    list("server.trusted_proxies", "ONBOARD_TRUSTED_PROXIES"),
    one("database.url", "DATABASE_URL", "sqlite://data/onboard.db"),
    number("database.max_connections", "ONBOARD_DB_MAX_CONNECTIONS", "10"),
    number("database.acquire_timeout_seconds", "ONBOARD_DB_ACQUIRE_TIMEOUT_SECONDS", "10"),
    one("mail.smtp_url", "ONBOARD_SMTP_URL", ""),
    one("mail.from", "ONBOARD_MAIL_FROM", "Onboard <onboard@localhost>"),
    number("mail.pool_size", "ONBOARD_SMTP_POOL_SIZE", "16"),
    one("sms.twilio_account_sid", "ONBOARD_TWILIO_ACCOUNT_SID", ""),
    one("sms.twilio_auth_token", "ONBOARD_TWILIO_AUTH_TOKEN", ""),
    one("sms.twilio_from", "ONBOARD_TWILIO_FROM", ""),
    one("sms.twilio_base_url", "ONBOARD_TWILIO_BASE_URL", "https://api.twilio.com"),
    one("slack.bot_token", "ONBOARD_SLACK_BOT_TOKEN", ""),
    one("slack.client_id", "ONBOARD_SLACK_CLIENT_ID", ""),
    one("slack.client_secret", "ONBOARD_SLACK_CLIENT_SECRET", ""),
    one("slack.api_base_url", "ONBOARD_SLACK_API_BASE_URL", "https://slack.com/api"),
    one("slack.authorize_url", "ONBOARD_SLACK_AUTHORIZE_URL", "https://slack.com/openid/connect/authorize"),
    one("teams.tenant_id", "ONBOARD_TEAMS_TENANT_ID", ""),
    one("teams.app_id", "ONBOARD_TEAMS_APP_ID", ""),
    one("teams.app_secret", "ONBOARD_TEAMS_APP_SECRET", ""),
    one("teams.login_base_url", "ONBOARD_TEAMS_LOGIN_BASE_URL", "https://login.microsoftonline.com"),
    one("teams.graph_base_url", "ONBOARD_TEAMS_GRAPH_BASE_URL", "https://graph.microsoft.com"),
    one("teams.service_url", "ONBOARD_TEAMS_SERVICE_URL", "https://smba.trafficmanager.net/teams"),
    one("chat.telegram_base_url", "ONBOARD_TELEGRAM_BASE_URL", "https://api.telegram.org"),
    one("chat.d360_base_url", "ONBOARD_D360_BASE_URL", "https://waba-v2.360dialog.io"),
    one(
        "chat.botframework_openid_url",
        "ONBOARD_BOTFRAMEWORK_OPENID_URL",
        "https://login.botframework.com/v1/.well-known/openidconfiguration",
    ),
    number("chat.max_webhook_bytes", "ONBOARD_MAX_WEBHOOK_BYTES", "262144"),
    number("chat.agent_timeout_seconds", "ONBOARD_AGENT_TIMEOUT_SECONDS", "30"),
    list("chat.allowed_private_agent_hosts", "ONBOARD_ALLOWED_PRIVATE_AGENT_HOSTS"),
    one("first_run.organization", "ONBOARD_FIRST_ORGANIZATION", "My organization"),
    one("first_run.owner_email", "ONBOARD_OWNER_EMAIL", "owner@example.com"),
    // `domain::settings::DEFAULT_INVITE_DAYS`; a test keeps the two equal.
    number("invitations.default_lifetime_days", "ONBOARD_INVITE_LIFETIME_DAYS", "7"),
    number("security.max_failed_sign_ins_per_account", "ONBOARD_MAX_FAILED_SIGN_INS_PER_ACCOUNT", "5"),
    number("security.max_failed_sign_ins_per_ip", "ONBOARD_MAX_FAILED_SIGN_INS_PER_IP", "30"),
    number("security.throttle_window_minutes", "ONBOARD_THROTTLE_WINDOW_MINUTES", "15"),
    number("security.scim_requests_per_minute", "ONBOARD_SCIM_REQUESTS_PER_MINUTE", "1200"),
    number("security.session_days", "ONBOARD_SESSION_DAYS", "14"),
    one("security.secret_key", "ONBOARD_SECRET_KEY", ""),
    one("security.secret_key_file", "ONBOARD_SECRET_KEY_FILE", ""),
    number("outbox.workers", "ONBOARD_OUTBOX_WORKERS", "16"),
    number("outbox.max_attempts", "ONBOARD_OUTBOX_MAX_ATTEMPTS", "8"),
    number("outbox.lease_seconds", "ONBOARD_OUTBOX_LEASE_SECONDS", "120"),
    number("outbox.poll_millis", "ONBOARD_OUTBOX_POLL_MILLIS", "1000"),
    number("outbox.reminder_sweep_seconds", "ONBOARD_OUTBOX_REMINDER_SWEEP_SECONDS", "30"),
    one("log.format", "ONBOARD_LOG_FORMAT", "pretty"),
    one("log.filter", "RUST_LOG", "info"),
];

/// cargo-leptos names the site's folder and address in its own variables; ours win over them.
pub(super) const CARGO_LEPTOS_VARIABLES: [(&str, &str); 2] =
    [("LEPTOS_SITE_ROOT", "server.site_root"), ("LEPTOS_SITE_ADDR", "server.site_addr")];

impl Setting {
    /// `text` as this setting's value, or `None` when it is not a number and should be.
    pub(super) fn value(&self, text: &str) -> Option<Value> {
        match self.shape {
            Shape::Text => Some(Value::from(text)),
            Shape::Number => text.trim().parse::<i64>().ok().map(Value::from),
            Shape::List => Some(Value::from(
                text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect::<Vec<_>>(),
            )),
        }
    }
}
