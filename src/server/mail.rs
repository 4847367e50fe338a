//! Email delivery: SMTP through lettre's pooled transport, or, with no SMTP configured, a log
//! line while the message stays readable in the outbox.

use super::config::MailSettings;
use crate::domain::EmailAddress;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::{ClientId, Extension};
use lettre::Message;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EmailMessage {
    pub to: String,
    /// Display name for the sender (the organization's sender name); the address is configured.
    #[serde(default)]
    pub from_name: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Clone)]
pub enum Mailer {
    Smtp(Arc<SmtpPool>),
    LogOnly,
}

/// A failed send, and whether trying again later could help.
#[derive(Debug)]
pub struct SendFailure {
    pub message: String,
    pub permanent: bool,
}

impl Mailer {
    pub fn from_settings(settings: &MailSettings) -> anyhow::Result<Self> {
        if settings.smtp_url.is_empty() {
            return Ok(Mailer::LogOnly);
        }
        let from: Mailbox = settings.from.parse().map_err(|e| anyhow::anyhow!("ONBOARD_MAIL_FROM: {e}"))?;
        let target = SmtpTarget::parse(settings.smtp_url.expose())?;
        Ok(Mailer::Smtp(Arc::new(SmtpPool::new(target, from, settings.pool_size))))
    }

    /// Returns how the message went out: "smtp" or "logged". `job` is the outbox job sending it:
    /// its id makes the Message-ID, so a message sent again after a crash (the server accepted
    /// it, then Onboard died before recording that) is the same message to the recipient's mail
    /// system, which shows it once.
    pub async fn send(&self, message: &EmailMessage, job: i64) -> Result<&'static str, SendFailure> {
        match self {
            Mailer::LogOnly => {
                // Never the body: it may carry a link or a code. The Outbox page shows what it may.
                tracing::info!(to = %message.to, subject = %message.subject, job,
                    "no SMTP server configured: email kept in the outbox, not sent");
                Ok("logged")
            }
            Mailer::Smtp(pool) => pool.send(message, job).await.map(|_| "smtp"),
        }
    }
}

#[derive(Clone, Debug)]
enum Security {
    /// Plain SMTP: only sensible on loopback or a trusted network.
    None,
    StartTls {
        required: bool,
    },
    /// SMTPS: TLS from the first byte.
    Implicit,
}

/// Where and how to reach the SMTP server, from `ONBOARD_SMTP_URL`.
#[derive(Clone)]
pub struct SmtpTarget {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
}

impl SmtpTarget {
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        let url = url::Url::parse(raw).map_err(|e| anyhow::anyhow!("ONBOARD_SMTP_URL is not a URL: {e}"))?;
        let host =
            url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| anyhow::anyhow!("ONBOARD_SMTP_URL needs a host"))?;
        let tls = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.to_string());
        let (security, default_port) = match (url.scheme(), tls.as_deref()) {
            ("smtps", _) => (Security::Implicit, 465),
            ("smtp", Some("required")) => (Security::StartTls { required: true }, 587),
            ("smtp", Some("opportunistic")) => (Security::StartTls { required: false }, 587),
            ("smtp", None | Some("none")) => (Security::None, 25),
            (scheme, tls) => {
                anyhow::bail!("ONBOARD_SMTP_URL: unsupported scheme {scheme} or tls={}", tls.unwrap_or(""))
            }
        };
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        let credentials = (!url.username().is_empty())
            .then(|| Credentials::new(decode(url.username()), decode(url.password().unwrap_or(""))));
        Ok(Self { host: host.to_string(), port: url.port().unwrap_or(default_port), security, credentials })
    }
}

/// Pooled SMTP connections. Sockets are opened with TCP_NODELAY: lettre writes a message's
/// final "." separately, and with Nagle's algorithm each message would wait for a delayed ACK
/// (about 40 ms on Linux), capping a connection at some 25 messages a second.
pub struct SmtpPool {
    target: SmtpTarget,
    from: Mailbox,
    hello: ClientId,
    idle: std::sync::Mutex<Vec<AsyncSmtpConnection>>,
    slots: tokio::sync::Semaphore,
}

const SMTP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Connecting: a 5xx reply (refused credentials, say) fails for good; anything else, a
/// 4xx, a network, TLS or setup error, may pass on a later try (RFC 5321 §4.2.1).
fn failure(e: lettre::transport::smtp::Error) -> SendFailure {
    SendFailure { permanent: e.is_permanent(), message: e.to_string() }
}

