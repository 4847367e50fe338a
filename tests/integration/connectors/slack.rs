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

/// A direct message to the bot from `user`, signed as Slack signs it.
async fn dm(w: &World, webhook: &str, event: &str, user: &str, text: &str) {
    let now = now_s();
    let body = json!({ "type": "event_callback", "event_id": event, "event": {
        "type": "message", "channel_type": "im", "user": user, "channel": format!("D{user}"), "ts": "1.1", "text": text,
    }})
    .to_string();
    assert_eq!(post_slack(w, webhook, now, &slack_signature(SLACK_SIGNING, now, &body), &body).await.status(), 200);
}

/// The connector's rules: a member of the organization is let in at once, a blocked person never
/// reaches the agent nor asks for access, and anyone else asks as before.
async fn members_are_let_in_and_blocked_people_never_reach_the_agent(backend: Backend) {
    let w = world(backend).await;
    let (id, webhook) = connector(&w, "slack").await;
    onboarding(&w, id, true, "Your request is being reviewed.").await.unwrap();
    // Ada and Bob are members, mapped to their Slack ids; Bob is also on the deny list.
    let mut members = Vec::new();
    for (email, slack) in [("ada@acme.example", "U0ADA"), ("bob@acme.example", "U0BOB")] {
        let account = w.app.add_member(w.org, email, PASSWORD, "Member").await;
        let membership = w.app.scalar_i64("SELECT id FROM memberships WHERE account_id = $1", account).await;
        sqlx::query(
            "INSERT INTO identity_mappings (org_id, membership_id, provider, external_id, source, created_at)
             VALUES ($1, $2, 'slack', $3, 'manual', 0)",
        )
        .bind(w.org)
        .bind(membership)
        .bind(slack)
        .execute(&w.app.state.db.pool)
        .await
        .unwrap();
        members.push(membership);
    }
    let rules = |members: bool, blocked: &str| {
        let mut form = vec![("id".to_string(), id.to_string()), ("blocked".to_string(), blocked.to_string())];
        if members {
            form.push(("members".into(), "on".into()));
        }
        form
    };
    let owner = &w.owner;
    let call = |form: Vec<(String, String)>| async move {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        owner.call("set_connector_rules", &pairs).await
    };
    let refused = call(rules(true, "U0BAD\nU0 EVIL")).await;
    assert!(
        matches!(&refused, Err((422, e)) if e.for_field("blocked").is_some_and(|r| r.starts_with("Entry 2 ("))),
        "{refused:?}"
    );
    call(rules(true, "u0bad\n U0BAD , U0BOB")).await.unwrap();
    let card = w.owner.get("connectors", &[]).await.unwrap()[0].clone();
    assert_eq!(
        (card["auto_approve_members"].as_bool(), card["blocked"].clone()),
        (Some(true), json!(["U0BAD", "U0BOB"]))
    );
    let request_of = |user: &'static str| {
        let app = &w.app;
        async move {
            let status: Option<(String, Option<i64>)> = sqlx::query_as(
                "SELECT r.status, r.decided_by FROM access_requests r JOIN chat_users u ON u.id = r.chat_user_id
                 WHERE u.platform_id = $1",
            )
            .bind(user)
            .fetch_optional(&app.state.db.pool)
            .await
            .unwrap();
            status
        }
    };
    let said_to = |user: &'static str| {
        let (app, org) = (&w.app, w.org);
        async move {
            let sql = format!(
                "SELECT COUNT(*) FROM chat_messages m JOIN chat_users u ON u.id = m.chat_user_id
                 WHERE m.org_id = $1 AND m.direction = 'out' AND u.platform_id = '{user}'"
            );
            app.scalar_i64(&sql, org).await
        }
    };

    // Ada, a member, reaches the agent with no request to decide; it is recorded as approved by nobody.
    dm(&w, &webhook, "EvM1", "U0ADA", "hello from a member").await;
    w.app.eventually("the member's message reaches the agent", || async { !w.fake.agent_texts().is_empty() }).await;
    assert_eq!(w.fake.agent_texts(), ["hello from a member"]);
    assert_eq!(request_of("U0ADA").await, Some(("approved".into(), None)));
    // Blocked people, Bob the member among them: logged and dropped, no request, nothing said.
    dm(&w, &webhook, "EvB1", "U0BAD", "let me in").await;
    dm(&w, &webhook, "EvB3", "U0BOB", "me too").await;
    w.app
        .eventually("the blocked messages are logged", || async {
            count(&w, "SELECT COUNT(*) FROM chat_messages WHERE org_id = $1 AND status = 'dropped'").await == 2
        })
        .await;
    for blocked in ["U0BAD", "U0BOB"] {
        assert_eq!(request_of(blocked).await, None, "{blocked} asked for nothing");
        assert_eq!(said_to(blocked).await, 0, "nothing was said to {blocked}");
    }
    // Anyone else asks for access as before, and is told once.
    dm(&w, &webhook, "EvO1", "U0EVE", "hi").await;
    w.app
        .eventually("the onboarding message goes to Eve", || async { w.fake.sent().iter().any(|s| s.to == "DU0EVE") })
        .await;
    assert_eq!(request_of("U0EVE").await, Some(("pending".into(), None)));
    // Ada is paused: the approval the rule gave her goes, and she asks like anyone.
    sqlx::query("UPDATE memberships SET status = 'inactive' WHERE id = $1")
        .bind(members[0])
        .execute(&w.app.state.db.pool)
        .await
        .unwrap();
    dm(&w, &webhook, "EvM2", "U0ADA", "am I still in?").await;
    w.app
        .eventually("Ada is told her request is reviewed", || async {
            w.fake.sent().iter().any(|s| s.to == "DU0ADA" && s.text.contains("reviewed"))
        })
        .await;
    assert_eq!(request_of("U0ADA").await, Some(("pending".into(), None)));
    assert_eq!(w.fake.agent_texts(), ["hello from a member"], "nobody else reached the agent");

    // Blocked wins over AllowAll too; members cannot be let in where identities are not mapped.
    onboarding(&w, id, false, "").await.unwrap();
    dm(&w, &webhook, "EvB2", "U0BAD", "still me").await;
    w.app
        .eventually("the third blocked message is logged", || async {
            count(&w, "SELECT COUNT(*) FROM chat_messages WHERE org_id = $1 AND status = 'dropped'").await == 3
        })
        .await;
    assert_eq!(w.fake.agent_texts(), ["hello from a member"]);
    let (telegram, _) = connector(&w, "telegram").await;
    let form = vec![("id".to_string(), telegram.to_string()), ("members".to_string(), "on".to_string())];
    let refused = call(form).await;
    assert!(matches!(&refused, Err((422, e)) if e.for_field("members").is_some()), "{refused:?}");
    w.app.stop().await;
}

crate::on_both_databases!(
    slack_events_are_verified_before_anything_is_stored,
    slack_channels_never_see_the_onboarding_message,
    members_are_let_in_and_blocked_people_never_reach_the_agent,
);
