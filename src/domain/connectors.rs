//! Chat connectors: the providers the agent is reached through, what each needs to be set up,
//! and the onboarding policy. Where a message goes under it is `chat_users::route`.

use crate::AppError;

keyed_enum! {
    /// A chat platform a connector receives messages from.
    pub enum ChatProvider {
        Slack = "slack",
        Teams = "teams",
        Telegram = "telegram",
        D360 = "d360",
        Twilio = "twilio",
    }
}

/// One setting a provider needs. Secret ones are write-only: the browser only ever sees a hint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CredentialField {
    pub key: &'static str,
    pub label: &'static str,
    pub secret: bool,
    pub help: &'static str,
}

impl CredentialField {
    /// A header secret we choose rather than one the provider hands out: the form offers to
    /// generate it.
    pub fn can_generate(&self) -> bool {
        matches!(self.key, "secret_token" | "webhook_secret")
    }
}

/// A webhook header secret from 32 random bytes: 64 hex digits, which every provider's header
/// accepts (Telegram allows A–Z, a–z, 0–9, _ and -, up to 256 characters).
pub fn webhook_secret_from(random: &[u8; 32]) -> String {
    random.iter().map(|b| format!("{b:02x}")).collect()
}

impl ChatProvider {
    pub fn label(self) -> &'static str {
        match self {
            Self::Slack => "Slack",
            Self::Teams => "Microsoft Teams",
            Self::Telegram => "Telegram",
            Self::D360 => "WhatsApp (360dialog)",
            Self::Twilio => "Twilio (SMS and WhatsApp)",
        }
    }

    /// What identifies a person on this platform, for the chat user's profile.
    pub fn platform_id_label(self) -> &'static str {
        match self {
            Self::Slack => "Slack user ID",
            Self::Teams => "Azure AD object ID",
            Self::Telegram => "Telegram user ID",
            Self::D360 | Self::Twilio => "Phone number",
        }
    }

    pub fn credential_fields(self) -> &'static [CredentialField] {
        match self {
            Self::Slack => &[
                CredentialField {
                    key: "bot_token",
                    label: "Bot token",
                    secret: true,
                    help: "Starts with xoxb-; needs chat:write and users:read.",
                },
                CredentialField {
                    key: "signing_secret",
                    label: "Signing secret",
                    secret: true,
                    help: "From the app's Basic Information page.",
                },
            ],
            Self::Teams => &[
                CredentialField {
                    key: "app_id",
                    label: "Bot app ID",
                    secret: false,
                    help: "The Azure Bot's Microsoft App ID.",
                },
                CredentialField {
                    key: "app_password",
                    label: "Bot client secret",
                    secret: true,
                    help: "A client secret of that app registration.",
                },
                CredentialField {
                    key: "tenant_id",
                    label: "Tenant ID",
                    secret: false,
                    help: "Your directory (tenant) ID, or botframework.com for a multi-tenant bot.",
                },
            ],
            Self::Telegram => &[
                CredentialField {
                    key: "bot_token",
                    label: "Bot token",
                    secret: true,
                    help: "From @BotFather, like 123456:ABC-…",
                },
                CredentialField {
                    key: "secret_token",
                    label: "Webhook secret token",
                    secret: true,
                    help: "32–256 letters, digits, _ or -; give the same to setWebhook.",
                },
            ],
            Self::D360 => &[
                CredentialField { key: "api_key", label: "API key", secret: true, help: "The channel's D360-API-KEY." },
                CredentialField {
                    key: "webhook_secret",
                    label: "Webhook secret",
                    secret: true,
                    help: "At least 32 characters; set as the webhook's X-Onboard-Secret header.",
                },
            ],
            Self::Twilio => &[
                CredentialField { key: "account_sid", label: "Account SID", secret: false, help: "Starts with AC." },
                CredentialField {
                    key: "auth_token",
                    label: "Auth token",
                    secret: true,
                    help: "Signs Twilio's webhooks and authenticates sends.",
                },
                CredentialField {
                    key: "from_number",
                    label: "Sending number",
                    secret: false,
                    help: "+E.164 for SMS, or whatsapp:+E.164 for WhatsApp.",
                },
            ],
        }
    }

    /// Checks one credential's shape, so a typo is caught when it is entered rather than at the
    /// first message.
    pub fn check_credential(self, key: &str, value: &str) -> Result<(), String> {
        if value.is_empty() {
            return Err("Required.".into());
        }
        if value.chars().any(char::is_whitespace) {
            return Err("Must not contain spaces.".into());
        }
        let ok = match (self, key) {
            (Self::Slack, "bot_token") => value.starts_with("xoxb-"),
            (Self::Telegram, "bot_token") => value
                .split_once(':')
                .is_some_and(|(id, rest)| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !rest.is_empty()),
            // A header secret is the whole of these webhooks' authentication: long enough that
            // guessing it is hopeless (Telegram allows 1–256 characters; we ask for 32).
            (Self::Telegram, "secret_token") => {
                (MIN_HEADER_SECRET_CHARS..=256).contains(&value.len())
                    && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            }
            (Self::D360, "webhook_secret") => value.len() >= MIN_HEADER_SECRET_CHARS,
            (Self::Twilio, "account_sid") => value.starts_with("AC") && value.len() == 34,
            (Self::Twilio, "from_number") => is_e164(value.strip_prefix("whatsapp:").unwrap_or(value)),
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            let field = self.credential_fields().iter().find(|f| f.key == key);
            Err(format!("Does not look right: {}", field.map(|f| f.help).unwrap_or("check the value.")))
        }
    }

    /// How to point the provider at the connector's webhook URL.
    pub fn setup_steps(self) -> &'static [&'static str] {
        match self {
            Self::Slack => &[
                "In your Slack app, open Event Subscriptions and turn them on.",
                "Paste the webhook URL as the Request URL; Slack checks it at once.",
                "Subscribe to the bot event message.im and reinstall the app.",
                "For approvals in chat, also open Interactivity & Shortcuts, turn it on and paste the same webhook URL as its Request URL, then invite the bot to the approvers' channel.",
            ],
            Self::Teams => &[
                "In the Azure Bot resource, open Configuration.",
                "Paste the webhook URL as the Messaging endpoint and save.",
                "Add the Microsoft Teams channel and install the app for your users.",
                "For approvals in chat, add the app to the approvers' team or group chat too.",
            ],
            Self::Telegram => &[
                "Call setWebhook with the webhook URL as url and your webhook secret token as secret_token:",
                "https://api.telegram.org/bot<token>/setWebhook?url=<webhook URL>&secret_token=<secret>",
            ],
            Self::D360 => &[
                "Set the channel's webhook with POST /v1/configs/webhook:",
                "{\"url\": \"<webhook URL>\", \"headers\": {\"X-Onboard-Secret\": \"<webhook secret>\"}}",
            ],
            Self::Twilio => &[
                "In the Twilio console, open the number (or WhatsApp sender).",
                "Under \"A message comes in\", choose Webhook, HTTP POST, and paste the webhook URL.",
            ],
        }
    }
}