/// Sending one message: also an address or message lettre refuses to send for this server (a
/// client error) fails for good, since trying again cannot change it.
fn send_failure(e: lettre::transport::smtp::Error) -> SendFailure {
    SendFailure { permanent: e.is_permanent() || e.is_client(), message: e.to_string() }
}

/// Why a message to an address with a non-ASCII local part cannot go through this server.
pub const NO_SMTPUTF8: &str = "the mail server does not accept international addresses";

impl SmtpPool {
    fn new(target: SmtpTarget, from: Mailbox, size: usize) -> Self {
        Self {
            target,
            from,
            hello: ClientId::default(),
            idle: std::sync::Mutex::new(Vec::new()),
            slots: tokio::sync::Semaphore::new(size.max(1)),
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendFailure> {
        let t = &self.target;
        let transient = |message: String| SendFailure { message, permanent: false };
        let mut conn = match t.security {
            Security::Implicit => {
                let tls = TlsParameters::new(t.host.clone()).map_err(failure)?;
                AsyncSmtpConnection::connect_tokio1(
                    (t.host.as_str(), t.port),
                    Some(SMTP_TIMEOUT),
                    &self.hello,
                    Some(tls),
                    None,
                )
                .await
                .map_err(failure)?
            }
            _ => {
                let tcp = tokio::time::timeout(SMTP_TIMEOUT, tokio::net::TcpStream::connect((t.host.as_str(), t.port)))
                    .await
                    .map_err(|_| transient(format!("connecting to {}:{} timed out", t.host, t.port)))?
                    .map_err(|e| transient(format!("connecting to {}:{}: {e}", t.host, t.port)))?;
                tcp.set_nodelay(true).map_err(|e| transient(e.to_string()))?;
                AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello).await.map_err(failure)?
            }
        };
        if let Security::StartTls { required } = t.security {
            if conn.can_starttls() {
                let tls = TlsParameters::new(t.host.clone()).map_err(failure)?;
                conn.starttls(tls, &self.hello).await.map_err(failure)?;
            } else if required {
                return Err(SendFailure {
                    message: "the SMTP server does not offer STARTTLS".into(),
                    permanent: false,
                });
            }
        }
        if let Some(credentials) = &t.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials).await.map_err(failure)?;
        }
        Ok(conn)
    }

    pub async fn send(&self, message: &EmailMessage, job: i64) -> Result<(), SendFailure> {
        let (email, needs_smtputf8) = build(message, &self.from, job)?;
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| SendFailure { message: "mailer closed".into(), permanent: false })?;
        let reused = self.idle.lock().map(|mut idle| idle.pop()).unwrap_or(None);
        let mut conn = match reused {
            Some(conn) if !conn.has_broken() => conn,
            _ => self.connect().await?,
        };
        if needs_smtputf8 && !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
            self.keep(conn);
            return Err(SendFailure { message: NO_SMTPUTF8.into(), permanent: true });
        }
        let sent = tokio::time::timeout(SMTP_TIMEOUT, conn.send(email.envelope(), &email.formatted())).await;
        match sent {
            Ok(Ok(_)) => {
                self.keep(conn);
                Ok(())
            }
            // A refused message leaves the connection in an unknown state: drop it.
            Ok(Err(e)) => Err(send_failure(e)),
            Err(_) => Err(SendFailure { message: "the SMTP server did not answer in time".into(), permanent: false }),
        }
    }

    /// Returns a connection in a known state to the pool.
    fn keep(&self, conn: AsyncSmtpConnection) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
        }
    }
}

/// The message, and whether its recipient needs SMTPUTF8. An international domain goes into
/// the envelope in ASCII, which every server accepts; only a non-ASCII local part needs SMTPUTF8.
fn build(message: &EmailMessage, from: &Mailbox, job: i64) -> Result<(Message, bool), SendFailure> {
    let permanent = |message: String| SendFailure { message, permanent: true };
    let address = EmailAddress::parse(&message.to).map_err(|e| permanent(format!("invalid recipient: {e}")))?;
    let to: Mailbox = address.to_ascii_domain().parse().map_err(|e| permanent(format!("invalid recipient: {e}")))?;
    let sender = match &message.from_name {
        Some(name) => Mailbox::new(Some(name.clone()), from.email.clone()),
        None => from.clone(),
    };
    Message::builder()
        .from(sender)
        .to(to)
        .subject(&message.subject)
        .message_id(Some(format!("<outbox-{job}@{}>", from.email.domain())))
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(message.text.clone()))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(message.html.clone())),
        )
        .map(|built| (built, address.needs_smtputf8()))
        .map_err(|e| permanent(format!("building the message: {e}")))
}

