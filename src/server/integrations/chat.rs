//! What every chat provider's connector does, whichever provider it is: authenticate and decode
//! an inbound webhook, send a text back, and look up a sender's profile.

use super::connector::Connector;
use super::provider::{http_client, ProviderFailure};
use super::shared::{CardRef, Inbound, NoticeAddress, Refusal, ReplyAddress, WebhookRequest};
use super::{bot_framework, d360, slack, teams, telegram, twilio};
use crate::domain::chat_users::{ChatProfile, RequestCard};
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
            if slack::is_interaction(request.headers, request.body) {
                slack::decode_interaction(request.body)
            } else {
                slack::decode_event(request.body)
            }
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
            slack_client(settings, clients, connector)
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

fn slack_client(settings: &Settings, clients: &ChatClients, connector: &Connector) -> slack::SlackClient {
    slack::SlackClient::with_token(
        clients.http.clone(),
        &settings.slack.api_base_url,
        connector.credentials.secret("bot_token"),
    )
}

/// Posts an approvers' card through a Slack or Teams connector (`via`) in `conversation`, a
/// channel or chat its bot is in; answers where it is, for updating it. Teams cards go through the
/// configured Bot Framework service URL (`teams.service_url`), never one a request named.
pub async fn post_card(
    settings: &Settings,
    clients: &ChatClients,
    via: &Connector,
    conversation: &str,
    card: &RequestCard,
) -> Result<CardRef, ProviderFailure> {
    match via.provider {
        ChatProvider::Slack => {
            let (text, blocks) = slack::approval_blocks(card);
            let ts = slack_client(settings, clients, via).post_blocks(conversation, &text, blocks).await?;
            Ok(CardRef::Slack { connector_id: via.id, channel: conversation.to_string(), ts })
        }
        ChatProvider::Teams => {
            let token = teams::connector_token(settings, &clients.http, &clients.bot_framework, via).await?;
            let service_url = settings.teams.service_url.clone();
            let summary = format!("Access request from {}", card.name);
            let activity_id = teams::post_card(
                &clients.http,
                &token,
                &service_url,
                conversation,
                teams::approval_card(card),
                &summary,
            )
            .await?;
            Ok(CardRef::Teams {
                connector_id: via.id,
                service_url,
                conversation_id: conversation.to_string(),
                activity_id,
            })
        }
        other => Err(ProviderFailure::permanent(format!("a {} connector cannot post approvers' cards", other.label()))),
    }
}

/// Updates a posted approvers' card in place to show the request as it now stands.
pub async fn update_card(
    settings: &Settings,
    clients: &ChatClients,
    via: &Connector,
    posted: &CardRef,
    card: &RequestCard,
) -> Result<(), ProviderFailure> {
    match (via.provider, posted) {
        (ChatProvider::Slack, CardRef::Slack { channel, ts, .. }) => {
            let (text, blocks) = slack::approval_blocks(card);
            slack_client(settings, clients, via).update_blocks(channel, ts, &text, blocks).await
        }
        (ChatProvider::Teams, CardRef::Teams { service_url, conversation_id, activity_id, .. }) => {
            let token = teams::connector_token(settings, &clients.http, &clients.bot_framework, via).await?;
            teams::update_card(
                &clients.http,
                &token,
                service_url,
                conversation_id,
                activity_id,
                teams::approval_card(card),
            )
            .await
        }
        _ => Err(ProviderFailure::permanent("the card was posted by another kind of connector")),
    }
}

/// Tells the person who clicked a card something only they read.
pub async fn send_notice(
    settings: &Settings,
    clients: &ChatClients,
    via: &Connector,
    to: &NoticeAddress,
    text: &str,
) -> Result<(), ProviderFailure> {
    match (via.provider, to) {
        (ChatProvider::Slack, NoticeAddress::Slack { channel, user }) => {
            slack_client(settings, clients, via).post_ephemeral(channel, user, text).await
        }
        (ChatProvider::Teams, NoticeAddress::Teams { service_url, member_id }) => {
            let token = teams::connector_token(settings, &clients.http, &clients.bot_framework, via).await?;
            let c = &via.credentials;
            teams::tell_privately(
                &clients.http,
                &token,
                service_url,
                c.get("app_id"),
                c.get("tenant_id"),
                member_id,
                text,
            )
            .await
        }
        _ => Err(ProviderFailure::permanent("the answer's address is for another kind of connector")),
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
        ChatProvider::Slack => slack_client(settings, clients, connector).profile(platform_id).await,
        ChatProvider::Telegram => {
            let avatar =
                telegram::avatar(&clients.http, &settings.chat.telegram_base_url, c.get("bot_token"), platform_id)
                    .await?;
            Ok(ChatProfile { avatar_url: avatar, ..ChatProfile::default() })
        }
        _ => Ok(ChatProfile::default()),
    }
}
