//! Budget (issue 5): inbound webhooks verified, policy applied and stored at 2,000 messages/s or
//! more on SQLite. The real server on loopback receives signed Telegram updates and Slack events
//! 32 at a time; criterion reports messages per second. Outbox workers are off, so what is
//! measured is the webhook path alone (the agent calls it queues are not made).
//! Clicks on approvers' cards (issue 17) take the same webhook URL: each is verified, its
//! approver looked up, the request decided with its audit entry and the approval message queued.
//! Run with `cargo bench --features ssr --bench connectors`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::StreamExt;
use hmac::{Hmac, Mac};
use onboard::server::connectors::{self, CheckedDraft};
use onboard::server::integrations::chat;
use onboard::server::integrations::shared::{Inbound, WebhookRequest};
use onboard::server::{bootstrap, AppState, Application, Settings};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

const BATCH: u64 = 1_000;
const IN_FLIGHT: usize = 32;
const TELEGRAM_SECRET: &str = "bench_secret_0123456789abcdefghijklmn";
const SLACK_SIGNING: &str = "bench-signing-secret";

fn settings(url: &str) -> Settings {
    let mut settings = Settings::default();
    settings.database.url = onboard::server::secret::Secret::new(url);
    settings.server.site_addr = "127.0.0.1:0".parse().unwrap();
    settings.outbox.workers = 0;
    settings
}

fn draft(provider: &str, name: &str, credentials: &[(&str, &str)]) -> CheckedDraft {
    let draft = onboard::api::connectors::types::ConnectorDraft {
        id: None,
        provider: provider.into(),
        name: name.into(),
        agent_url: "http://127.0.0.1:9/agent".into(),
        agent_secret: "bench agent signing secret".into(),
        credentials: credentials.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    };
    connectors::check_draft(&draft, None).unwrap()
}

/// Pending requests seeded for the clicks to decide, more than one run's clicks.
const CLICKABLE: i64 = 200_000;

/// The server on a fresh SQLite file with two connectors; returns it with their webhook URLs.
/// The Slack connector posts its requests to the approvers' channel, and the owner is mapped to
/// the Slack user `U0OWNER`.
async fn server() -> (AppState, String, String) {
    let dir = std::env::temp_dir().join("onboard-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join(format!("connectors-{}.db", std::process::id())).display());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut s = settings(&url);
    s.server.public_url = format!("http://127.0.0.1:{port}");
    let app = Application::build_on(s, listener).await.unwrap();
    let state = app.state().clone();
    let owner = bootstrap::create_owner(&state, "owner@bench.example", Some("Bench")).await.unwrap();
    let mut tx = state.db.begin().await.unwrap();
    let telegram = draft("telegram", "Telegram", &[("bot_token", "1:bench"), ("secret_token", TELEGRAM_SECRET)]);
    let telegram = connectors::create(&mut tx, &state.db.key, owner.org_id, &telegram).await.unwrap();
    let slack = draft("slack", "Slack", &[("bot_token", "xoxb-bench"), ("signing_secret", SLACK_SIGNING)]);
    let slack = connectors::create(&mut tx, &state.db.key, owner.org_id, &slack).await.unwrap();
    onboard::server::db::connectors::set_policy(&mut tx, owner.org_id, slack, "onboarding", "Please wait.")
        .await
        .unwrap();
    onboard::server::db::connectors::set_approvals(
        &mut tx,
        owner.org_id,
        slack,
        Some((slack, "C0BENCH1")),
        "You're in.",
    )
    .await
    .unwrap();
    seed_clickable(&mut tx, owner.org_id, slack).await;
    tx.commit().await.unwrap();
    let hook = |id: i64| {
        let state = state.clone();
        async move {
            let c = connectors::load(&state, owner.org_id, id).await.unwrap().unwrap();
            c.webhook_url(&state.settings)
        }
    };
    let (telegram, slack) = (hook(telegram).await, hook(slack).await);
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    (state, telegram, slack)
}

/// The owner's Slack identity, and [`CLICKABLE`] pending requests from as many Slack users (ids
/// 1 to CLICKABLE), each with the direct message it came from.
async fn seed_clickable(tx: &mut sqlx::Transaction<'static, sqlx::Any>, org_id: i64, slack: i64) {
    sqlx::query(
        "INSERT INTO identity_mappings (org_id, membership_id, provider, external_id, source, created_at)
         SELECT org_id, id, 'slack', 'U0OWNER', 'manual', 0 FROM memberships WHERE org_id = $1",
    )
    .bind(org_id)
    .execute(&mut **tx)
    .await
    .unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
         INSERT INTO chat_users (org_id, provider, platform_id, first_name, last_name, created_at, last_seen_at)
         SELECT $1, 'slack', 'UCLICK' || i, 'Bench', 'Person', 0, 0 FROM n",
    )
    .bind(org_id)
    .bind(CLICKABLE)
    .execute(&mut **tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO access_requests (id, org_id, connector_id, chat_user_id, first_message, created_at, reply_to)
         SELECT CAST(SUBSTR(platform_id, 7) AS INTEGER), org_id, $2, id, 'hello', 0,
                '{\"via\":\"slack\",\"channel\":\"D' || platform_id || '\"}'
         FROM chat_users WHERE org_id = $1 AND platform_id LIKE 'UCLICK%'",
    )
    .bind(org_id)
    .bind(slack)
    .execute(&mut **tx)
    .await
    .unwrap();
}

