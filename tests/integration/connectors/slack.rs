//! Slack: signed Events API requests (signature, timestamp, replays) and channels, which never
//! see the onboarding message.

use super::*;

fn slack_signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

async fn post_slack(w: &World, url: &str, timestamp: i64, signature: &str, body: &str) -> reqwest::Response {
    w.http
        .post(url)
        .header("content-type", "application/json")
        .header("X-Slack-Request-Timestamp", timestamp.to_string())
        .header("X-Slack-Signature", signature)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

async fn slack_events_are_verified_before_anything_is_stored(backend: Backend) {
    let w = world(backend).await;
    let (_, webhook) = connector(&w, "slack").await;
    let now = now_s();
    let challenge = json!({ "type": "url_verification", "challenge": "c-123", "token": "t" }).to_string();
    let answer = post_slack(&w, &webhook, now, &slack_signature(SLACK_SIGNING, now, &challenge), &challenge).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "c-123");

    let event = |id: &str, text: &str| {
        json!({ "type": "event_callback", "event_id": id, "event": {
            "type": "message", "channel_type": "im", "user": "U0ADA", "channel": "D0CHAN", "ts": "1.1", "text": text,
        }})
        .to_string()
    };
    let body = event("Ev1", "<!channel> hello & bye");
    let signature = slack_signature(SLACK_SIGNING, now, &body);
    assert_eq!(post_slack(&w, &webhook, now, "v0=deadbeef", &body).await.status(), 401);
    assert_eq!(post_slack(&w, &webhook, now, &slack_signature("other-secret", now, &body), &body).await.status(), 401);
    let stale = now - 301;
    assert_eq!(
        post_slack(&w, &webhook, stale, &slack_signature(SLACK_SIGNING, stale, &body), &body).await.status(),
        401
    );
    let tampered = body.replace("hello", "HELLO");
    assert_eq!(post_slack(&w, &webhook, now, &signature, &tampered).await.status(), 401);
    let malformed = "{\"type\":";
    let status =
        post_slack(&w, &webhook, now, &slack_signature(SLACK_SIGNING, now, malformed), malformed).await.status();
    assert_eq!(status, 400);
    assert_eq!(count(&w, "SELECT COUNT(*) FROM chat_messages WHERE org_id = $1").await, 0);

    assert_eq!(post_slack(&w, &webhook, now, &signature, &body).await.status(), 200);
    // The same signed request again within the window: acknowledged, stored and forwarded once.
    assert_eq!(post_slack(&w, &webhook, now, &signature, &body).await.status(), 200);
    // The bot's own message and edits are not a person writing.
    let bot = json!({ "type": "event_callback", "event_id": "Ev2", "event": {
        "type": "message", "bot_id": "B1", "channel": "D0CHAN", "text": "Echo" }})
    .to_string();
    assert_eq!(post_slack(&w, &webhook, now, &slack_signature(SLACK_SIGNING, now, &bot), &bot).await.status(), 200);
    let app = &w.app;
    app.eventually("the reply is posted", || async { !w.fake.sent().is_empty() }).await;
    app.eventually("the profile is filled in", || async {
        count(
            &w,
            "SELECT COUNT(*) FROM chat_users WHERE org_id = $1 AND first_name = 'Ada' AND avatar_url LIKE 'https://%'",
        )
        .await
            == 1
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(count(&w, "SELECT COUNT(*) FROM chat_messages WHERE org_id = $1 AND direction = 'in'").await, 1);
    assert_eq!(w.fake.agent_texts(), ["<!channel> hello & bye"]);
    // Slack control sequences in the agent's reply go out as plain text.
    assert_eq!(
        w.fake.sent(),
        [Sent { provider: "slack", to: "D0CHAN".into(), text: "Echo: &lt;!channel&gt; hello &amp; bye".into() }]
    );
    w.app.stop().await;
}

/// In a Slack channel, a new person opens no request and Onboard posts nothing there.
async fn slack_channels_never_see_the_onboarding_message(backend: Backend) {
    let w = world(backend).await;
    let (id, webhook) = connector(&w, "slack").await;
    onboarding(&w, id, true, "Welcome <!here> & <!channel>! Your request is being reviewed.").await.unwrap();
    let now = now_s();
    let body = json!({ "type": "event_callback", "event_id": "EvC1", "event": {
        "type": "message", "channel_type": "channel", "user": "U0ADA", "channel": "C0GENERAL", "ts": "1.1", "text": "hello bot",
    }})
    .to_string();
    assert_eq!(post_slack(&w, &webhook, now, &slack_signature(SLACK_SIGNING, now, &body), &body).await.status(), 200);
    logged_and_nothing_said(&w).await;
    // In a direct message the onboarding message comes, and it cannot mention everyone.
    let body = json!({ "type": "event_callback", "event_id": "EvD1", "event": {
        "type": "message", "channel_type": "im", "user": "U0ADA", "channel": "D0CHAN", "ts": "1.2", "text": "hello bot",
    }})
    .to_string();
    assert_eq!(post_slack(&w, &webhook, now, &slack_signature(SLACK_SIGNING, now, &body), &body).await.status(), 200);
    w.app.eventually("the onboarding message is sent", || async { !w.fake.sent().is_empty() }).await;
    let sent = w.fake.sent();
    assert_eq!(sent[0].to, "D0CHAN");
    assert_eq!(sent[0].text, "Welcome &lt;!here&gt; &amp; &lt;!channel&gt;! Your request is being reviewed.");
    w.app.stop().await;
}

crate::on_both_databases!(
    slack_events_are_verified_before_anything_is_stored,
    slack_channels_never_see_the_onboarding_message,
);
