//! SCIM 2.0 provisioning (issue 17) over HTTP on loopback, on SQLite, in an organization of
//! 100,000 members (`support/members.rs`), 16 requests in flight as an identity provider's
//! provisioning cycle sends them:
//! - `POST /Users`: a membership created, its invitation held or queued with its email;
//! - `GET /Users?filter=userName eq "…"`: the look-up Entra ID and Okta make before each create;
//! - `PATCH /Users/{id}` with `active` false then true: a member paused and resumed;
//! - `GET /Users?startIndex=50001&count=100`: a page deep in the list.
//!
//! Run with `cargo bench --features ssr --bench scim`.

#[path = "support/members.rs"]
mod members;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::StreamExt;
use onboard::server::db::scim_tokens::TokenDefaults;
use onboard::server::{db, AppState, Application, Settings};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const BATCH: u64 = 400;
const IN_FLIGHT: usize = 16;

/// The server on a fresh SQLite file with the 100,000-member organization and two tokens for
/// it, one holding invitations and one sending them. Returns the state, the SCIM base URL and
/// the tokens (held, sent).
async fn server() -> (AppState, String, String, String) {
    let dir = std::env::temp_dir().join("onboard-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("scim-{}.db", std::process::id()));
    let mut settings = Settings::default();
    settings.database.url = onboard::server::secret::Secret::new(format!("sqlite://{}", file.display()));
    settings.security.scim_requests_per_minute = 1_000_000_000;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/scim/v2", listener.local_addr().unwrap());
    let app = Application::build_on(settings, listener).await.unwrap();
    let state = app.state().clone();
    let (org, _) = members::hundred_thousand(&state, "owner@bench.example", "a long enough passphrase").await;
    let area: i64 = sqlx::query_scalar("SELECT id FROM service_areas WHERE org_id = $1")
        .bind(org)
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    let role: i64 = sqlx::query_scalar("SELECT id FROM roles WHERE org_id = $1 AND name = 'Member'")
        .bind(org)
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    let owner: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE email = 'owner@bench.example'")
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    let mut tokens = Vec::new();
    for (name, send_invitations) in [("held", false), ("sent", true)] {
        let token = format!("onb_scim_bench_{name}");
        let defaults = TokenDefaults { name, service_area_id: area, role_id: role, send_invitations };
        let mut tx = state.db.begin().await.unwrap();
        let hash = onboard::server::secret::token_hash(&token);
        db::scim_tokens::create(&mut tx, org, &hash, &defaults, owner).await.unwrap().unwrap();
        tx.commit().await.unwrap();
        tokens.push(token);
    }
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    (state, base, tokens.remove(0), tokens.remove(0))
}

/// `BATCH` requests made by `request(i)`, `IN_FLIGHT` at once, each checked to succeed.
async fn requests<F>(request: F, from: u64)
where
    F: Fn(u64) -> reqwest::RequestBuilder,
{
    let request = &request;
    futures::stream::iter(from..from + BATCH)
        .map(|i| async move {
            let answer = request(i).send().await.unwrap();
            assert!(answer.status().is_success(), "{}", answer.text().await.unwrap());
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<()>>()
        .await;
}

fn scim(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (state, base, held, sent) = rt.block_on(server());
    let http = reqwest::Client::new();
    let next = AtomicU64::new(0);
    let mut group = c.benchmark_group("SCIM /Users (SQLite, 100,000 members, 16 in flight)");
    group.throughput(Throughput::Elements(BATCH)).sample_size(10).measurement_time(Duration::from_secs(20));
    for (name, token) in [("POST /Users, invitation held", &held), ("POST /Users, invitation queued", &sent)] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let from = next.fetch_add(BATCH, Ordering::Relaxed);
                        let create = |i: u64| {
                            let user = json!({
                                "userName": format!("scim{i:07}@bench.example"),
                                "name": {"givenName": "Scim", "familyName": format!("User {i}")},
                                "externalId": format!("ext-{i}"),
                            });
                            http.post(format!("{base}/Users")).bearer_auth(token).json(&user)
                        };
                        requests(create, from).await;
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.bench_function("GET /Users?filter=userName eq", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let find = |i: u64| {
                        let filter = format!("userName eq \"member{:06}@bench.example\"", (i * 7_919) % 100_000);
                        http.get(format!("{base}/Users")).query(&[("filter", filter)]).bearer_auth(&held)
                    };
                    requests(find, 0).await;
                }
                start.elapsed()
            })
        })
    });
    // Registered Members (the Owner is the last, and may not be paused): paused, then resumed.
    let member_ids: Vec<i64> = rt.block_on(async {
        sqlx::query_scalar(
            "SELECT m.id FROM memberships m JOIN roles r ON r.id = m.role_id
             WHERE m.status = 'active' AND r.name = 'Member' ORDER BY m.id LIMIT $1",
        )
        .bind(BATCH as i64)
        .fetch_all(&state.db.pool)
        .await
        .unwrap()
    });
    group.bench_function("PATCH active false, then true (two requests each)", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    for active in ["False", "True"] {
                        let patch = |i: u64| {
                            let id = member_ids[(i % BATCH) as usize];
                            let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                "Operations": [{"op": "Replace", "path": "active", "value": active}]});
                            http.patch(format!("{base}/Users/{id}")).bearer_auth(&held).json(&body)
                        };
                        requests(patch, 0).await;
                    }
                }
                start.elapsed()
            })
        })
    });
    group.finish();

    let mut group = c.benchmark_group("SCIM /Users list (SQLite, 100,000 members)");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    group.bench_function("GET /Users?startIndex=50001&count=100", |b| {
        b.iter(|| {
            rt.block_on(async {
                let page = http.get(format!("{base}/Users?startIndex=50001&count=100")).bearer_auth(&held).send();
                assert!(page.await.unwrap().status().is_success());
            })
        })
    });
    group.finish();
}

criterion_group!(benches, scim);
criterion_main!(benches);
