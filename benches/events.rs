//! Webhooks for onboarding events (issue 17), on SQLite:
//! - what telling an event costs the change it describes: a membership change's transaction
//!   with the `member.paused` event queued for one listening endpoint, against the same
//!   transaction where no endpoint listens (one indexed look-up), 32 at once;
//! - delivery: events queued, then signed and POSTed by the outbox's workers to a receiver on
//!   loopback, each attempt recorded, until every one is delivered.
//! Run with `cargo bench --features ssr --bench events`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::StreamExt;
use onboard::domain::events::{CheckedEndpoint, EventType};
use onboard::server::events::{self, About};
use onboard::server::{bootstrap, db, AppState, Application, Settings};
use std::time::{Duration, Instant};

const BATCH: u64 = 1_000;
const IN_FLIGHT: usize = 32;

/// A receiver on loopback that takes every delivery with 204; returns its URL.
async fn receiver() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = axum::Router::new().route("/hook", axum::routing::post(|| async { axum::http::StatusCode::NO_CONTENT }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// The server on a fresh SQLite file with `workers` outbox workers, and two organizations: one
/// with an endpoint listening for `member.paused` at `url`, one with none. Returns the state and
/// each organization with its owner's membership.
async fn server(name: &str, workers: usize, url: &str) -> (AppState, (i64, i64), (i64, i64)) {
    let dir = std::env::temp_dir().join("onboard-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("events-{name}-{}.db", std::process::id()));
    let mut settings = Settings::default();
    settings.database.url = onboard::server::secret::Secret::new(format!("sqlite://{}", file.display()));
    settings.outbox.workers = workers;
    settings.chat.allowed_private_agent_hosts = vec!["127.0.0.1".into()];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = Application::build_on(settings, listener).await.unwrap();
    let state = app.state().clone();
    let membership = |org: i64| {
        let state = state.clone();
        async move {
            let id: i64 = sqlx::query_scalar("SELECT id FROM memberships WHERE org_id = $1")
                .bind(org)
                .fetch_one(&state.db.pool)
                .await
                .unwrap();
            (org, id)
        }
    };
    let listened = bootstrap::create_owner(&state, "owner@listened.example", Some("Listened")).await.unwrap().org_id;
    let quiet = bootstrap::create_owner(&state, "owner@quiet.example", Some("Quiet")).await.unwrap().org_id;
    let endpoint =
        CheckedEndpoint { url: url.into(), description: String::new(), event_types: vec![EventType::MemberPaused] };
    let mut tx = state.db.begin().await.unwrap();
    db::webhook_endpoints::create(&mut tx, &state.db.key, listened, &endpoint, events::new_secret().expose())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let (listened, quiet) = (membership(listened).await, membership(quiet).await);
    (state, listened, quiet)
}

/// `BATCH` transactions, 32 at once, each queuing `member.paused` for `membership` of `org`.
async fn changes(state: &AppState, (org, membership): (i64, i64)) {
    futures::stream::iter(0..BATCH)
        .map(|_| async move {
            let mut tx = state.db.begin().await.unwrap();
            events::emit(&mut tx, &state.db.key, org, EventType::MemberPaused, About::Member(membership))
                .await
                .unwrap();
            tx.commit().await.unwrap();
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<()>>()
        .await;
}

async fn delivered(state: &AppState) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered'")
        .fetch_one(&state.db.pool)
        .await
        .unwrap()
}

fn webhook_events(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(receiver());
    let (state, listened, quiet) = rt.block_on(server("emit", 0, &url));
    let mut group = c.benchmark_group("webhook events (SQLite, 32 at once)");
    group.throughput(Throughput::Elements(BATCH)).sample_size(10).measurement_time(Duration::from_secs(15));
    group.bench_function("a change's transaction, no endpoint listening", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    changes(&state, quiet).await;
                }
                start.elapsed()
            })
        })
    });
    group.bench_function("a change's transaction with the event queued for one endpoint", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    changes(&state, listened).await;
                }
                start.elapsed()
            })
        })
    });
    group.finish();

    // Delivery by the outbox's 16 workers (the default): queued untimed, then timed until done.
    let (state, listened, _) = rt.block_on(server("deliver", 16, &url));
    let mut group = c.benchmark_group("webhook delivery (SQLite, 16 outbox workers, receiver on loopback)");
    group.throughput(Throughput::Elements(BATCH)).sample_size(10).measurement_time(Duration::from_secs(30));
    group.bench_function("signed, POSTed, attempt recorded", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    let target = delivered(&state).await + BATCH as i64;
                    let mut tx = state.db.begin().await.unwrap();
                    for _ in 0..BATCH {
                        let (org, membership) = listened;
                        events::emit(&mut tx, &state.db.key, org, EventType::MemberPaused, About::Member(membership))
                            .await
                            .unwrap();
                    }
                    tx.commit().await.unwrap();
                    let start = Instant::now();
                    state.outbox_wake.notify_waiters();
                    while delivered(&state).await < target {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    spent += start.elapsed();
                }
                spent
            })
        })
    });
    group.finish();
}

criterion_group!(benches, webhook_events);
criterion_main!(benches);
