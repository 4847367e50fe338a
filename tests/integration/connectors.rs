//! Chat connectors: signed webhooks from each provider (valid, forged, stale, replayed,
//! malformed, oversized), the AllowAll and OnBoarding policies, access requests, the agent
//! endpoint, and replies through the providers' send APIs, all against fakes on loopback.

use crate::common::chat_fakes::*;
use crate::common::{Backend, TestApp, Visitor};
use base64::Engine;
use hmac::{Hmac, Mac};
use onboard::AppError;
use serde_json::{json, Value};

const PASSWORD: &str = "a long enough passphrase";

struct World {
    app: TestApp,
    fake: FakeProviders,
    owner: Visitor,
    org: i64,
    http: reqwest::Client,
}

async fn world(backend: Backend) -> World {
    let fake = FakeProviders::start().await;
    let f = fake.clone();
    let app = TestApp::start_with(backend, move |s| f.configure(s)).await;
    let (org, _) = app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    World { app, fake, owner, org, http: reqwest::Client::new() }
}

fn credentials(provider: &str) -> Vec<(&'static str, &'static str)> {
    match provider {
        "slack" => vec![("bot_token", SLACK_BOT), ("signing_secret", SLACK_SIGNING)],
        "teams" => vec![("app_id", TEAMS_APP), ("app_password", TEAMS_PASSWORD), ("tenant_id", TEAMS_TENANT)],
        "telegram" => vec![("bot_token", TELEGRAM_BOT), ("secret_token", TELEGRAM_SECRET)],
        "d360" => vec![("api_key", D360_KEY), ("webhook_secret", D360_SECRET)],
        "twilio" => vec![("account_sid", TWILIO_SID), ("auth_token", TWILIO_TOKEN), ("from_number", TWILIO_NUMBER)],
        _ => unreachable!(),
    }
}

fn draft(
    id: Option<i64>,
    provider: &str,
    name: &str,
    agent_url: &str,
    agent_secret: &str,
    creds: &[(&str, &str)],
) -> Value {
    json!({ "draft": {
        "id": id, "provider": provider, "name": name, "agent_url": agent_url, "agent_secret": agent_secret,
        "credentials": creds.iter().map(|(k, v)| [k, v]).collect::<Vec<_>>(),
    }})
}

/// Creates a connector with the fake's credentials; returns (id, webhook URL).
async fn connector(w: &World, provider: &str) -> (i64, String) {
    let body =
        draft(None, provider, &format!("{provider} bot"), &w.fake.agent_url(), AGENT_SECRET, &credentials(provider));
    let id = w.owner.call_json("save_connector", &body).await.unwrap().as_i64().unwrap();
    let cards = w.owner.get("connectors", &[]).await.unwrap();
    let card = cards.as_array().unwrap().iter().find(|c| c["id"] == id).unwrap().clone();
    (id, card["webhook_url"].as_str().unwrap().to_string())
}

async fn onboarding(w: &World, id: i64, on: bool, message: &str) -> crate::common::Answer {
    w.owner
        .call("set_connector_policy", &[("id", &id.to_string()), ("onboarding", &on.to_string()), ("message", message)])
        .await
}

async fn count(w: &World, sql: &str) -> i64 {
    w.app.scalar_i64(sql, w.org).await
}

fn telegram_update(update_id: i64, user: i64, text: &str) -> Value {
    json!({ "update_id": update_id, "message": {
        "message_id": update_id, "date": 1_700_000_000,
        "from": { "id": user, "is_bot": false, "first_name": "Tom", "last_name": "Gram", "username": "tomg" },
        "chat": { "id": user, "type": "private" }, "text": text,
    }})
}

async fn post_telegram(w: &World, url: &str, secret: Option<&str>, body: &[u8]) -> u16 {
    let mut request = w.http.post(url).header("content-type", "application/json").body(body.to_vec());
    if let Some(secret) = secret {
        request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
    }
    request.send().await.unwrap().status().as_u16()
}

