//! What every chat provider's connector does, whichever provider it is: authenticate and decode
//! an inbound webhook, send a text back, and look up a sender's profile.

use super::{d360, slack, teams, telegram, twilio, ProviderFailure};
use crate::domain::connectors::ChatProvider;
use crate::server::config::Settings;
use crate::server::connectors::Connector;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// One message a person wrote, as the provider described it.
#[derive(Clone, Debug, PartialEq)]
pub struct InboundMessage {
    /// Slack user id, Entra object id, Telegram numeric id, or +E.164 phone number.
    pub platform_user_id: String,
    pub first_name: String,
    pub last_name: String,
    /// The provider's id for this message (or delivery), unique per connector: how replays are spotted.
    pub message_id: String,
    pub text: String,
    pub reply_to: ReplyAddress,
}

/// What a verified webhook carried.
#[derive(Debug, PartialEq)]
pub enum Inbound {
    Messages(Vec<InboundMessage>),
    /// Slack's `url_verification`: answer with the challenge.
    Challenge(String),
    /// Something other than a person's text (a status update, a bot's own message): acknowledged.
    Nothing,
}

/// Where a reply to a conversation goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum ReplyAddress {
    Slack {
        channel: String,
    },
    Teams {
        service_url: String,
        conversation_id: String,
    },
    Telegram {
        chat_id: i64,
    },
    WhatsApp {
        to: String,
    },
    /// The person's number (`whatsapp:` kept for WhatsApp) and the number they wrote to.
    Twilio {
        to: String,
        from: String,
    },
}

impl ReplyAddress {
    /// The conversation as the agent and the log know it.
    pub fn conversation_id(&self) -> String {
        match self {
            Self::Slack { channel } => channel.clone(),
            Self::Teams { conversation_id, .. } => conversation_id.clone(),
            Self::Telegram { chat_id } => chat_id.to_string(),
            Self::WhatsApp { to } => to.clone(),
            Self::Twilio { to, .. } => to.clone(),
        }
    }
}

/// A webhook that is not let in: the status to answer and the reason for the log.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub reason: String,
}

impl Refusal {
    pub fn unauthorized(reason: impl Into<String>) -> Self {
        Self { status: StatusCode::UNAUTHORIZED, reason: reason.into() }
    }

    pub fn malformed(reason: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, reason: reason.into() }
    }
}

/// What a webhook request brings, before anything is believed.
pub struct WebhookRequest<'a> {
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// The connector's webhook URL as configured (Twilio signs it).
    pub public_url: &'a str,
    pub now_s: i64,
}

/// Shared by all connectors: one HTTP client, and the tokens and keys worth keeping between calls.
#[derive(Clone)]
pub struct ChatClients {
    pub http: reqwest::Client,
    /// For the agent endpoints tenants choose: public addresses only (`server::outbound`).
    pub agent_http: reqwest::Client,
    pub allowed_private_hosts: crate::server::outbound::AllowedHosts,
    /// Bot Framework tokens by app id, with when to stop using them.
    pub teams_tokens: Arc<tokio::sync::Mutex<HashMap<String, (String, Instant)>>>,
    /// Bot Framework's signing keys, refetched when stale or when an unknown key id shows up.
    pub botframework_keys: teams::SigningKeys,
}

impl ChatClients {
    pub fn new(allowed_private_agent_hosts: &[String]) -> anyhow::Result<Self> {
        let allowed = crate::server::outbound::AllowedHosts::new(allowed_private_agent_hosts);
        Ok(Self {
            http: super::http_client()?,
            agent_http: crate::server::outbound::client(&allowed)?,
            allowed_private_hosts: allowed,
            teams_tokens: Default::default(),
            botframework_keys: Default::default(),
        })
    }
}