fn is_e164(number: &str) -> bool {
    number
        .strip_prefix('+')
        .is_some_and(|digits| (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
}

keyed_enum! {
    /// Who may reach the agent through a connector.
    #[derive(Default)]
    pub enum Policy {
        /// Every message goes straight to the agent (Onboarding off, the default).
        #[default]
        AllowAll = "allow_all",
        /// New chat users need an admin's approval first (Onboarding on).
        OnBoarding = "onboarding",
    }
}

impl Policy {
    pub fn label(self) -> &'static str {
        match self {
            Self::AllowAll => "AllowAll",
            Self::OnBoarding => "OnBoarding",
        }
    }
}

pub const MAX_ONBOARDING_MESSAGE_CHARS: usize = 2_000;
pub const MAX_CONNECTOR_NAME_CHARS: usize = 80;

/// The most chat users one connector's deny list holds, and the longest platform id in it.
pub const MAX_BLOCKED: usize = 10_000;
pub const MAX_PLATFORM_ID_CHARS: usize = 200;

impl ChatProvider {
    /// Whether its chat users can be members of the organization: Slack and Teams identities
    /// are mapped to memberships (Settings › Slack / Microsoft Teams mappings); the others are
    /// known only by a number.
    pub fn maps_to_members(self) -> bool {
        matches!(self, Self::Slack | Self::Teams)
    }

    /// A platform id as typed, in the form this provider's webhooks give it, so a deny list
    /// matches: Slack ids in upper case, Teams (Entra object) ids in lower case, Telegram ids as
    /// digits, and phone numbers (360dialog, Twilio) as + and digits (E.164).
    pub fn platform_id(self, raw: &str) -> Result<String, &'static str> {
        let raw = raw.trim();
        match self {
            Self::Slack if raw.chars().all(|c| c.is_ascii_alphanumeric()) => Ok(raw.to_ascii_uppercase()),
            Self::Slack => Err("a Slack user ID is letters and digits, like U0123ABCD"),
            Self::Teams => Ok(raw.to_lowercase()),
            Self::Telegram if !raw.is_empty() && raw.chars().all(|c| c.is_ascii_digit()) => Ok(raw.to_string()),
            Self::Telegram => Err("a Telegram user ID is digits"),
            Self::D360 | Self::Twilio => {
                let number: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.')).collect();
                let digits = number.strip_prefix('+').unwrap_or_default();
                match (6..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
                    true => Ok(number),
                    false => Err("write the number with its country code, like +447911123456"),
                }
            }
        }
    }
}