/// A click on Approve on request `n`'s card, as Slack posts it (form-encoded, JSON in `payload`).
fn slack_click(n: i64) -> String {
    let payload = serde_json::json!({
        "type": "block_actions", "user": { "id": "U0OWNER" }, "channel": { "id": "C0BENCH1" },
        "actions": [{ "action_id": "access_request.approve", "value": n.to_string() }],
    });
    format!("payload={}", url::form_urlencoded::byte_serialize(payload.to_string().as_bytes()).collect::<String>())
}

/// A private text message from one of 1,000 people, as Telegram posts it.
fn telegram_update(n: i64) -> String {
    serde_json::json!({ "update_id": n, "message": {
        "message_id": n, "date": 0, "text": "hello agent",
        "from": { "id": n % 1_000, "is_bot": false, "first_name": "Bench", "last_name": "User" },
        "chat": { "id": n % 1_000, "type": "private" },
    }})
    .to_string()
}

/// `body` as Slack sends it: signed with the connector's signing secret at the current time.
fn signed_by_slack(request: reqwest::RequestBuilder, content_type: &str, body: String) -> reqwest::RequestBuilder {
    let timestamp = now_s();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SLACK_SIGNING.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    let signature = format!("v0={}", hex::encode(mac.finalize().into_bytes()));
    request
        .header("content-type", content_type)
        .header("x-slack-request-timestamp", timestamp.to_string())
        .header("x-slack-signature", signature)
        .body(body)
}

