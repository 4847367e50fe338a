//! What every connector does whatever its provider: saved and checked without showing its
//! secrets, the AllowAll and OnBoarding policies, access requests, and inert markup.

use super::*;

async fn connectors_are_saved_checked_and_never_show_their_secrets(backend: Backend) {
    let w = world(backend).await;
    let agent = w.fake.agent_url();
    // Each bad field is named.
    let bad = [
        (draft(None, "fax", "Fax", &agent, AGENT_SECRET, &[]), "provider"),
        (draft(None, "telegram", " ", &agent, AGENT_SECRET, &credentials("telegram")), "name"),
        (
            draft(None, "telegram", "Tg", "http://agent.example.com", AGENT_SECRET, &credentials("telegram")),
            "agent_url",
        ),
        (draft(None, "telegram", "Tg", &agent, "short", &credentials("telegram")), "agent_secret"),
        (
            draft(None, "telegram", "Tg", &agent, AGENT_SECRET, &[("bot_token", "nonsense"), ("secret_token", "s")]),
            "cred_bot_token",
        ),
        (
            draft(None, "twilio", "Tw", &agent, AGENT_SECRET, &[("account_sid", TWILIO_SID), ("auth_token", "t")]),
            "cred_from_number",
        ),
    ];
    for (body, field) in bad {
        let answer = w.owner.call_json("save_connector", &body).await;
        match answer {
            Err((422, e)) => assert!(e.for_field(field).is_some(), "{field}: {e:?}"),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert_eq!(count(&w, "SELECT COUNT(*) FROM connectors WHERE org_id = $1").await, 0);

    let (id, webhook) = connector(&w, "telegram").await;
    assert!(webhook.contains("/webhooks/"), "{webhook}");
    let listed = w.owner.get("connectors", &[]).await.unwrap().to_string();
    for secret in [TELEGRAM_BOT, TELEGRAM_SECRET, AGENT_SECRET] {
        assert!(!listed.contains(secret), "a secret reached the browser: {listed}");
    }
    let cards = w.owner.get("connectors", &[]).await.unwrap();
    assert_eq!(cards[0]["policy"], "allow_all");
    assert_eq!(cards[0]["credentials"][0]["shown"], "••••oken");

    // An edit with blank secrets keeps them; a name clash is refused.
    let edit = draft(Some(id), "telegram", "Support bot", &agent, "", &[("bot_token", ""), ("secret_token", "")]);
    w.owner.call_json("save_connector", &edit).await.unwrap();
    let stored = onboard::server::db::connectors::get(&w.app.state.db, w.org, id).await.unwrap().unwrap();
    assert!(stored.credentials.contains(TELEGRAM_BOT) && stored.credentials.contains(TELEGRAM_SECRET));
    assert_eq!(stored.agent_secret, AGENT_SECRET);
    let (other, _) = connector(&w, "slack").await;
    let clash = draft(Some(other), "slack", "Support bot", &agent, "", &[]);
    assert!(
        matches!(w.owner.call_json("save_connector", &clash).await, Err((422, e)) if e.for_field("name").is_some())
    );

    // Onboarding on needs a message; the message is kept when switched off.
    let empty = onboarding(&w, id, true, "   ").await;
    assert!(matches!(empty, Err((422, e)) if e.for_field("onboarding_message").is_some()));
    let long = "x".repeat(2_001);
    assert!(matches!(onboarding(&w, id, true, &long).await, Err((422, _))));
    onboarding(&w, id, true, "Thanks! An admin will approve you shortly.").await.unwrap();
    onboarding(&w, id, false, "").await.unwrap();
    let cards = w.owner.get("connectors", &[]).await.unwrap();
    let card = cards.as_array().unwrap().iter().find(|c| c["id"] == id).unwrap();
    assert_eq!(card["policy"], "allow_all");
    assert_eq!(card["onboarding_message"], "Thanks! An admin will approve you shortly.");

    // Disabled connectors refuse webhooks and store nothing; deleting removes it.
    w.owner.call("set_connector_enabled", &[("id", &id.to_string()), ("enabled", "false")]).await.unwrap();
    assert_eq!(telegram(&w, &webhook, 1, 42, "hello").await, 403);
    assert_eq!(count(&w, "SELECT COUNT(*) FROM chat_messages WHERE org_id = $1").await, 0);
    w.owner.call("delete_connector", &[("id", &other.to_string())]).await.unwrap();
    assert_eq!(telegram(&w, &format!("{webhook}x"), 1, 42, "hello").await, 404);
    let audit = count(&w, "SELECT COUNT(*) FROM audit_log WHERE org_id = $1 AND action LIKE 'connector.%'").await;
    assert_eq!(audit, 7, "create ×2, update, policy ×2, disable, delete");
    w.app.stop().await;
}

async fn onboarding_holds_new_users_until_an_admin_decides(backend: Backend) {
    let w = world(backend).await;
    let (id, webhook) = connector(&w, "telegram").await;
    onboarding(&w, id, true, "Welcome! Your request is being reviewed.").await.unwrap();
    let app = &w.app;

    for (n, text) in ["Hi, can I use the bot?", "hello?", "anyone?"].into_iter().enumerate() {
        assert_eq!(telegram(&w, &webhook, 200 + n as i64, 7, text).await, 200);
    }
    app.eventually("the onboarding message is sent", || async { !w.fake.sent().is_empty() }).await;
    let page = w.owner.get("access_requests", &[("filter[status]", "pending"), ("filter[page]", "1")]).await.unwrap();
    assert_eq!(page["pending"], 1);
    assert_eq!(page["rows"][0]["first_message"], "Hi, can I use the bot?");
    assert_eq!(page["rows"][0]["first_name"], "Tom");
    assert_eq!(page["rows"][0]["provider"], "telegram");
    let request = page["rows"][0]["id"].as_i64().unwrap();
    assert_eq!(count(&w, "SELECT COUNT(*) FROM chat_messages WHERE org_id = $1 AND status = 'held'").await, 3);

    // Approved: they are told so, in the chat they wrote from, and the next message reaches the agent.
    let approve = json!({ "ids": [request], "decision": "Approve" });
    assert_eq!(w.owner.call_json("decide_access", &approve).await.unwrap(), 1);
    app.eventually("the approval is told", || async { w.fake.sent().len() == 2 }).await;
    assert_eq!(w.fake.sent()[1].to, "7");
    assert!(w.fake.sent()[1].text.starts_with("You're approved"), "the default approval message");
    assert_eq!(telegram(&w, &webhook, 210, 7, "now?").await, 200);
    app.eventually("the agent answers", || async { w.fake.sent().len() == 3 }).await;
    assert_eq!(w.fake.agent_texts(), ["now?"]);

    // A second user is rejected: told once, then dropped.
    assert_eq!(telegram(&w, &webhook, 300, 8, "let me in").await, 200);
    app.eventually("their onboarding message is sent", || async { w.fake.sent().len() == 4 }).await;
    let second = app.scalar_i64("SELECT MAX(id) FROM access_requests WHERE org_id = $1", w.org).await;
    let reject = json!({ "ids": [second], "decision": "Reject" });
    w.owner.call_json("decide_access", &reject).await.unwrap();
    for n in 0..3 {
        assert_eq!(telegram(&w, &webhook, 301 + n, 8, "please").await, 200);
    }
    app.eventually("the rejection is told", || async { w.fake.sent().len() == 5 }).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let sent = w.fake.sent();
    let to_second: Vec<&str> = sent.iter().filter(|s| s.to == "8").map(|s| s.text.as_str()).collect();
    assert_eq!(to_second.len(), 2, "{to_second:?}");
    assert!(to_second[1].contains("not approved"));
    assert_eq!(w.fake.agent_texts(), ["now?"]);

    // Undo puts them back to pending; approving then lets them through.
    let undo = json!({ "ids": [second], "decision": "Undo" });
    w.owner.call_json("decide_access", &undo).await.unwrap();
    let page = w.owner.get("access_requests", &[("filter[status]", "pending")]).await.unwrap();
    assert_eq!(page["rows"][0]["id"], second);
    assert!(page["rows"][0]["decided_by"].is_null());
    w.owner.call_json("decide_access", &json!({ "ids": [request, second], "decision": "Approve" })).await.unwrap();
    assert_eq!(telegram(&w, &webhook, 320, 8, "thanks!").await, 200);
    app.eventually("the second user reaches the agent", || async { w.fake.agent_texts().len() == 2 }).await;
    // Nothing to decide, or another organization's request, is refused.
    let none = w.owner.call_json("decide_access", &json!({ "ids": [], "decision": "Approve" })).await;
    assert!(matches!(none, Err((422, _))));
    let missing = w.owner.call_json("decide_access", &json!({ "ids": [999_999], "decision": "Approve" })).await;
    assert!(matches!(missing, Err((404, AppError::NotFound))));
    let decisions = count(&w, "SELECT COUNT(*) FROM audit_log WHERE org_id = $1 AND action LIKE 'access.%'").await;
    assert_eq!(decisions, 4);
    w.app.stop().await;
}

async fn concurrent_first_messages_send_the_onboarding_message_exactly_once(backend: Backend) {
    let w = world(backend).await;
    let (id, webhook) = connector(&w, "telegram").await;
    onboarding(&w, id, true, "Please wait for approval.").await.unwrap();
    let posts = (0..16).map(|n| telegram(&w, &webhook, 500 + n, 77, "first!"));
    let statuses = futures::future::join_all(posts).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    // The same update delivered again (a provider retry, or a replay) is stored once.
    assert_eq!(telegram(&w, &webhook, 500, 77, "first!").await, 200);
    w.app.eventually("the onboarding message is sent", || async { !w.fake.sent().is_empty() }).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(w.fake.sent().len(), 1);
    assert_eq!(count(&w, "SELECT COUNT(*) FROM access_requests WHERE org_id = $1").await, 1);
    assert_eq!(count(&w, "SELECT COUNT(*) FROM chat_messages WHERE org_id = $1 AND direction = 'in'").await, 16);
    assert_eq!(count(&w, "SELECT COUNT(*) FROM chat_users WHERE org_id = $1").await, 1);
    assert!(w.fake.agent_texts().is_empty());
    w.app.stop().await;
}

/// Whatever the provider, a body over the limit and a request without its credentials are
/// refused before anything is read into the database.
async fn every_provider_refuses_oversized_and_unauthenticated_requests(backend: Backend) {
    let w = world(backend).await;
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(300 * 1024));
    for provider in ["slack", "teams", "telegram", "d360", "twilio"] {
        let (_, webhook) = connector(&w, provider).await;
        // Refused before its body is read, so the server drops the connection: not one to reuse.
        let oversized = w
            .http
            .post(&webhook)
            .header("content-type", "application/json")
            .header("connection", "close")
            .body(huge.clone());
        assert_eq!(oversized.send().await.unwrap().status(), 413, "{provider}");
        let body = match provider {
            "twilio" => "MessageSid=SM1&From=%2B447911123456&To=%2B15005550006&Body=hi".to_string(),
            "telegram" => telegram_update(1, 2, "hi").to_string(),
            _ => json!({ "type": "message", "id": "1", "text": "hi" }).to_string(),
        };
        let unsigned = w.http.post(&webhook).header("content-type", "application/json").body(body);
        assert_eq!(unsigned.send().await.unwrap().status(), 401, "{provider}");
    }
    assert_eq!(count(&w, "SELECT COUNT(*) FROM chat_messages WHERE org_id = $1").await, 0);
    assert_eq!(count(&w, "SELECT COUNT(*) FROM chat_users WHERE org_id = $1").await, 0);
    w.app.stop().await;
}

async fn switching_the_policy_applies_from_the_next_message(backend: Backend) {
    let w = world(backend).await;
    let (id, webhook) = connector(&w, "telegram").await;
    assert_eq!(telegram(&w, &webhook, 1, 5, "before").await, 200);
    w.app.eventually("the agent gets it", || async { w.fake.agent_texts().len() == 1 }).await;
    onboarding(&w, id, true, "Hold on.").await.unwrap();
    // Someone who wrote before is still new to the approval process.
    assert_eq!(telegram(&w, &webhook, 2, 5, "during").await, 200);
    w.app
        .eventually("the onboarding message is sent", || async { w.fake.sent().iter().any(|s| s.text == "Hold on.") })
        .await;
    assert_eq!(w.fake.agent_texts(), ["before"]);
    onboarding(&w, id, false, "").await.unwrap();
    assert_eq!(telegram(&w, &webhook, 3, 5, "after").await, 200);
    w.app.eventually("the agent gets it", || async { w.fake.agent_texts().len() == 2 }).await;
    assert_eq!(w.fake.agent_texts(), ["before", "after"]);
    w.app.stop().await;
}

/// Markup and SQL typed into every text field, or sent in a chat message, come back as text:
/// escaped on every page (and in the data the page hands the browser), stored as typed, sent to
/// the agent as JSON text, and the tables are all still there.
async fn markup_and_sql_in_every_text_field_stay_inert(backend: Backend) {
    const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'; DROP TABLE accounts;--";
    let w = world(backend).await;
    let owner = &w.owner;
    let form = [("name", HOSTILE), ("sender_name", HOSTILE), ("invite_lifetime_days", "7")];
    owner.call("update_general_settings", &form).await.unwrap();
    owner.call("publish_eula", &[("body", HOSTILE)]).await.unwrap();
    owner.call("add_service_area", &[("name", HOSTILE)]).await.unwrap();
    owner.call("add_role", &[("name", HOSTILE)]).await.unwrap();
    let team = owner.call("create_team", &[("name", HOSTILE)]).await.unwrap();
    let body = draft(None, "telegram", HOSTILE, &w.fake.agent_url(), AGENT_SECRET, &credentials("telegram"));
    let id = owner.call_json("save_connector", &body).await.unwrap().as_i64().unwrap();
    let cards = owner.get("connectors", &[]).await.unwrap();
    let webhook = cards[0]["webhook_url"].as_str().unwrap().to_string();
    onboarding(&w, id, true, HOSTILE).await.unwrap();
    let hostile_update = |id: i64| {
        let mut update = telegram_update(id, 77, HOSTILE);
        update["message"]["from"]["first_name"] = HOSTILE.into();
        update["message"]["from"]["last_name"] = HOSTILE.into();
        update["message"]["from"]["username"] = "x<b>y".into();
        update.to_string()
    };
    assert_eq!(post_telegram(&w, &webhook, Some(TELEGRAM_SECRET), hostile_update(900).as_bytes()).await, 200);
    w.app.eventually("the onboarding message is sent", || async { !w.fake.sent().is_empty() }).await;
    // The chat's own text goes out as plain text, exactly as written.
    assert_eq!(w.fake.sent()[0].text, HOSTILE);
    let request = w.app.scalar_i64("SELECT id FROM access_requests WHERE org_id = $1", w.org).await;
    owner.call_json("decide_access", &json!({ "ids": [request], "decision": "Approve" })).await.unwrap();
    assert_eq!(post_telegram(&w, &webhook, Some(TELEGRAM_SECRET), hostile_update(901).as_bytes()).await, 200);
    w.app.eventually("the agent gets the message", || async { !w.fake.agent_texts().is_empty() }).await;
    assert_eq!(w.fake.agent_texts(), [HOSTILE]);
    let chat_user = w.app.scalar_i64("SELECT id FROM chat_users WHERE org_id = $1", w.org).await;

    let search = format!("/users?search={}", percent(HOSTILE));
    let pages = ["/", "/settings", "/onboarding", &search, "/connectors", "/access-requests", "/chat-users"];
    let chat_page = format!("/chat-users/{chat_user}");
    let team_page = format!("/onboarding?team={team}");
    for path in pages.iter().copied().chain([chat_page.as_str(), team_page.as_str()]) {
        let res = owner.page(path).await;
        assert_eq!(res.status(), 200, "{path}");
        let html = res.text().await.unwrap();
        for raw in ["<script>alert(", "<img src=x", "</script><img", "<b>y"] {
            assert!(!html.contains(raw), "{path} carries {raw:?} unescaped");
        }
        // And it is there, as text: the check above is not passing on a page that lacks it.
        assert!(html.contains("&lt;script&gt;alert(1)") || html.contains("\\u003cscript>alert(1)"), "{path}");
    }
    // Stored as typed, and no statement was ever built from it.
    let settings = owner.get("load_org_settings", &[]).await.unwrap();
    assert_eq!(settings["general"]["name"], HOSTILE, "{settings}");
    assert!(w.app.scalar_i64("SELECT COUNT(*) FROM accounts WHERE $1 > 0", 1).await > 0);
    let page = owner.get("access_requests", &[("filter[status]", "approved")]).await.unwrap();
    assert_eq!(page["rows"][0]["first_name"], HOSTILE);
    assert_eq!(page["rows"][0]["first_message"], HOSTILE);
    w.app.stop().await;
}

async fn an_unreachable_provider_never_shows_its_token(backend: Backend) {
    // Telegram is down: its Bot API URL (which carries the bot token) refuses connections.
    let w = world_with(backend, |s| s.chat.telegram_base_url = "http://127.0.0.1:9/telegram".into()).await;
    let (id, url) = connector(&w, "telegram").await;
    onboarding(&w, id, true, "Welcome! An admin will let you in.").await.unwrap();
    assert_eq!(telegram(&w, &url, 1, 42, "hello").await, 200);
    w.app
        .eventually("the onboarding message failed once", || async {
            count(&w, "SELECT COUNT(*) FROM outbox_jobs WHERE org_id = $1 AND last_error IS NOT NULL").await > 0
        })
        .await;
    let shown = w.owner.get("load_outbox", &[]).await.unwrap().to_string();
    let token_part = TELEGRAM_BOT.split(':').nth(1).unwrap();
    assert!(!shown.contains(token_part), "{shown}");
    let stored: Vec<String> = sqlx::query_scalar("SELECT last_error FROM outbox_jobs WHERE last_error IS NOT NULL")
        .fetch_all(&w.app.state.db.pool)
        .await
        .unwrap();
    assert!(stored.iter().all(|e| !e.contains(token_part) && !e.contains("/bot")), "{stored:?}");
    w.app.stop().await;
}

/// An onboarding message queued before conversations were told apart, or retried by hand, is
/// never posted into a group: the job fails for good and nothing is sent.
async fn an_old_onboarding_job_addressed_to_a_group_is_never_sent(backend: Backend) {
    use onboard::server::integrations::shared::ReplyAddress;
    use onboard::server::{connectors::relay::send, outbox::ChatSend};
    let w = world(backend).await;
    let (id, webhook) = connector(&w, "telegram").await;
    assert_eq!(telegram(&w, &webhook, 600, 5, "hello").await, 200);
    w.app.eventually("the agent answers", || async { !w.fake.sent().is_empty() }).await;
    let chat_user = w.app.scalar_i64("SELECT id FROM chat_users WHERE org_id = $1", w.org).await;
    let logged = |kind: &'static str| {
        let app = &w.app;
        async move {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO chat_messages (org_id, connector_id, chat_user_id, direction, kind, text, conversation_id, status, at)
                 VALUES ($1, $2, $3, 'out', $4, 'Welcome!', '-100', 'queued', 0) RETURNING id",
            )
            .bind(w.org)
            .bind(id)
            .bind(chat_user)
            .bind(kind)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap()
        }
    };
    let job = |message_id: i64, chat_id: i64| ChatSend {
        message_id,
        connector_id: id,
        provider: onboard::domain::connectors::ChatProvider::Telegram,
        reply_to: ReplyAddress::Telegram { chat_id },
        text: "Welcome!".into(),
    };
    let onboarding = logged("onboarding").await;
    let refused = send(&w.app.state, &job(onboarding, -100)).await.unwrap_err();
    assert!(refused.permanent && refused.message.contains("shared"), "{}", refused.message);
    // An agent's reply in that group, and the same onboarding message in a private chat, go out.
    let reply = logged("agent").await;
    send(&w.app.state, &job(reply, -100)).await.unwrap();
    send(&w.app.state, &job(onboarding, 5)).await.unwrap();
    let to: Vec<String> = w.fake.sent().into_iter().map(|s| s.to).collect();
    assert_eq!(to, ["5", "-100", "5"]);
    w.app.stop().await;
}

crate::on_both_databases!(
    connectors_are_saved_checked_and_never_show_their_secrets,
    onboarding_holds_new_users_until_an_admin_decides,
    concurrent_first_messages_send_the_onboarding_message_exactly_once,
    every_provider_refuses_oversized_and_unauthenticated_requests,
    switching_the_policy_applies_from_the_next_message,
    markup_and_sql_in_every_text_field_stay_inert,
    an_unreachable_provider_never_shows_its_token,
    an_old_onboarding_job_addressed_to_a_group_is_never_sent,
);
