//! Chat connectors, one file per provider and two for what they share: signed webhooks from
//! each provider (valid, forged, stale, replayed, malformed, oversized), the AllowAll and
//! OnBoarding policies, access requests, the agent endpoint, and replies through the
//! providers' send APIs, all against fakes on loopback. The helpers here serve every file.

use crate::common::chat_fakes::*;
use crate::common::{Backend, TestApp, Visitor};
use base64::Engine;
use hmac::{Hmac, Mac};
use onboard::AppError;
use serde_json::{json, Value};

mod agent;
mod approvals;
mod chat_users;
mod events;
mod policies;
mod slack;
mod teams;
mod telegram;
mod twilio_and_360dialog;

const PASSWORD: &str = "a long enough passphrase";

struct World {
    app: TestApp,
    fake: FakeProviders,
    owner: Visitor,
    owner_account: i64,
    org: i64,
    http: reqwest::Client,
}

async fn world(backend: Backend) -> World {
    let fake = FakeProviders::start().await;
    let f = fake.clone();
    let app = TestApp::start_with(backend, move |s| f.configure(s)).await;
    let (org, owner_account) = app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    World { app, fake, owner, owner_account, org, http: reqwest::Client::new() }
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

fn now_s() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
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
    let (org, owner_account) = app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    World { app, fake, owner, owner_account, org, http: reqwest::Client::new() }
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