async fn telegram(w: &World, url: &str, update_id: i64, user: i64, text: &str) -> u16 {
    post_telegram(w, url, Some(TELEGRAM_SECRET), telegram_update(update_id, user, text).to_string().as_bytes()).await
}

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

fn now_s() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

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
    assert_eq!(cards[0]["policy"], "AllowAll");
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
    assert_eq!(card["policy"], "AllowAll");
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

async fn allow_all_sends_every_message_to_the_agent_and_relays_its_reply(backend: Backend) {
    let w = world(backend).await;
    let (id, webhook) = connector(&w, "telegram").await;
    assert_eq!(telegram(&w, &webhook, 100, 42, "What is <b>up</b>?").await, 200);
    let fake = w.fake.clone();
    w.app
        .eventually("the reply is sent", || {
            let f = fake.clone();
            async move { !f.sent().is_empty() }
        })
        .await;
    let call = w.fake.with(|r| r.agent_calls[0].clone());
    assert_eq!(call["connector"], id);
    assert_eq!(call["provider"], "telegram");
    assert_eq!(call["chat_user"]["platform_id"], "42");
    assert_eq!(call["chat_user"]["first_name"], "Tom");
    assert_eq!(call["chat_user"]["last_name"], "Gram");
    assert_eq!(call["conversation_id"], "42");
    assert_eq!(call["message_id"], "100");
    assert_eq!(call["text"], "What is <b>up</b>?");
    assert_eq!(
        w.fake.sent(),
        [Sent { provider: "telegram", to: "42".into(), text: "Echo: What is <b>up</b>?".into() }]
    );
    // The picture is fetched once and kept as an image, never as a link carrying the bot token.
    let app = &w.app;
    app.eventually("the avatar is stored", || async {
        count(&w, "SELECT COUNT(*) FROM chat_users WHERE org_id = $1 AND avatar_url LIKE 'data:image/jpeg;base64,%'")
            .await
            == 1
    })
    .await;
    // The agent may stay silent.
    w.fake.with(|r| r.agent_mode = AgentMode::Silent);
    assert_eq!(telegram(&w, &webhook, 101, 42, "thanks").await, 200);
    app.eventually("the agent was called twice", || async { w.fake.agent_texts().len() == 2 }).await;
    app.eventually("the log shows both answered", || async {
        count(&w, "SELECT COUNT(*) FROM chat_messages WHERE org_id = $1 AND direction = 'in' AND status = 'answered'")
            .await
            == 2
    })
    .await;
    assert_eq!(w.fake.sent().len(), 1);
    assert_eq!(w.fake.with(|r| r.profile_lookups), 1);
    let users = w.owner.get("chat_users", &[("provider", ""), ("search", "tom"), ("page", "1")]).await.unwrap();
    assert_eq!(users["total"], 1);
    let user = users["rows"][0]["id"].as_i64().unwrap();
    let detail = w.owner.get("chat_user", &[("id", &user.to_string())]).await.unwrap();
    let kinds: Vec<(String, String)> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["direction"].as_str().unwrap().into(), m["kind"].as_str().unwrap().into()))
        .collect();
    let expected = [("in", "user"), ("out", "agent"), ("in", "user")].map(|(d, k)| (d.to_string(), k.to_string()));
    assert_eq!(kinds, expected);
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

    // Approved: the next message reaches the agent.
    let approve = json!({ "ids": [request], "decision": "Approve" });
    assert_eq!(w.owner.call_json("decide_access", &approve).await.unwrap(), 1);
    assert_eq!(telegram(&w, &webhook, 210, 7, "now?").await, 200);
    app.eventually("the agent answers", || async { w.fake.sent().len() == 2 }).await;
    assert_eq!(w.fake.agent_texts(), ["now?"]);

    // A second user is rejected: told once, then dropped.
    assert_eq!(telegram(&w, &webhook, 300, 8, "let me in").await, 200);
    app.eventually("their onboarding message is sent", || async { w.fake.sent().len() == 3 }).await;
    let second = app.scalar_i64("SELECT MAX(id) FROM access_requests WHERE org_id = $1", w.org).await;
    let reject = json!({ "ids": [second], "decision": "Reject" });
    w.owner.call_json("decide_access", &reject).await.unwrap();
    for n in 0..3 {
        assert_eq!(telegram(&w, &webhook, 301 + n, 8, "please").await, 200);
    }
    app.eventually("the rejection is told", || async { w.fake.sent().len() == 4 }).await;
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