/// Checks a webhook the provider's way and decodes it. Nothing is stored before this says yes.
pub async fn authenticate(
    settings: &Settings,
    clients: &ChatClients,
    connector: &Connector,
    request: &WebhookRequest<'_>,
) -> Result<Inbound, Refusal> {
    let c = &connector.credentials;
    match connector.provider {
        ChatProvider::Slack => {
            slack::verify_signature(c.get("signing_secret"), request.headers, request.body, request.now_s)?;
            slack::decode_event(request.body)
        }
        ChatProvider::Teams => {
            let service_url = teams::verify_bearer(settings, clients, c.get("app_id"), request.headers).await?;
            let activity = teams::decode_activity(request.body)?;
            teams::check_service_url(&service_url, &activity)?;
            Ok(teams::inbound(&activity))
        }
        ChatProvider::Telegram => {
            telegram::verify_secret(c.get("secret_token"), request.headers)?;
            telegram::decode_update(request.body)
        }
        ChatProvider::D360 => {
            d360::verify_secret(c.get("webhook_secret"), request.headers)?;
            d360::decode_notification(request.body)
        }
        ChatProvider::Twilio => {
            let params = twilio::form_params(request.body)?;
            twilio::verify_signature(c.get("auth_token"), request.public_url, &params, request.headers)?;
            twilio::decode_message(&params)
        }
    }
}

/// Sends `text` into a conversation through the connector's provider.
pub async fn send_text(
    settings: &Settings,
    clients: &ChatClients,
    connector: &Connector,
    to: &ReplyAddress,
    text: &str,
) -> Result<(), ProviderFailure> {
    let c = &connector.credentials;
    match (connector.provider, to) {
        (ChatProvider::Slack, ReplyAddress::Slack { channel }) => {
            slack::SlackClient::with_token(clients.http.clone(), &settings.slack.api_base_url, c.secret("bot_token"))
                .post_message(channel, &crate::domain::message::escape_slack(text))
                .await
        }
        (ChatProvider::Teams, ReplyAddress::Teams { service_url, conversation_id }) => {
            let token = teams::connector_token(settings, clients, connector).await?;
            teams::reply(&clients.http, &token, service_url, conversation_id, text).await
        }
        (ChatProvider::Telegram, ReplyAddress::Telegram { chat_id }) => {
            telegram::send_message(&clients.http, &settings.chat.telegram_base_url, c.get("bot_token"), *chat_id, text)
                .await
        }
        (ChatProvider::D360, ReplyAddress::WhatsApp { to }) => {
            d360::send_text(&clients.http, &settings.chat.d360_base_url, c.get("api_key"), to, text).await
        }
        (ChatProvider::Twilio, ReplyAddress::Twilio { to, from }) => {
            let account = twilio::Account { sid: c.get("account_sid"), auth_token: c.get("auth_token") };
            twilio::send_message(&clients.http, &settings.sms.twilio_base_url, &account, from, to, text).await
        }
        (provider, _) => Err(ProviderFailure::permanent(format!(
            "a {} connector cannot reply to this conversation",
            provider.label()
        ))),
    }
}

/// A sender's profile where the webhook lacked it: names and an avatar (a URL, or the image
/// itself as a data URL when the provider's file link would carry the bot token).
#[derive(Debug, Default, PartialEq)]
pub struct Profile {
    pub first_name: String,
    pub last_name: String,
    pub avatar_url: Option<String>,
}

/// Whether a new chat user's profile is worth a lookup on this provider.
pub fn profile_lookup_helps(provider: ChatProvider) -> bool {
    matches!(provider, ChatProvider::Slack | ChatProvider::Telegram)
}

pub async fn fetch_profile(
    settings: &Settings,
    clients: &ChatClients,
    connector: &Connector,
    platform_id: &str,
) -> Result<Profile, ProviderFailure> {
    let c = &connector.credentials;
    match connector.provider {
        ChatProvider::Slack => {
            slack::SlackClient::with_token(clients.http.clone(), &settings.slack.api_base_url, c.secret("bot_token"))
                .profile(platform_id)
                .await
        }
        ChatProvider::Telegram => {
            let avatar =
                telegram::avatar(&clients.http, &settings.chat.telegram_base_url, c.get("bot_token"), platform_id)
                    .await?;
            Ok(Profile { avatar_url: avatar, ..Profile::default() })
        }
        _ => Ok(Profile::default()),
    }
}

