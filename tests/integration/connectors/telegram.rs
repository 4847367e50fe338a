//! Telegram: the secret-token header, malformed updates, and photos or voice notes as a first
//! contact, in private chats and groups.

use super::*;

async fn telegram_webhooks_without_the_secret_or_well_formed_json_are_refused(backend: Backend) {
    let w = world(backend).await;
    let (_, webhook) = connector(&w, "telegram").await;
    let good = telegram_update(1, 9, "hi").to_string();
    assert_eq!(post_telegram(&w, &webhook, None, good.as_bytes()).await, 401);
    assert_eq!(post_telegram(&w, &webhook, Some("wrong"), good.as_bytes()).await, 401);
    assert_eq!(post_telegram(&w, &webhook, Some(TELEGRAM_SECRET), b"{not json").await, 400);
    assert_eq!(post_telegram(&w, &webhook, Some(TELEGRAM_SECRET), b"{\"message\":{}}").await, 400);
    let huge = format!("{{\"update_id\":1,\"pad\":\"{}\"}}", "x".repeat(300 * 1024));
    assert_eq!(post_telegram(&w, &webhook, Some(TELEGRAM_SECRET), huge.as_bytes()).await, 413);
    assert_eq!(count(&w, "SELECT COUNT(*) FROM chat_messages WHERE org_id = $1").await, 0);
    assert_eq!(count(&w, "SELECT COUNT(*) FROM chat_users WHERE org_id = $1").await, 0);
    w.app.stop().await;
}

fn telegram_media(update_id: i64, user: i64, chat: (i64, &str), message: Value) -> Vec<u8> {
    let mut update = json!({ "update_id": update_id, "message": {
        "message_id": update_id, "date": 1_700_000_000,
        "from": { "id": user, "is_bot": false, "first_name": "Tom", "last_name": "Gram" },
        "chat": { "id": chat.0, "type": chat.1 },
    }});
    for (k, v) in message.as_object().unwrap() {
        update["message"][k] = v.clone();
    }
    update.to_string().into_bytes()
}

/// A first contact may be a photo or a voice note: it opens the access request, shown as
/// "[photo]", and gets the onboarding message. In a group, someone not let in hears nothing
/// there and opens no request; someone let in is answered in the group. The agent learns the
/// kind, the file and whether the conversation is shared.
async fn media_first_contact_opens_a_request_and_groups_never_see_onboarding(backend: Backend) {
    let w = world(backend).await;
    let (id, webhook) = connector(&w, "telegram").await;
    onboarding(&w, id, true, "Welcome! Your request is being reviewed.").await.unwrap();
    let app = &w.app;
    let photo = json!({ "photo": [{ "file_id": "small" }, { "file_id": "PHOTO-LARGE" }] });
    let body = telegram_media(400, 9, (9, "private"), photo.clone());
    assert_eq!(post_telegram(&w, &webhook, Some(TELEGRAM_SECRET), &body).await, 200);
    app.eventually("the onboarding message is sent", || async { !w.fake.sent().is_empty() }).await;
    assert_eq!(w.fake.sent()[0].to, "9");
    let page = w.owner.get("access_requests", &[("filter[status]", "pending"), ("filter[page]", "1")]).await.unwrap();
    assert_eq!(page["rows"][0]["first_message"], "[photo]");

    // Two people write in a group: nothing is said there and no request is opened.
    let voice = json!({ "voice": { "file_id": "VOICE1", "duration": 2 } });
    let body = telegram_media(401, 10, (-100, "group"), voice);
    assert_eq!(post_telegram(&w, &webhook, Some(TELEGRAM_SECRET), &body).await, 200);
    let body = telegram_media(402, 9, (-100, "group"), json!({ "text": "is anyone there?" }));
    assert_eq!(post_telegram(&w, &webhook, Some(TELEGRAM_SECRET), &body).await, 200);
    app.eventually("both group messages are logged", || async {
        count(
            &w,
            "SELECT COUNT(*) FROM chat_messages WHERE org_id = $1 AND conversation_id = '-100' AND status = 'dropped'",
        )
        .await
            == 2
    })
    .await;
    assert_eq!(count(&w, "SELECT COUNT(*) FROM access_requests WHERE org_id = $1").await, 1);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(w.fake.sent().iter().all(|s| s.to != "-100"), "{:?}", w.fake.sent());

    // Once let in, the person is answered where they asked, and the agent knows it is a group.
    let request = page["rows"][0]["id"].as_i64().unwrap();
    w.owner.call_json("decide_access", &json!({ "ids": [request], "decision": "Approve" })).await.unwrap();
    let body =
        telegram_media(403, 9, (-100, "supergroup"), json!({ "photo": [{ "file_id": "P2" }], "caption": "see this" }));
    assert_eq!(post_telegram(&w, &webhook, Some(TELEGRAM_SECRET), &body).await, 200);
    app.eventually("the agent answers in the group", || async { w.fake.sent().iter().any(|s| s.to == "-100") }).await;
    let call = w.fake.with(|r| r.agent_calls[0].clone());
    assert_eq!((call["kind"].as_str(), call["text"].as_str()), (Some("photo"), Some("see this")));
    assert_eq!((call["attachment"].as_str(), call["shared"].as_bool()), (Some("P2"), Some(true)));

    // With AllowAll a voice note in a private chat reaches the agent as such.
    onboarding(&w, id, false, "").await.unwrap();
    let body = telegram_media(404, 11, (11, "private"), json!({ "voice": { "file_id": "V2" } }));
    assert_eq!(post_telegram(&w, &webhook, Some(TELEGRAM_SECRET), &body).await, 200);
    app.eventually("the agent gets the voice note", || async { w.fake.with(|r| r.agent_calls.len()) == 2 }).await;
    let call = w.fake.with(|r| r.agent_calls[1].clone());
    assert_eq!(
        (call["kind"].as_str(), call["text"].as_str(), call["attachment"].as_str()),
        (Some("voice"), Some(""), Some("V2"))
    );
    assert_eq!(call["shared"], false);
    let users = w.owner.get("chat_users", &[("provider", ""), ("search", ""), ("page", "1")]).await.unwrap();
    let first =
        users["rows"].as_array().unwrap().iter().find(|u| u["platform_id"] == "9").unwrap()["id"].as_i64().unwrap();
    let detail = w.owner.get("chat_user", &[("id", &first.to_string())]).await.unwrap();
    let texts: Vec<&str> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["direction"] == "in")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["[photo]", "is anyone there?", "[photo] see this"]);
    w.app.stop().await;
}

crate::on_both_databases!(
    telegram_webhooks_without_the_secret_or_well_formed_json_are_refused,
    media_first_contact_opens_a_request_and_groups_never_see_onboarding,
);