#[derive(serde::Serialize)]
struct BotClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    exp: i64,
    nbf: i64,
    #[serde(rename = "serviceUrl")]
    service_url: &'a str,
}

fn bot_token(aud: &str, exp: i64, service_url: &str) -> String {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(include_bytes!("fixtures/botframework-test-key.pem")).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(KEY_ID.into());
    let claims = BotClaims { iss: "https://api.botframework.com", aud, exp, nbf: now_s() - 60, service_url };
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

async fn teams_activities_need_a_valid_bot_framework_token(backend: Backend) {
    let w = world(backend).await;
    let (_, webhook) = connector(&w, "teams").await;
    let service = w.fake.teams_service_url();
    let activity = json!({
        "type": "message", "id": "act-1", "serviceUrl": service, "channelId": "msteams", "text": "Hello from Teams",
        "from": { "id": "29:abc", "name": "Grace Hopper", "aadObjectId": "aad-grace" },
        "conversation": { "id": "a:conv-1" }, "recipient": { "id": "28:bot-app-id" },
    });
    let post = |token: Option<String>| {
        let mut request = w.http.post(&webhook).json(&activity);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let hour = now_s() + 3_600;
    assert_eq!(post(None).await, 401);
    assert_eq!(post(Some("not.a.jwt".into())).await, 401);
    assert_eq!(post(Some(bot_token("another-app", hour, &service))).await, 401);
    assert_eq!(post(Some(bot_token(TEAMS_APP, now_s() - 3_600, &service))).await, 401);
    assert_eq!(post(Some(bot_token(TEAMS_APP, hour, "https://evil.example"))).await, 401);
    // One character in the middle of the signature changed.
    let genuine = bot_token(TEAMS_APP, hour, &service);
    let at = genuine.rfind('.').unwrap() + 40;
    let swapped = if &genuine[at..=at] == "A" { "B" } else { "A" };
    let forged = format!("{}{swapped}{}", &genuine[..at], &genuine[at + 1..]);
    assert_eq!(post(Some(forged)).await, 401);
    assert_eq!(count(&w, "SELECT COUNT(*) FROM chat_messages WHERE org_id = $1").await, 0);

    assert_eq!(post(Some(bot_token(TEAMS_APP, hour, &service))).await, 200);
    // The same activity again (Bot Framework retries): acknowledged, answered once.
    assert_eq!(post(Some(bot_token(TEAMS_APP, hour, &service))).await, 200);
    w.app.eventually("the reply is sent", || async { !w.fake.sent().is_empty() }).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        w.fake.sent(),
        [Sent { provider: "teams", to: "a:conv-1".into(), text: "Echo: Hello from Teams".into() }]
    );
    let user: (String, String, String) =
        sqlx::query_as("SELECT platform_id, first_name, last_name FROM chat_users WHERE provider = 'teams'")
            .fetch_one(&w.app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(user, ("aad-grace".into(), "Grace".into(), "Hopper".into()));
    w.app.stop().await;
}

fn twilio_signature(url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut data = url.to_string();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(TWILIO_TOKEN.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

async fn twilio_and_360dialog_webhooks_are_verified_and_answered(backend: Backend) {
    let w = world(backend).await;
    let (_, twilio) = connector(&w, "twilio").await;
    let params = [
        ("MessageSid", "SM100"),
        ("From", "whatsapp:+447911123456"),
        ("To", "whatsapp:+15005550006"),
        ("Body", "Hola & <hi>"),
        ("ProfileName", "Wanda Sapp"),
    ];
    let post = |signature: String, body: String| {
        let request = w
            .http
            .post(&twilio)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("X-Twilio-Signature", signature)
            .body(body);
        async move { request.send().await.unwrap() }
    };
    let form = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    assert_eq!(post("bm90IGl0".into(), form.clone()).await.status(), 401);
    let other_url = twilio_signature("https://elsewhere.example/webhooks/x", &params);
    assert_eq!(post(other_url, form.clone()).await.status(), 401);
    assert_eq!(post(twilio_signature(&twilio, &[]), "{\"json\":true}".into()).await.status(), 400);
    let answer = post(twilio_signature(&twilio, &params), form.clone()).await;
    assert_eq!(answer.status(), 200);
    assert!(answer.text().await.unwrap().contains("<Response>"));
    assert_eq!(post(twilio_signature(&twilio, &params), form).await.status(), 200);

    let (_, d360) = connector(&w, "d360").await;
    let notification = json!({ "object": "whatsapp_business_account", "entry": [{ "id": "1", "changes": [{ "field": "messages", "value": {
        "messaging_product": "whatsapp",
        "contacts": [{ "profile": { "name": "Dora Diallo" }, "wa_id": "447700900123" }],
        "messages": [
            { "from": "447700900123", "id": "wamid.1", "timestamp": "1700000000", "type": "text", "text": { "body": "first" } },
            { "from": "447700900123", "id": "wamid.2", "timestamp": "1700000001", "type": "text", "text": { "body": "second" } },
        ],
    }}]}]});
    let post360 = |secret: &str, body: String| {
        let request =
            w.http.post(&d360).header("content-type", "application/json").header("X-Onboard-Secret", secret).body(body);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post360("wrong-secret-wrong-secret", notification.to_string()).await, 401);
    assert_eq!(w.http.post(&d360).json(&notification).send().await.unwrap().status().as_u16(), 401);
    assert_eq!(post360(D360_SECRET, "[1,2".into()).await, 400);
    assert_eq!(post360(D360_SECRET, "{\"entry\":3}".into()).await, 400);
    assert_eq!(post360(D360_SECRET, notification.to_string()).await, 200);
    assert_eq!(post360(D360_SECRET, notification.to_string()).await, 200, "a redelivery is acknowledged");

    w.app.eventually("three replies are sent", || async { w.fake.sent().len() == 3 }).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(count(&w, "SELECT COUNT(*) FROM chat_messages WHERE org_id = $1 AND direction = 'in'").await, 3);
    let mut sent = w.fake.sent();
    sent.sort_by(|a, b| a.text.cmp(&b.text));
    assert_eq!(
        sent,
        [
            Sent {
                provider: "twilio",
                to: "whatsapp:+447911123456 from whatsapp:+15005550006".into(),
                text: "Echo: Hola & <hi>".into()
            },
            Sent { provider: "d360", to: "447700900123".into(), text: "Echo: first".into() },
            Sent { provider: "d360", to: "447700900123".into(), text: "Echo: second".into() },
        ]
    );
    let people: Vec<(String, String, String)> =
        sqlx::query_as("SELECT provider, platform_id, first_name FROM chat_users ORDER BY provider")
            .fetch_all(&w.app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(
        people,
        [
            ("d360".into(), "+447700900123".into(), "Dora".into()),
            ("twilio".into(), "+447911123456".into(), "Wanda".into())
        ]
    );
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

async fn an_unavailable_agent_is_retried_and_answers_once(backend: Backend) {
    let w = world(backend).await;
    let (_, webhook) = connector(&w, "telegram").await;
    w.fake.with(|r| r.agent_mode = AgentMode::Unavailable(1));
    assert_eq!(telegram(&w, &webhook, 1, 6, "are you there?").await, 200);
    w.app.eventually("the retried call is answered", || async { !w.fake.sent().is_empty() }).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(w.fake.agent_texts(), ["are you there?"]);
    assert_eq!(w.fake.sent().len(), 1);
    let attempts = count(&w, "SELECT MAX(attempts) FROM outbox_jobs WHERE org_id = $1 AND kind = 'agent'").await;
    assert_eq!(attempts, 2);
    w.app.stop().await;
}

/// The agent's reply was recorded but the job's completion was lost (a crash): the job runs
/// again, and neither asks the agent nor answers the person a second time.
async fn an_agent_call_run_again_after_a_lost_completion_asks_the_agent_once(backend: Backend) {
    let w = world(backend).await;
    let (_, webhook) = connector(&w, "telegram").await;
    assert_eq!(telegram(&w, &webhook, 1, 6, "hello?").await, 200);
    w.app.eventually("the reply is sent", || async { w.fake.sent().len() == 1 }).await;
    let done = "SELECT COUNT(*) FROM outbox_jobs WHERE org_id = $1 AND kind = 'agent' AND status = 'done'";
    w.app.eventually("the agent call is done", || async { count(&w, done).await == 1 }).await;
    sqlx::query(
        "UPDATE outbox_jobs SET status = 'queued', run_at = 0, done_at = NULL WHERE org_id = $1 AND kind = 'agent'",
    )
    .bind(w.org)
    .execute(&w.app.state.db.pool)
    .await
    .unwrap();
    w.app.state.outbox_wake.notify_waiters();
    w.app.eventually("the agent call is done again", || async { count(&w, done).await == 1 }).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(w.fake.agent_texts(), ["hello?"]);
    assert_eq!(w.fake.sent().len(), 1);
    let attempts = count(&w, "SELECT MAX(attempts) FROM outbox_jobs WHERE org_id = $1 AND kind = 'agent'").await;
    assert_eq!(attempts, 2, "the job did run again");
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

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// The connectors world with `adjust` applied after the fakes' settings.
async fn world_with(backend: Backend, adjust: impl FnOnce(&mut onboard::server::Settings) + Send + 'static) -> World {
    let fake = FakeProviders::start().await;
    let f = fake.clone();
    let app = TestApp::start_with(backend, move |s| {
        f.configure(s);
        adjust(s);
    })
    .await;
    let (org, _) = app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    World { app, fake, owner, org, http: reqwest::Client::new() }
}

async fn agent_endpoints_on_private_or_local_addresses_are_refused(backend: Backend) {
    let w = world_with(backend, |s| s.chat.allowed_private_agent_hosts.clear()).await;
    for url in [
        "https://169.254.169.254/latest/",
        "https://10.0.0.1/",
        "http://127.0.0.1:5432/",
        "http://localhost:6379/",
        "https://[::1]/agent",
        "https://[fd00::1]/agent",
        "https://100.64.0.1/agent",
    ] {
        let body = draft(None, "telegram", "Probe", url, AGENT_SECRET, &credentials("telegram"));
        let answer = w.owner.call_json("save_connector", &body).await;
        assert!(
            matches!(&answer, Err((422, AppError::Invalid { field, .. })) if field == "agent_url"),
            "{url}: {answer:?}"
        );
    }
    assert_eq!(count(&w, "SELECT COUNT(*) FROM connectors WHERE org_id = $1").await, 0);
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

/// A message from a shared conversation by someone not let in: logged as dropped, no access
/// request, and nothing sent anywhere.
async fn logged_and_nothing_said(w: &World) {
    w.app
        .eventually("the message is logged", || async {
            count(w, "SELECT COUNT(*) FROM chat_messages WHERE org_id = $1 AND status = 'dropped'").await == 1
        })
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(w.fake.sent().is_empty(), "{:?}", w.fake.sent());
    assert_eq!(count(w, "SELECT COUNT(*) FROM access_requests WHERE org_id = $1").await, 0);
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

/// In a Teams group chat a new person opens no request and nothing is posted there; once let
/// in, the agent reads their words without the bot's `<at>` mention and answers in the chat.
async fn teams_group_chats_never_see_onboarding_and_the_agent_reads_no_mention_markup(backend: Backend) {
    let w = world(backend).await;
    let (id, webhook) = connector(&w, "teams").await;
    onboarding(&w, id, true, "Welcome! Your request is being reviewed.").await.unwrap();
    let service = w.fake.teams_service_url();
    let activity = |activity_id: &str| {
        json!({
            "type": "message", "id": activity_id, "serviceUrl": service, "channelId": "msteams",
            "text": "<at>Onboard</at> what is the <at>Ada Lovelace</at> rota?",
            "from": { "id": "29:abc", "name": "Grace Hopper", "aadObjectId": "aad-grace" },
            "conversation": { "id": "19:group-chat", "conversationType": "groupChat", "isGroup": true },
            "recipient": { "id": "28:bot-app-id", "name": "Onboard" },
            "entities": [
                { "type": "mention", "mentioned": { "id": "28:bot-app-id", "name": "Onboard" }, "text": "<at>Onboard</at>" },
                { "type": "mention", "mentioned": { "id": "29:ada", "name": "Ada Lovelace" }, "text": "<at>Ada Lovelace</at>" },
            ],
        })
    };
    let post = |body: Value| {
        let request = w.http.post(&webhook).bearer_auth(bot_token(TEAMS_APP, now_s() + 3_600, &service)).json(&body);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post(activity("g-1")).await, 200);
    logged_and_nothing_said(&w).await;

    onboarding(&w, id, false, "").await.unwrap();
    assert_eq!(post(activity("g-2")).await, 200);
    w.app.eventually("the agent answers in the group chat", || async { !w.fake.sent().is_empty() }).await;
    assert_eq!(w.fake.agent_texts(), ["what is the Ada Lovelace rota?"]);
    assert_eq!(w.fake.sent()[0].to, "19:group-chat");
    assert_eq!(w.fake.with(|r| r.agent_calls[0]["shared"].clone()), true);
    w.app.stop().await;
}

/// An onboarding message queued before conversations were told apart, or retried by hand, is
/// never posted into a group: the job fails for good and nothing is sent.
async fn an_old_onboarding_job_addressed_to_a_group_is_never_sent(backend: Backend) {
    use onboard::server::connectors::{send, ChatSend};
    use onboard::server::integrations::chat::ReplyAddress;
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
    an_agent_call_run_again_after_a_lost_completion_asks_the_agent_once,
    agent_endpoints_on_private_or_local_addresses_are_refused,
    an_unreachable_provider_never_shows_its_token,
    connectors_are_saved_checked_and_never_show_their_secrets,
    allow_all_sends_every_message_to_the_agent_and_relays_its_reply,
    onboarding_holds_new_users_until_an_admin_decides,
    concurrent_first_messages_send_the_onboarding_message_exactly_once,
    telegram_webhooks_without_the_secret_or_well_formed_json_are_refused,
    every_provider_refuses_oversized_and_unauthenticated_requests,
    slack_events_are_verified_before_anything_is_stored,
    teams_activities_need_a_valid_bot_framework_token,
    twilio_and_360dialog_webhooks_are_verified_and_answered,
    switching_the_policy_applies_from_the_next_message,
    an_unavailable_agent_is_retried_and_answers_once,
    markup_and_sql_in_every_text_field_stay_inert,
    media_first_contact_opens_a_request_and_groups_never_see_onboarding,
    slack_channels_never_see_the_onboarding_message,
    teams_group_chats_never_see_onboarding_and_the_agent_reads_no_mention_markup,
    an_old_onboarding_job_addressed_to_a_group_is_never_sent,
);
