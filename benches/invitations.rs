//! Budgets (issue 3): store a batch of 10,000 invitations with their outbox jobs on SQLite
//! in at most 300 ms; deliver to a loopback SMTP sink at 1,300 emails/s or more.
//! Run with `cargo bench --features ssr --bench invitations`.

#[path = "../tests/integration/common/smtp.rs"]
#[allow(dead_code)]
mod smtp;

use criterion::{criterion_group, criterion_main, Criterion};
use onboard::server::auth::Caller;
use onboard::server::{bootstrap, db, invite_batches, jobs, AppState, Settings};
use std::time::{Duration, Instant};

async fn fresh_state(smtp_url: Option<&str>) -> (AppState, Caller, i64, i64) {
    let dir = std::env::temp_dir().join("onboard-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("b-{}-{}.db", std::process::id(), rand_suffix()));
    let mut settings = Settings::default();
    settings.database.url = onboard::server::secret::Secret::new(&format!("sqlite://{}", file.display()));
    if let Some(url) = smtp_url {
        settings.mail.smtp_url = onboard::server::secret::Secret::new(url);
    }
    // The shipped defaults: 16 outbox workers and 16 pooled SMTP connections per instance.
    settings.outbox.workers = 16;
    settings.outbox.poll_millis = 20;
    let state = AppState::new(settings).await.unwrap();
    let owner = bootstrap::create_owner(&state, "owner@bench.example", Some("Bench")).await.unwrap();
    let account: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE email = 'owner@bench.example'")
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    let membership = db::accounts::active_membership(&state.db, account, owner.org_id).await.unwrap().unwrap();
    let caller =
        Caller { account_id: account, org_id: owner.org_id, permissions: membership.permission_set(), membership };
    let area: i64 = sqlx::query_scalar("SELECT id FROM service_areas WHERE org_id = $1")
        .bind(owner.org_id)
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    let role: i64 = sqlx::query_scalar("SELECT id FROM roles WHERE org_id = $1 AND name = 'Member'")
        .bind(owner.org_id)
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    (state, caller, area, role)
}

/// Runs the job that stores a batch's addresses after those stored with the answer, if there is
/// one, as a worker would: the figure is for the whole batch stored.
async fn store_deferred_parts(state: &AppState) {
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'batch' AND status = 'queued'")
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    if queued == 0 {
        return;
    }
    let cursor = db::outbox_claims::QueueCursor::new(Duration::from_millis(20));
    let job = db::outbox_claims::claim(&state.db, "bench", 60_000, &cursor)
        .await
        .unwrap()
        .expect("the batch's job comes first");
    let Ok(onboard::server::outbox::JobPayload::InvitationBatch(rest)) = serde_json::from_str(&job.payload) else {
        panic!("not the batch's job: {}", job.kind)
    };
    let running = tokio_util::sync::CancellationToken::new();
    let outcome = invite_batches::store_deferred(state, "bench", &job, &rest, &running).await;
    assert!(matches!(outcome, Some(Ok(_))), "{outcome:?}");
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}

fn paste(n: usize) -> String {
    (0..n).map(|i| format!("Person {i} <person{i}@bench.example>\n")).collect()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut group = c.benchmark_group("invitations");
    group.sample_size(10).measurement_time(Duration::from_secs(30));
    let text = paste(10_000);
    // A batch larger than the request stores is finished by the outbox: both are timed.
    group.bench_function("store a batch of 10,000 invitations with their outbox jobs (SQLite)", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (state, caller, area, role) = fresh_state(None).await;
                    let start = Instant::now();
                    invite_batches::send_batch(&state, &caller, &text, area, role).await.unwrap();
                    store_deferred_parts(&state).await;
                    total += start.elapsed();
                }
                total
            })
        })
    });
    group.finish();

    // Delivery throughput: 5,000 queued invitation emails drained by one instance's workers.
    rt.block_on(async {
        let sink = smtp::SmtpSink::start().await;
        let (state, caller, area, role) = fresh_state(Some(&sink.url())).await;
        invite_batches::send_batch(&state, &caller, &paste(5_000), area, role).await.unwrap();
        let stop = tokio_util::sync::CancellationToken::new();
        let start = Instant::now();
        let workers = jobs::spawn_workers(state.clone(), stop.clone());
        while sink.messages().len() < 5_000 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let elapsed = start.elapsed();
        stop.cancel();
        let _ = workers.await;
        println!(
            "deliver 5,000 emails to a loopback SMTP sink: {:.2} s, {:.0} emails/s",
            elapsed.as_secs_f64(),
            5_000.0 / elapsed.as_secs_f64()
        );
    });
}

/// The Users list with 100,000 members: a page, a search, a status filter, the last page.
fn users_list(c: &mut Criterion) {
    use onboard::domain::members::MemberFilter;
    use onboard::domain::MembershipStatus;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (state, caller) = rt.block_on(async {
        let (state, caller, area, role) = fresh_state(None).await;
        let mut tx = state.db.pool.begin().await.unwrap();
        for chunk in (0..100_000).collect::<Vec<i64>>().chunks(500) {
            let rows: Vec<String> = chunk.iter().map(|i| format!("('member{i:06}@bench.example', 'First{i}', 'Last{i}', 0)")).collect();
            sqlx::query(&format!("INSERT INTO accounts (email, first_name, last_name, created_at) VALUES {}", rows.join(", ")))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        sqlx::query(
            "INSERT INTO memberships (org_id, account_id, service_area_id, role_id, status, created_at)
             SELECT $1, id, $2, $3, CASE WHEN id % 4 = 0 THEN 'pending' ELSE 'active' END, 0 FROM accounts WHERE email LIKE 'member%'",
        )
        .bind(caller.org_id)
        .bind(area)
        .bind(role)
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        (state, caller)
    });
    let mut group = c.benchmark_group("users list, 100,000 members (SQLite)");
    let cases = [
        ("first page", MemberFilter::default()),
        ("search", MemberFilter { search: "member09999".into(), ..Default::default() }),
        ("pending only", MemberFilter { status: Some(MembershipStatus::Pending), ..Default::default() }),
        ("last page", MemberFilter { last: true, ..Default::default() }),
    ];
    for (name, filter) in cases {
        group.bench_function(name, |b| {
            b.iter(|| rt.block_on(async { db::member_list::page(&state.db, caller.org_id, &filter).await.unwrap() }))
        });
    }
    group.finish();
}

criterion_group!(benches, bench, users_list);
criterion_main!(benches);
