//! What every chat provider's connector does, whichever provider it is: authenticate and decode
//! an inbound webhook, send a text back, and look up a sender's profile.

use super::connector::Connector;
use super::provider::{http_client, ProviderFailure};
use super::shared::{Inbound, Refusal, ReplyAddress, WebhookRequest};
use super::{bot_framework, d360, slack, teams, telegram, twilio};
use crate::domain::chat_users::ChatProfile;
use crate::domain::connectors::ChatProvider;
use crate::server::config::Settings;

/// Shared by all connectors: one HTTP client, and the tokens and keys worth keeping between calls.
#[derive(Clone)]
pub struct ChatClients {
    pub http: reqwest::Client,
    /// For the agent endpoints tenants choose: public addresses only (`server::outbound`).
    pub agent_http: reqwest::Client,
    pub allowed_private_hosts: crate::server::outbound::AllowedHosts,
    /// Bot Framework's tokens and signing keys, kept between calls.
    pub bot_framework: bot_framework::BotFramework,
}

impl ChatClients {
    pub fn new(allowed_private_agent_hosts: &[String]) -> anyhow::Result<Self> {
        let allowed = crate::server::outbound::AllowedHosts::new(allowed_private_agent_hosts);
        Ok(Self {
            http: http_client()?,
            agent_http: crate::server::outbound::client(&allowed)?,
            allowed_private_hosts: allowed,
            bot_framework: Default::default(),
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
            let service_url = bot_framework::verify_bearer(
                settings,
                &clients.http,
                &clients.bot_framework,
                c.get("app_id"),
                request.headers,
            )
            .await?;
            let activity = teams::decode_activity(request.body)?;
            bot_framework::check_service_url(&service_url, &activity.service_url)?;
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
            let token = teams::connector_token(settings, &clients.http, &clients.bot_framework, connector).await?;
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

/// Whether a new chat user's profile is worth a lookup on this provider.
pub fn profile_lookup_helps(provider: ChatProvider) -> bool {
    matches!(provider, ChatProvider::Slack | ChatProvider::Telegram)
}

pub async fn fetch_profile(
    settings: &Settings,
    clients: &ChatClients,
    connector: &Connector,
    platform_id: &str,
) -> Result<ChatProfile, ProviderFailure> {
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
            Ok(ChatProfile { avatar_url: avatar, ..ChatProfile::default() })
        }
        _ => Ok(ChatProfile::default()),
    }
}