/// Splits a display name the way people read it: the first word, then the rest.
pub fn split_name(full: &str) -> (String, String) {
    let full = full.trim();
    match full.split_once(char::is_whitespace) {
        Some((first, last)) => (first.to_string(), last.trim().to_string()),
        None => (full.to_string(), String::new()),
    }
}

/// Compares a presented secret with the stored one without leaking where they differ.
pub fn secret_matches(stored: &str, presented: Option<&str>) -> bool {
    match presented {
        Some(p) => !stored.is_empty() && crate::server::auth::constant_time_eq(stored.as_bytes(), p.as_bytes()),
        None => false,
    }
}

pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub fn json_body(body: &[u8]) -> Result<serde_json::Value, Refusal> {
    serde_json::from_slice(body).map_err(|e| Refusal::malformed(format!("the body is not JSON: {e}")))
}

/// Hostile input: every webhook decoder answers any body with a message or a refusal, never a
/// panic. `make fuzz` runs these for as long as it is told with many more cases.
#[cfg(test)]
mod fuzz {
    use super::super::{d360, slack, teams, telegram, twilio};
    use proptest::prelude::*;
    use serde_json::Value;

    /// Keys the decoders look for, so generated documents reach their deeper paths.
    const KEYS: &[&str] = &[
        "type",
        "event",
        "event_id",
        "challenge",
        "user",
        "channel",
        "text",
        "subtype",
        "bot_id",
        "update_id",
        "message",
        "from",
        "id",
        "chat",
        "is_bot",
        "first_name",
        "last_name",
        "entry",
        "changes",
        "value",
        "messages",
        "contacts",
        "profile",
        "name",
        "wa_id",
        "body",
        "conversation",
        "serviceUrl",
        "aadObjectId",
    ];

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            prop_oneof![Just("message".to_string()), Just("event_callback".to_string()), ".{0,12}"]
                .prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 64, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..6)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
            ]
        })
    }

    fn bodies() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![json().prop_map(|v| v.to_string().into_bytes()), proptest::collection::vec(any::<u8>(), 0..256)]
    }

    proptest! {
        #[test]
        fn fuzz_json_webhook_decoders_never_panic(body in bodies()) {
            let _ = slack::decode_event(&body);
            let _ = telegram::decode_update(&body);
            let _ = d360::decode_notification(&body);
            if let Ok(activity) = teams::decode_activity(&body) {
                let _ = teams::inbound(&activity);
            }
        }

        #[test]
        fn fuzz_twilio_forms_never_panic(
            body in prop_oneof![
                ".{0,200}",
                proptest::collection::vec(("(From|To|Body|MessageSid|ProfileName|[A-Za-z]{1,8})", ".{0,20}"), 0..8)
                    .prop_map(|pairs| url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()),
            ]
        ) {
            if let Ok(params) = twilio::form_params(body.as_bytes()) {
                let _ = twilio::decode_message(&params);
                let _ = twilio::signature("token", "https://onboard.example/webhooks/k", &params);
            }
        }

        #[test]
        fn fuzz_slack_signatures_never_panic(timestamp in ".{0,16}", signature in ".{0,80}", body in bodies()) {
            let mut headers = axum::http::HeaderMap::new();
            if let (Ok(t), Ok(s)) = (timestamp.parse(), signature.parse()) {
                headers.insert("x-slack-request-timestamp", t);
                headers.insert("x-slack-signature", s);
            }
            prop_assert!(slack::verify_signature("secret", &headers, &body, 1_700_000_000).is_err());
        }
    }
}