/// The connector's rules as typed: whether members are let in (`members`), and the deny list,
/// one platform id a line (commas separate too), each in the provider's form
/// ([`ChatProvider::platform_id`]), each once, sorted as the card lists them.
pub fn check_rules(provider: ChatProvider, members: bool, blocked: &str) -> Result<Vec<String>, AppError> {
    if members && !provider.maps_to_members() {
        return Err(AppError::invalid(
            "members",
            format!("{} users are not mapped to members: only Slack and Microsoft Teams ones are.", provider.label()),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    let mut ids = Vec::new();
    for (i, raw) in blocked.split(['\n', ',']).map(str::trim).filter(|id| !id.is_empty()).enumerate() {
        let shown: String = raw.chars().take(40).collect();
        let shown = if shown.len() < raw.len() { format!("{shown}…") } else { shown };
        let problem = |why: &str| AppError::invalid("blocked", format!("Entry {} ({shown}): {why}.", i + 1));
        if raw.chars().count() > MAX_PLATFORM_ID_CHARS {
            return Err(problem(&format!("over {MAX_PLATFORM_ID_CHARS} characters")));
        }
        let id = provider.platform_id(raw).map_err(problem)?;
        if seen.insert(id.clone()) {
            ids.push(id);
        }
    }
    ids.sort();
    if ids.len() > MAX_BLOCKED {
        return Err(AppError::invalid(
            "blocked",
            format!("At most {} blocked users a connector.", crate::domain::grouped(MAX_BLOCKED as i64)),
        ));
    }
    Ok(ids)
}

/// The policy with its onboarding message: OnBoarding must say something to the people it holds back.
pub fn check_policy(policy: Policy, onboarding_message: &str) -> Result<String, AppError> {
    let message = onboarding_message.trim();
    if policy == Policy::OnBoarding && message.is_empty() {
        return Err(AppError::invalid(
            "onboarding_message",
            "Write the onboarding message new users receive while they wait for approval.",
        ));
    }
    if message.chars().count() > MAX_ONBOARDING_MESSAGE_CHARS {
        return Err(AppError::invalid(
            "onboarding_message",
            format!("The onboarding message is too long: at most {MAX_ONBOARDING_MESSAGE_CHARS} characters."),
        ));
    }
    Ok(message.to_string())
}

/// The approvers' conversation as typed, checked for the connector that posts the cards there:
/// a Slack channel ID (`C…` public, `G…` private) or a Teams conversation ID (`19:…@thread.tacv2`
/// for a channel, `19:…@thread.v2` for a group chat, as Bot Framework activities carry it). A
/// link copied from either app is taken too: Slack's "Copy link" (`…/archives/C0123ABCD`) and
/// Teams' "Get link to channel" (`…/l/channel/19%3a…%40thread.tacv2/General?…`). Empty turns
/// approvals in chat off.
pub fn check_approvers_conversation(via: ChatProvider, raw: &str) -> Result<String, AppError> {
    let raw = raw.trim();
    let problem = |why: &str| AppError::invalid("conversation", why.to_string());
    match via {
        _ if raw.is_empty() => Ok(String::new()),
        ChatProvider::Slack => {
            let id =
                raw.split_once("/archives/").map_or(raw, |(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""));
            let id = id.to_ascii_uppercase();
            let well_formed = (9..=30).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric());
            match id.chars().next() {
                Some('C' | 'G') if well_formed => Ok(id),
                Some('D') if well_formed => Err(problem(
                    "That is a direct message: name a channel, like C0123ABCD, so every approver sees the requests.",
                )),
                _ => Err(problem(
                    "A Slack channel ID looks like C0123ABCD: open the channel's details in Slack and copy it from the bottom, or paste the channel's link.",
                )),
            }
        }
        ChatProvider::Teams => {
            let linked = raw.split_once("/l/channel/").or_else(|| raw.split_once("/l/chat/"));
            let id = match linked {
                Some((_, rest)) => {
                    let encoded = rest.split(['/', '?', '#']).next().unwrap_or("");
                    percent_encoding::percent_decode_str(encoded).decode_utf8_lossy().into_owned()
                }
                None => raw.to_string(),
            };
            let well_formed = id.starts_with("19:")
                && id.contains("@thread.")
                && id.len() <= 200
                && !id.chars().any(|c| c.is_whitespace() || c.is_control());
            if well_formed {
                Ok(id)
            } else {
                Err(problem(
                    "A Teams conversation ID looks like 19:…@thread.tacv2 (a channel) or 19:…@thread.v2 (a group chat): paste the channel's link from Get link to channel, or the ID.",
                ))
            }
        }
        other => Err(AppError::invalid(
            "via",
            format!("Requests can be posted through a Slack or Microsoft Teams connector, not {}.", other.label()),
        )),
    }
}

/// The message that tells a requester they are approved: required, at most as long as the
/// onboarding message.
pub fn check_approval_message(message: &str) -> Result<String, AppError> {
    let message = message.trim();
    if message.is_empty() {
        return Err(AppError::invalid("approval_message", "Write the message people receive once they are approved."));
    }
    if message.chars().count() > MAX_ONBOARDING_MESSAGE_CHARS {
        return Err(AppError::invalid(
            "approval_message",
            format!("The approval message is too long: at most {MAX_ONBOARDING_MESSAGE_CHARS} characters."),
        ));
    }
    Ok(message.to_string())
}

pub fn check_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("name", "Give the connector a name."));
    }
    if name.chars().count() > MAX_CONNECTOR_NAME_CHARS {
        return Err(AppError::invalid("name", format!("At most {MAX_CONNECTOR_NAME_CHARS} characters.")));
    }
    Ok(name.to_string())
}