fn now_s() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn webhooks(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (state, telegram, slack) = rt.block_on(server());
    let client = reqwest::Client::builder().pool_max_idle_per_host(IN_FLIGHT).build().unwrap();
    let next = AtomicI64::new(1);
    let mut group = c.benchmark_group("inbound webhooks (SQLite, 32 in flight)");
    group.throughput(Throughput::Elements(BATCH)).sample_size(10).measurement_time(Duration::from_secs(20));

    group.bench_function("Telegram updates, AllowAll: secret checked, stored, agent call queued", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let first = next.fetch_add(BATCH as i64, Ordering::Relaxed);
                    futures::stream::iter(first..first + BATCH as i64)
                        .map(|n| {
                            let request = client
                                .post(&telegram)
                                .header("content-type", "application/json")
                                .header("x-telegram-bot-api-secret-token", TELEGRAM_SECRET)
                                .body(telegram_update(n));
                            async move { assert_eq!(request.send().await.unwrap().status(), 200) }
                        })
                        .buffer_unordered(IN_FLIGHT)
                        .collect::<Vec<()>>()
                        .await;
                }
                start.elapsed()
            })
        })
    });

    group.bench_function("Slack events, OnBoarding: HMAC checked, stored, held for approval", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let first = next.fetch_add(BATCH as i64, Ordering::Relaxed);
                    futures::stream::iter(first..first + BATCH as i64)
                        .map(|n| {
                            let body = serde_json::json!({ "type": "event_callback", "event_id": format!("Ev{n}"), "event": {
                                "type": "message", "user": format!("U{}", n % 1_000), "channel": "D1", "text": "hello" }})
                            .to_string();
                            let request = signed_by_slack(client.post(&slack), "application/json", body);
                            async move { assert_eq!(request.send().await.unwrap().status(), 200) }
                        })
                        .buffer_unordered(IN_FLIGHT)
                        .collect::<Vec<()>>()
                        .await;
                }
                start.elapsed()
            })
        })
    });
    // Each click decides a pending request of its own: request ids count up from 1.
    let clicked = AtomicI64::new(1);
    group.bench_function(
        "Slack card clicks: HMAC checked, approver looked up, decided, audited, approval queued",
        |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let first = clicked.fetch_add(BATCH as i64, Ordering::Relaxed);
                        assert!(first + BATCH as i64 <= CLICKABLE + 1, "seed more requests to click");
                        futures::stream::iter(first..first + BATCH as i64)
                            .map(|n| {
                                let form = "application/x-www-form-urlencoded";
                                let request = signed_by_slack(client.post(&slack), form, slack_click(n));
                                async move { assert_eq!(request.send().await.unwrap().status(), 200) }
                            })
                            .buffer_unordered(IN_FLIGHT)
                            .collect::<Vec<()>>()
                            .await;
                    }
                    start.elapsed()
                })
            })
        },
    );
    group.finish();
    let decided = rt.block_on(async {
        let approved: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM access_requests WHERE status = 'approved' AND decided_by IS NOT NULL",
        )
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
        approved
    });
    assert_eq!(decided, clicked.load(Ordering::Relaxed) - 1, "every click decided its request");

    // The same work without HTTP: what the server spends per message, the load generator aside.
    let connector = rt.block_on(async {
        let key = telegram.rsplit('/').next().unwrap().to_string();
        let stored = onboard::server::db::connectors::by_webhook_key(&state.db, &key).await.unwrap().unwrap();
        onboard::server::integrations::connector::Connector::try_from(stored).unwrap()
    });
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("x-telegram-bot-api-secret-token", TELEGRAM_SECRET.parse().unwrap());
    let mut group = c.benchmark_group("inbound webhook pipeline in-process (SQLite, 32 at once)");
    group.throughput(Throughput::Elements(BATCH)).sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("Telegram update, AllowAll: secret checked, decoded, stored, agent call queued", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let first = next.fetch_add(BATCH as i64, Ordering::Relaxed);
                    futures::stream::iter(first..first + BATCH as i64)
                        .map(|n| {
                            let body = telegram_update(n);
                            let (state, connector, headers, url) = (&state, &connector, &headers, &telegram);
                            async move {
                                let request =
                                    WebhookRequest { headers, body: body.as_bytes(), public_url: url, now_s: now_s() };
                                let Inbound::Messages(messages) =
                                    chat::authenticate(&state.settings, &state.chat, connector, &request)
                                        .await
                                        .unwrap()
                                else {
                                    panic!("a text message")
                                };
                                connectors::intake::receive(state, connector, &messages[0]).await.unwrap();
                            }
                        })
                        .buffer_unordered(IN_FLIGHT)
                        .collect::<Vec<()>>()
                        .await;
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, webhooks);
criterion_main!(benches);
