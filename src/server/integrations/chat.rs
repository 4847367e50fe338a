//! What every chat provider's connector does, whichever provider it is: authenticate and decode
//! an inbound webhook, send a text back, and look up a sender's profile.

use super::connector::Connector;
use super::provider::{http_client, ProviderFailure};
use super::shared::{Inbound, Refusal, ReplyAddress, WebhookRequest};
use super::{d360, slack, teams, telegram, twilio};
use crate::domain::connectors::{ChatProfile, ChatProvider};
use crate::server::config::Settings;

/// Shared by all connectors: one HTTP client, and the tokens and keys worth keeping between calls.
#[derive(Clone)]
pub struct ChatClients {
    pub http: reqwest::Client,
    /// For the agent endpoints tenants choose: public addresses only (`server::outbound`).
    pub agent_http: reqwest::Client,
    pub allowed_private_hosts: crate::server::outbound::AllowedHosts,
    /// Bot Framework's tokens and signing keys, kept between calls.
    pub bot_framework: teams::BotFramework,
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
            let service_url =
                teams::verify_bearer(settings, &clients.http, &clients.bot_framework, c.get("app_id"), request.headers)
                    .await?;
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
        "caption",
        "photo",
        "voice",
        "file_id",
        "location",
        "latitude",
        "longitude",
        "files",
        "mimetype",
        "channel_type",
        "attachments",
        "contentType",
        "contentUrl",
        "entities",
        "mentioned",
        "recipient",
        "conversationType",
        "image",
        "audio",
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
                proptest::collection::vec(("(From|To|Body|MessageSid|ProfileName|NumMedia|MediaUrl0|MediaContentType0|Latitude|Longitude|[A-Za-z]{1,8})", ".{0,20}"), 0..8)
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

#[cfg(test)]
mod media_and_groups {
    use super::super::shared::{Inbound, InboundMessage};
    use super::super::{d360, slack, teams, telegram, twilio};
    use crate::domain::connectors::MessageKind;
    use serde_json::json;

    fn one(inbound: Inbound) -> InboundMessage {
        match inbound {
            Inbound::Messages(mut messages) if messages.len() == 1 => messages.remove(0),
            other => panic!("{other:?}"),
        }
    }

