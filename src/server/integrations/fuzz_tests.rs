//! Hostile input: every webhook decoder answers any body with a message or a refusal, never a
//! panic. `make fuzz` runs these for as long as it is told with many more cases.

use super::{d360, slack, teams, telegram, twilio};
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
        prop_oneof![Just("message".to_string()), Just("event_callback".to_string()), ".{0,12}"].prop_map(Value::String),
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
