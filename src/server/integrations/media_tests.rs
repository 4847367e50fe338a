//! What each provider's webhook decoder makes of media, groups and channels.

use super::shared::{Inbound, InboundMessage};
use super::{d360, slack, teams, telegram, twilio};
use crate::domain::chat_users::MessageKind;
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
    let photo =
        one(telegram(json!({ "photo": [{ "file_id": "small" }, { "file_id": "large" }], "caption": "whiteboard" })));
    assert_eq!(
        (photo.kind, photo.text.as_str(), photo.attachment.as_deref()),
        (MessageKind::Photo, "whiteboard", Some("large"))
    );
    let voice = one(telegram(json!({ "voice": { "file_id": "v1", "duration": 3 } })));
    assert_eq!((voice.kind, voice.text.as_str(), voice.attachment.as_deref()), (MessageKind::Voice, "", Some("v1")));
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
    assert_eq!((m.text.as_str(), m.kind, m.shared), ("ask Ada Lovelace please, Onboard Bot", MessageKind::Text, true));
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
        one(teams(json!({ "type": "message", "id": "a4", "serviceUrl": "https://smba.example", "channelId": "msteams",
            "text": "hi", "from": { "id": "29:1" }, "conversation": { "id": id } })))
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
    let Inbound::Messages(messages) = d360::decode_notification(notification.to_string().as_bytes()).unwrap() else {
        panic!("no messages")
    };
    let got: Vec<_> = messages.iter().map(|m| (m.kind, m.text.as_str(), m.attachment.as_deref())).collect();
    assert_eq!(got[..2], [(MessageKind::Photo, "receipt", Some("MEDIA1")), (MessageKind::Voice, "", Some("MEDIA2"))]);
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