    fn telegram(message: serde_json::Value) -> Inbound {
        let mut update = json!({ "update_id": 1, "message": {
            "message_id": 1, "from": { "id": 7, "is_bot": false, "first_name": "Tom" }, "chat": { "id": 7, "type": "private" },
        }});
        for (k, v) in message.as_object().unwrap() {
            update["message"][k] = v.clone();
        }
        telegram::decode_update(update.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn telegram_media_is_a_message_with_its_kind_caption_and_file() {
        let photo = one(telegram(
            json!({ "photo": [{ "file_id": "small" }, { "file_id": "large" }], "caption": "whiteboard" }),
        ));
        assert_eq!(
            (photo.kind, photo.text.as_str(), photo.attachment.as_deref()),
            (MessageKind::Photo, "whiteboard", Some("large"))
        );
        let voice = one(telegram(json!({ "voice": { "file_id": "v1", "duration": 3 } })));
        assert_eq!(
            (voice.kind, voice.text.as_str(), voice.attachment.as_deref()),
            (MessageKind::Voice, "", Some("v1"))
        );
        let gif = one(telegram(json!({ "animation": { "file_id": "a1" }, "document": { "file_id": "a1" } })));
        assert_eq!(gif.kind, MessageKind::Video);
        let place = one(telegram(json!({ "location": { "latitude": 51.5, "longitude": -0.12 } })));
        assert_eq!((place.kind, place.attachment.as_deref()), (MessageKind::Location, Some("geo:51.5,-0.12")));
        let card = one(telegram(json!({ "contact": { "phone_number": "+44 7911 123456", "first_name": "Ada" } })));
        assert_eq!((card.kind, card.attachment.as_deref()), (MessageKind::Contact, Some("tel:+447911123456")));
        for sticker_or_doc in [json!({ "sticker": { "file_id": "s" } }), json!({ "document": { "file_id": "d" } })] {
            assert!(matches!(one(telegram(sticker_or_doc)).kind, MessageKind::Sticker | MessageKind::Document));
        }
        // Someone joining is not a message, nor is a channel post forwarded into its discussion group.
        assert_eq!(telegram(json!({ "new_chat_members": [{ "id": 9 }] })), Inbound::Nothing);
        let forwarded =
            json!({ "text": "news", "is_automatic_forward": true, "sender_chat": { "id": -1001, "type": "channel" } });
        assert_eq!(telegram(forwarded), Inbound::Nothing);
        assert_eq!(one(telegram(json!({ "paid_media": { "star_count": 5 } }))).kind, MessageKind::Other);
    }

    #[test]
    fn telegram_groups_and_channels_are_shared_and_private_chats_are_not() {
        assert!(!one(telegram(json!({ "text": "hi" }))).shared);
        for kind in ["group", "supergroup", "channel"] {
            assert!(one(telegram(json!({ "text": "hi", "chat": { "id": -100, "type": kind } }))).shared, "{kind}");
        }
    }

    fn slack(event: serde_json::Value) -> Inbound {
        let body = json!({ "type": "event_callback", "event_id": "Ev1", "event": event });
        slack::decode_event(body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn slack_files_are_messages_and_channels_are_shared() {
        let file = one(slack(json!({ "type": "message", "subtype": "file_share", "user": "U1", "channel": "D1",
            "channel_type": "im", "text": "", "files": [{ "id": "F1", "mimetype": "image/png" }] })));
        assert_eq!((file.kind, file.attachment.as_deref(), file.shared), (MessageKind::Photo, Some("F1"), false));
        let clip = one(slack(json!({ "type": "message", "subtype": "file_share", "user": "U1", "channel": "D1",
            "files": [{ "id": "F2", "subtype": "slack_audio", "mimetype": "audio/webm" }] })));
        assert_eq!(clip.kind, MessageKind::Voice);
        for (channel, channel_type) in
            [("C1", json!("channel")), ("G1", json!("group")), ("G2", json!("mpim")), ("C2", json!(null))]
        {
            let m = one(slack(
                json!({ "type": "message", "user": "U1", "channel": channel, "channel_type": channel_type, "text": "hi" }),
            ));
            assert!(m.shared, "{channel}");
        }
        assert_eq!(
            slack(json!({ "type": "message", "subtype": "channel_join", "user": "U1", "channel": "C1" })),
            Inbound::Nothing
        );
    }

    fn teams(activity: serde_json::Value) -> Inbound {
        teams::inbound(&teams::decode_activity(activity.to_string().as_bytes()).unwrap())
    }

    #[test]
    fn teams_mentions_of_the_bot_are_removed_others_keep_the_name_and_group_chats_are_shared() {
        let m = one(teams(json!({
            "type": "message", "id": "a1", "serviceUrl": "https://smba.example", "channelId": "msteams",
            "text": "<at>Onboard Bot</at> ask <at>Ada Lovelace</at> please, <at>Onboard Bot</at>",
            "from": { "id": "29:1", "name": "Grace Hopper", "aadObjectId": "aad-1" }, "recipient": { "id": "28:bot", "name": "Onboard Bot" },
            "conversation": { "id": "19:chat", "conversationType": "groupChat", "isGroup": true },
            "entities": [
                { "type": "mention", "mentioned": { "id": "28:bot", "name": "Onboard Bot" }, "text": "<at>Onboard Bot</at>" },
                { "type": "mention", "mentioned": { "id": "29:2", "name": "Ada Lovelace" }, "text": "<at>Ada Lovelace</at>" },
                // Not markup: never used to cut text.
                { "type": "mention", "mentioned": { "id": "28:bot" }, "text": "a" },
            ],
            "attachments": [{ "contentType": "text/html", "content": "<p>…</p>" }],
        })));
        // The second mention of the bot has no entity of its own, so only its markup goes.
        assert_eq!(
            (m.text.as_str(), m.kind, m.shared),
            ("ask Ada Lovelace please, Onboard Bot", MessageKind::Text, true)
        );
        let file = one(teams(json!({
            "type": "message", "id": "a2", "serviceUrl": "https://smba.example", "channelId": "msteams", "text": "",
            "from": { "id": "29:1", "name": "Grace Hopper" }, "conversation": { "id": "a:1", "conversationType": "personal" },
            "attachments": [{ "contentType": "image/png", "contentUrl": "https://smba.example/v3/attachments/x" }],
        })));
        assert_eq!((file.kind, file.shared), (MessageKind::Photo, false));
        assert_eq!(file.attachment.as_deref(), Some("https://smba.example/v3/attachments/x"));
        // A shared file's download URL carries a credential: the agent gets its id instead.
        let shared_file = one(teams(json!({
            "type": "message", "id": "a3", "serviceUrl": "https://smba.example", "channelId": "msteams",
            "from": { "id": "29:1" }, "conversation": { "id": "a:1" },
            "attachments": [{ "contentType": "application/vnd.microsoft.teams.file.download.info",
                "content": { "downloadUrl": "https://x.sharepoint.com/f?tempauth=SECRET", "uniqueId": "FILE-1", "fileType": "pdf" } }],
        })));
        assert_eq!((shared_file.kind, shared_file.attachment.as_deref()), (MessageKind::Document, Some("FILE-1")));
        // A conversation that does not say what it is counts as shared, unless its id is personal.
        let unsaid = |id: &str| {
            one(teams(
                json!({ "type": "message", "id": "a4", "serviceUrl": "https://smba.example", "channelId": "msteams",
                "text": "hi", "from": { "id": "29:1" }, "conversation": { "id": id } }),
            ))
            .shared
        };
        assert!(unsaid("19:meeting@thread.v2") && !unsaid("a:personal"));
        // Web Chat and Direct Line are not Teams.
        assert_eq!(
            teams(json!({ "type": "message", "id": "a5", "serviceUrl": "https://smba.example", "channelId": "webchat",
            "text": "hi", "from": { "id": "u" }, "conversation": { "id": "c" } })),
            Inbound::Nothing
        );
    }

    #[test]
    fn whatsapp_media_through_360dialog_and_twilio_are_messages() {
        let notification = json!({ "entry": [{ "changes": [{ "value": { "messages": [
            { "from": "447700900123", "id": "w1", "type": "image", "image": { "id": "MEDIA1", "caption": "receipt", "mime_type": "image/jpeg" } },
            { "from": "447700900123", "id": "w2", "type": "audio", "audio": { "id": "MEDIA2", "voice": true } },
            { "from": "447700900123", "id": "w3", "type": "reaction", "reaction": { "emoji": "👍" } },
            { "from": "447700900123", "id": "w4", "type": "text", "text": { "body": "hi all" }, "group_id": "G1" },
        ] } }] }] });
        let Inbound::Messages(messages) = d360::decode_notification(notification.to_string().as_bytes()).unwrap()
        else {
            panic!("no messages")
        };
        let got: Vec<_> = messages.iter().map(|m| (m.kind, m.text.as_str(), m.attachment.as_deref())).collect();
        assert_eq!(
            got[..2],
            [(MessageKind::Photo, "receipt", Some("MEDIA1")), (MessageKind::Voice, "", Some("MEDIA2"))]
        );
        assert_eq!((messages.len(), messages[0].shared, messages[2].shared), (3, false, true));
        let params: Vec<(String, String)> = [
            ("From", "whatsapp:+447700900123"),
            ("To", "whatsapp:+15005550006"),
            ("MessageSid", "MM1"),
            ("Body", ""),
            ("NumMedia", "1"),
            ("MediaUrl0", "https://api.twilio.example/media/ME1"),
            ("MediaContentType0", "video/mp4"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mms = one(twilio::decode_message(&params).unwrap());
        assert_eq!(
            (mms.kind, mms.attachment.as_deref()),
            (MessageKind::Video, Some("https://api.twilio.example/media/ME1"))
        );
    }
}