/// Escapes text for an HTML email body.
pub use crate::domain::message::escape_html as html_escape;

/// The invitation email: who invites, to which organization, the link, and when it stops working.
/// What an invitation email says. The outbox keeps this rather than the rendered message: a
/// tenth of the bytes, which is most of the cost of storing a batch of thousands.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Invitation {
    pub to: String,
    pub org: String,
    pub sender: String,
    pub inviter: String,
    pub link: String,
    pub expires_at: i64,
}

impl Invitation {
    pub fn subject(&self) -> String {
        format!("{} invited you to join {} on Onboard", self.inviter, self.org)
    }

    /// The message itself, plain text and HTML, naming the organization, the inviter and the expiry.
    pub fn render(&self) -> EmailMessage {
        let Invitation { to, org, sender, inviter, link, expires_at } = self;
        let expires = crate::domain::time::format_utc(*expires_at);
        let text = format!(
            "Hello,\n\n{inviter} has invited you to join {org} on Onboard.\n\n\
             Register here (the link works once):\n{link}\n\n\
             This invitation expires on {expires}. If it has expired, ask {inviter} to send you a new one.\n\n\
             If you were not expecting this email, you can ignore it.\n"
        );
        let (org_h, inviter_h, link_h) = (html_escape(org), html_escape(inviter), html_escape(link));
        let html = format!(
            "<p>Hello,</p><p>{inviter_h} has invited you to join <strong>{org_h}</strong> on Onboard.</p>\
             <p><a href=\"{link_h}\">Register now</a> (the link works once), or open this address:<br>{link_h}</p>\
             <p>This invitation expires on {expires}. If it has expired, ask {inviter_h} to send you a new one.</p>\
             <p>If you were not expecting this email, you can ignore it.</p>"
        );
        EmailMessage { to: to.clone(), from_name: Some(sender.clone()), subject: self.subject(), text, html }
    }
}

/// A one-time code by email. The subject never carries the code: subjects show in notification
/// previews and mail logs.
pub fn code_email(to: &str, sender: &str, code: &str, purpose: &str) -> EmailMessage {
    let text = format!(
        "Your Onboard code for {purpose} is {code}\n\nIt works once, for 10 minutes. If you did not ask for it, ignore this email.\n"
    );
    let html = format!(
        "<p>Your Onboard code for {} is</p><p style=\"font-size:1.6em;letter-spacing:.2em\"><strong>{code}</strong></p>\
         <p>It works once, for 10 minutes. If you did not ask for it, ignore this email.</p>",
        html_escape(purpose)
    );
    EmailMessage {
        to: to.to_string(),
        from_name: Some(sender.to_string()),
        subject: format!("Your Onboard code for {purpose}"),
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_name_the_security_and_credentials() {
        let t = SmtpTarget::parse("smtp://user%40x:p%2Bss+@mail.example:2525?tls=required").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("mail.example", 2525));
        assert!(matches!(t.security, Security::StartTls { required: true }));
        assert!(t.credentials.is_some());
        assert!(matches!(SmtpTarget::parse("smtps://mail.example").unwrap().security, Security::Implicit));
        assert_eq!(SmtpTarget::parse("smtp://127.0.0.1").unwrap().port, 25);
        assert!(SmtpTarget::parse("http://mail.example").is_err());
        assert!(SmtpTarget::parse("not a url").is_err());
    }

    #[test]
    fn an_invitation_names_the_organization_the_inviter_the_link_and_the_expiry_and_escapes_markup() {
        let m = Invitation {
            to: "a@b.co".into(),
            org: "Acme <script>".into(),
            sender: "Acme HR".into(),
            inviter: "Ada <b>".into(),
            link: "http://x/register/t".into(),
            expires_at: 1_795_000_000_000,
        }
        .render();
        assert!(m.text.contains("Ada <b> has invited you to join Acme <script> on Onboard"));
        assert!(m.text.contains("http://x/register/t") && m.text.contains("18 Nov 2026, 11:06 UTC"));
        assert!(m.html.contains("Acme &lt;script&gt;") && !m.html.contains("<script>"));
        assert!(m.html.contains("Ada &lt;b&gt;"));
        assert_eq!(m.from_name.as_deref(), Some("Acme HR"));
    }
}
