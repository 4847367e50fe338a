//! Budgets (issue 4), on SQLite with 100,000 members in 1,000 teams: the dashboard's data at
//! most 50 ms p50, the whole server-rendered page at most 100 ms p50; queuing a message to a
//! team of 1,000 members at most 500 ms. Run with `cargo bench --features ssr --bench onboarding`.

#[path = "support/members.rs"]
mod members;

use criterion::{criterion_group, criterion_main, Criterion};
use onboard::domain::onboarding::TeamFilter;
use onboard::server::auth::Caller;
use onboard::server::{db, onboarding, AppState, Application, Settings};
use std::time::{Duration, Instant};

const PASSWORD: &str = "bench owner passphrase";

fn settings(url: &str) -> Settings {
    let mut settings = Settings::default();
    settings.database.url = onboard::server::secret::Secret::new(url);
    settings
}

/// The seeded SQLite database's URL, the organization and its team "Big".
async fn seeded() -> (String, i64, i64) {
    let dir = std::env::temp_dir().join("onboard-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join(format!("onboarding-{}.db", std::process::id())).display());
    let state = AppState::new(settings(&url)).await.unwrap();
    let (org, big) = members::hundred_thousand(&state, "owner@bench.example", PASSWORD).await;
    (url, org, big)
}

fn dashboard(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (url, org, big) = rt.block_on(seeded());
    let state = rt.block_on(AppState::new(settings(&url))).unwrap();
    // The page opens on the first page of teams.
    let first_teams = TeamFilter { page: 1, ..TeamFilter::default() };
    let mut group = c.benchmark_group("onboarding dashboard, 100,000 members in 1,000 teams (SQLite)");
    group.bench_function("dashboard data (teams with progress, organization by status)", |b| {
        b.iter(|| {
            rt.block_on(async {
                (
                    db::teams::summaries(&state.db, org, &first_teams).await.unwrap(),
                    db::teams::overall(&state.db, org).await.unwrap(),
                )
            })
        })
    });
    group.bench_function("one team's members page", |b| {
        b.iter(|| rt.block_on(async { db::teams::members(&state.db, org, big, 1).await.unwrap() }))
    });

    // The real server, signed in over HTTP as a browser would be.
    let (base, client) = rt.block_on(async {
        let mut s = settings(&url);
        s.server.site_addr = "127.0.0.1:0".parse().unwrap();
        // Its workers stay idle: the messages queued below are not what this measures.
        s.outbox.poll_millis = 3_600_000;
        let app = Application::build(s).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
        let signed = client
            .post(format!("{base}/api/sign_in"))
            .header("accept", "application/json")
            .header("origin", "http://127.0.0.1:3000")
            .form(&[("email", "owner@bench.example"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert!(signed.status().is_success(), "{}", signed.text().await.unwrap());
        (base, client)
    });
    group.bench_function("full server render of /onboarding", |b| {
        b.iter(|| {
            rt.block_on(async {
                let html = client.get(format!("{base}/onboarding")).send().await.unwrap().text().await.unwrap();
                assert!(html.contains("Team 0999"));
            })
        })
    });
    group.finish();

    let caller = rt.block_on(async {
        let account: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE email = 'owner@bench.example'")
            .fetch_one(&state.db.pool)
            .await
            .unwrap();
        let membership = db::accounts::active_membership(&state.db, account, org).await.unwrap().unwrap();
        Caller { account_id: account, org_id: org, permissions: membership.permission_set(), membership }
    });
    let mut group = c.benchmark_group("onboarding messages (SQLite)");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("queue a message to a team of 1,000 members", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    onboarding::send(&state, &caller, Some(big), None, "Please **finish** registering today.")
                        .await
                        .unwrap();
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, dashboard);
criterion_main!(benches);
