//! Budgets (issue 4), on SQLite with 100,000 members in 1,000 teams: the dashboard's data at
//! most 50 ms p50, the whole server-rendered page at most 100 ms p50; queuing a message to a
//! team of 1,000 members at most 500 ms. Run with `cargo bench --features ssr --bench onboarding`.

use criterion::{criterion_group, criterion_main, Criterion};
use onboard::server::auth::Caller;
use onboard::server::{auth, bootstrap, db, onboarding, AppState, Application, Settings};
use std::time::{Duration, Instant};

const PASSWORD: &str = "bench owner passphrase";

fn settings(url: &str) -> Settings {
    let mut settings = Settings::default();
    settings.set("DATABASE_URL", url).unwrap();
    settings
}

/// A database with 100,000 members (40% registered) in 1,000 teams of 100, some mapped to Slack
/// and some notified, plus a team "Big" of 1,000 people still to register. Returns its URL.
async fn seeded() -> (String, i64, i64) {
    let dir = std::env::temp_dir().join("onboard-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join(format!("onboarding-{}.db", std::process::id())).display());
    let state = AppState::new(settings(&url)).await.unwrap();
    let owner = bootstrap::create_owner(&state, "owner@bench.example", Some("Bench")).await.unwrap();
    let org = owner.org_id;
    let mut tx = state.db.pool.begin().await.unwrap();
    for chunk in (0..101_000).collect::<Vec<i64>>().chunks(500) {
        let rows: Vec<String> =
            chunk.iter().map(|i| format!("('member{i:06}@bench.example', 'First{i}', 'Last{i}', 0)")).collect();
        sqlx::query(&format!(
            "INSERT INTO accounts (email, first_name, last_name, created_at) VALUES {}",
            rows.join(", ")
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    let role: i64 = sqlx::query_scalar("SELECT id FROM roles WHERE org_id = $1 AND name = 'Member'")
        .bind(org)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO memberships (org_id, account_id, role_id, status, created_at, notified_at)
         SELECT $1, id, $2, CASE WHEN id % 5 < 2 AND email < 'member100000' THEN 'active' ELSE 'pending' END, 0,
                CASE WHEN id % 10 = 3 AND email < 'member100000' THEN 1 ELSE NULL END
         FROM accounts WHERE email LIKE 'member%'",
    )
    .bind(org)
    .bind(role)
    .execute(&mut *tx)
    .await
    .unwrap();
    for chunk in (0..1_000).collect::<Vec<i64>>().chunks(500) {
        let rows: Vec<String> = chunk.iter().map(|i| format!("({org}, 'Team {i:04}', 0)")).collect();
        sqlx::query(&format!("INSERT INTO teams (org_id, name, created_at) VALUES {}", rows.join(", ")))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    let big: i64 =
        sqlx::query_scalar("INSERT INTO teams (org_id, name, created_at) VALUES ($1, 'Big', 0) RETURNING id")
            .bind(org)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    sqlx::query(
        "INSERT INTO team_members (team_id, membership_id, added_at)
         SELECT t.id, m.id, 0 FROM memberships m JOIN accounts a ON a.id = m.account_id
         JOIN teams t ON t.org_id = m.org_id AND t.name = 'Team 0' || substr(a.email, 10, 3)
         WHERE m.org_id = $1 AND a.email < 'member100000'",
    )
    .bind(org)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO team_members (team_id, membership_id, added_at)
         SELECT $2, m.id, 0 FROM memberships m JOIN accounts a ON a.id = m.account_id
         WHERE m.org_id = $1 AND a.email >= 'member100000' AND a.email LIKE 'member%'",
    )
    .bind(org)
    .bind(big)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO identity_mappings (org_id, membership_id, provider, external_id, external_name, source, created_at)
         SELECT org_id, id, 'slack', 'U' || id, '', 'email', 0 FROM memberships WHERE org_id = $1 AND id % 10 = 7",
    )
    .bind(org)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    sqlx::query("ANALYZE").execute(&state.db.pool).await.unwrap();
    let account = auth::hash_password(onboard::server::secret::Secret::new(PASSWORD)).await.unwrap();
    let owner_account: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE email = 'owner@bench.example'")
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    let mut tx = state.db.pool.begin().await.unwrap();
    db::accounts::set_password_hash(&mut tx, owner_account, &account).await.unwrap();
    tx.commit().await.unwrap();
    (url, org, big)
}

fn dashboard(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (url, org, big) = rt.block_on(seeded());
    let state = rt.block_on(AppState::new(settings(&url))).unwrap();
    let mut group = c.benchmark_group("onboarding dashboard, 100,000 members in 1,000 teams (SQLite)");
    group.bench_function("dashboard data (teams with progress, organization by status)", |b| {
        b.iter(|| {
            rt.block_on(async {
                (db::teams::summaries(&state.db, org).await.unwrap(), db::teams::overall(&state.db, org).await.unwrap())
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