/// The agent endpoint must be HTTPS; plain HTTP only to this machine, for an agent beside Onboard.
pub fn check_agent_url(url: &str) -> Result<String, AppError> {
    https_address(url).ok_or_else(|| {
        AppError::invalid(
            "agent_url",
            "Enter the agent's HTTPS address, like https://agent.example.com/messages (plain http only for localhost).",
        )
    })
}

/// A tenant's address for Onboard to call, trimmed: HTTPS, or plain HTTP to this machine (a
/// receiver beside Onboard); no user name or password in it, no white space. `None` otherwise.
/// Where it may lead is judged when it is saved and again when it is called (`server::outbound`).
pub fn https_address(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://").unwrap_or(("", ""));
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let hostname = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
    let loopback = matches!(hostname, "localhost" | "127.0.0.1" | "[::1]");
    let ok = !host.is_empty()
        && !host.contains('@')
        && !url.chars().any(char::is_whitespace)
        && (scheme == "https" || (scheme == "http" && loopback));
    ok.then(|| url.to_string())
}

pub const MIN_AGENT_SECRET_CHARS: usize = 16;

/// The shortest Telegram or 360dialog webhook secret accepted.
pub const MIN_HEADER_SECRET_CHARS: usize = 32;

/// A secret as the browser sees it: enough to recognise it, not to use it.
pub fn hint(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 12 {
        "••••".into()
    } else {
        format!("••••{}", chars[chars.len() - 4..].iter().collect::<String>())
    }
}

#[cfg(test)]
mod tests;
