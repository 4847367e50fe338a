//! The load run (`make load`): a signed-in load generator on loopback against the main pages and
//! server functions of a real instance holding a large organization (`onboard dev seed`;
//! `ONBOARD_LOAD_MEMBERS`, 100,000 unless told), on SQLite and on PostgreSQL. It records
//! throughput, p50/p99 latency and the server's memory, and requires no errors; it asserts
//! nothing about time (the figures go to the report and BENCHMARKS.md).

use crate::cluster::{until, Instance, OWNER, PASSWORD};
use crate::common::{self, smtp::SmtpSink, Backend, Visitor};
use crate::report;
use onboard::domain::grouped;
use onboard::server::seed::{large_organization, Plan, PER_TRANSACTION};
use onboard::server::{db, AppState};
use std::time::{Duration, Instant};

/// Requests in flight at once.
const CONNECTIONS: usize = 16;

fn seconds_per_target() -> Duration {
    let seconds = std::env::var("ONBOARD_LOAD_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    Duration::from_secs(seconds)
}

fn members() -> i64 {
    std::env::var("ONBOARD_LOAD_MEMBERS").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000)
}

/// `members` in `members / 100` teams, plus team "Big" holding one member in a hundred; the
/// Owner [`OWNER`] signs in with [`PASSWORD`]. Returns the organization and team Big.
async fn seed(state: &AppState, members: i64) -> (i64, i64) {
    let plan = Plan { members, teams: (members / 100).max(1), owner: OWNER.into(), per_transaction: PER_TRANSACTION };
    let org = large_organization(state, &plan).await.unwrap().org_id;
    let big: i64 =
        sqlx::query_scalar("INSERT INTO teams (org_id, name, created_at) VALUES ($1, 'Big', 0) RETURNING id")
            .bind(org)
            .fetch_one(&state.db.pool)
            .await
            .unwrap();
    sqlx::query(
        "INSERT INTO team_members (team_id, membership_id, added_at, email)
         SELECT $2, id, 0, email FROM memberships WHERE org_id = $1 AND id % 100 = 42",
    )
    .bind(org)
    .bind(big)
    .execute(&state.db.pool)
    .await
    .unwrap();
    let hash = onboard::server::sign_in::hash_password(onboard::server::secret::Secret::new(PASSWORD)).await.unwrap();
    let owner: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE email = $1")
        .bind(OWNER)
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    let mut tx = state.db.pool.begin().await.unwrap();
    db::accounts::set_password_hash(&mut tx, owner, &hash).await.unwrap();
    tx.commit().await.unwrap();
    onboard::server::seed::settle(&state.db).await.unwrap();
    (org, big)
}

/// One thing to ask for: a page or a server function.
struct Target {
    name: String,
    method: reqwest::Method,
    path: String,
    form: Vec<(&'static str, String)>,
    /// Text the answer must contain, so an error page cannot pass for a success.
    expect: &'static str,
}

impl Target {
    fn get(name: impl Into<String>, path: &str, expect: &'static str) -> Self {
        Self { name: name.into(), method: reqwest::Method::GET, path: path.into(), form: vec![], expect }
    }
}

struct Measured {
    requests: usize,
    errors: usize,
    elapsed: Duration,
    latencies_us: Vec<u64>,
}

impl Measured {
    fn percentile_ms(&self, p: f64) -> f64 {
        let i = ((self.latencies_us.len() as f64 * p).ceil() as usize).clamp(1, self.latencies_us.len()) - 1;
        self.latencies_us[i] as f64 / 1000.0
    }
}

async fn hammer(visitor: &Visitor, target: &Target, length: Duration) -> Measured {
    let deadline = Instant::now() + length;
    let started = Instant::now();
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (client, url) = (visitor.client.clone(), format!("{}{}", visitor.base, target.path));
            let (method, form, expect) = (target.method.clone(), target.form.clone(), target.expect);
            // A server function asked for HTML answers as to a form posted without JavaScript.
            let accept = if target.path.starts_with("/api/") { "application/json" } else { "text/html" };
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0usize);
                while Instant::now() < deadline {
                    let asked = Instant::now();
                    let request = client.request(method.clone(), &url).header("accept", accept);
                    let request = if form.is_empty() { request } else { request.form(&form) };
                    let ok = match request.send().await {
                        Ok(res) if res.status().is_success() => {
                            res.text().await.is_ok_and(|body| body.contains(expect))
                        }
                        _ => false,
                    };
                    latencies.push(asked.elapsed().as_micros() as u64);
                    errors += usize::from(!ok);
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut latencies_us, mut errors) = (Vec::new(), 0);
    for worker in workers {
        let (l, e) = worker.await.unwrap();
        latencies_us.extend(l);
        errors += e;
    }
    latencies_us.sort_unstable();
    Measured { requests: latencies_us.len(), errors, elapsed: started.elapsed(), latencies_us }
}

async fn database(backend: Backend) -> Option<String> {
    if backend == Backend::Postgres && common::postgres_skipped() {
        return None;
    }
    Some(common::fresh_database_url(backend).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes long: run by `make load`"]
async fn load_on_the_main_pages_and_server_functions_of_a_large_organization() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let members = members();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(url) = database(backend).await else { continue };
        let seeding = Instant::now();
        let settings = common::test_settings(&url);
        let secret_key = settings.security.secret_key.expose().to_string();
        let (org, big, db) = {
            let state = AppState::new(settings).await.unwrap();
            let (org, big) = seed(&state, members).await;
            // For the test's own reads; the instance has its own pool.
            (org, big, state.db.pool.clone())
        };
        let seeded = seeding.elapsed();
        let sink = SmtpSink::start().await;
        let env = [("DATABASE_URL", url.clone()), ("ONBOARD_SECRET_KEY", secret_key), ("ONBOARD_SMTP_URL", sink.url())];
        let app = Instance::start("load", &env).await;
        let owner = Visitor::new(&app.base);
        owner.sign_in(OWNER, PASSWORD).await.unwrap();
        let (idle_rss, _) = app.memory_kib();
        // Half of them members already, half new.
        let paste: Vec<String> = (0..1_000)
            .map(|i| {
                if i % 2 == 0 {
                    format!("member{}.{org}@seed.example", i * 97 + 1)
                } else {
                    format!("new{i:04}@load.example")
                }
            })
            .collect();
        let (all, big_team) = (grouped(members + 1), grouped(members / 100));
        let list = |query: &str| format!("/api/list_members?{query}");
        let targets = [
            Target::get("GET /healthz (baseline)", "/healthz", "ok"),
            Target::get(format!("page /users, first of {all}"), "/users", "member"),
            Target::get("page /users, Pending", "/users?status=pending", "member"),
            Target::get("page /users, name search", "/users?q=First4242", "First4242"),
            Target::get("page /users, address search", "/users?q=member4242", "member4242"),
            Target::get("page /users, last page", "/users?last=1", "member"),
            Target::get("fn list_members, first page", &list(""), "member"),
            Target::get("fn list_members, Pending", &list("filter%5Bstatus%5D=Pending"), "member"),
            Target::get("fn list_members, name search", &list("filter%5Bsearch%5D=First4242"), "First4242"),
            Target::get("fn list_members, address search", &list("filter%5Bsearch%5D=member4242"), "member4242"),
            Target::get("fn list_members, last page", &list("filter%5Blast%5D=true"), "member"),
            Target::get(format!("page /onboarding ({} teams)", grouped(members / 100)), "/onboarding", "Team 0"),
            Target::get("fn load_onboarding (live bars)", "/api/load_onboarding", "Team 0"),
            Target::get(
                format!("fn team_members, team of {big_team}"),
                &format!("/api/team_members?team={big}&page=1"),
                "member",
            ),
            Target {
                name: "fn check_invites, 1,000 addresses".into(),
                method: reqwest::Method::POST,
                path: "/api/check_invites".into(),
                form: vec![("emails", paste.join("\n"))],
                expect: r#"["New","#,
            },
        ];
        let label = match backend {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        };
        report(format!(
            "\nload, {label}: {all} members in {} teams (seeded in {:.0} s), {CONNECTIONS} connections, {} s per target; idle server {} MiB\n\
             | target | requests/s | p50 ms | p99 ms | max ms | errors |\n|---|---|---|---|---|---|",
            grouped(members / 100),
            seeded.as_secs_f64(),
            seconds_per_target().as_secs(),
            idle_rss / 1024
        ));
        let mut errors = 0;
        for target in &targets {
            let m = hammer(&owner, target, seconds_per_target()).await;
            errors += m.errors;
            report(format!(
                "| {} | {:.0} | {:.1} | {:.1} | {:.1} | {} of {} |",
                target.name,
                m.requests as f64 / m.elapsed.as_secs_f64(),
                m.percentile_ms(0.50),
                m.percentile_ms(0.99),
                *m.latencies_us.last().unwrap() as f64 / 1000.0,
                m.errors,
                m.requests
            ));
        }
        let (rss, peak) = app.memory_kib();
        report(format!(
            "server memory ({label}): {} MiB resident after the run, {} MiB at its peak",
            rss / 1024,
            peak / 1024
        ));
        assert_eq!(errors, 0, "every request under load was answered correctly");

        // A batch through the page's server function into the same organization, delivered
        // by this instance; on PostgreSQL a second batch is delivered by two instances.
        let mut instances = vec![app];
        let rounds = if backend == Backend::Postgres { 2 } else { 1 };
        for round in 1..=rounds {
            if round == 2 {
                instances.push(Instance::start("load-b", &env).await);
            }
            let batch = batch_run(&owner, &sink, &db, &format!("round{round}-")).await;
            let memory: Vec<String> = instances
                .iter()
                .map(|i| i.memory_kib())
                .map(|(rss, peak)| format!("{} MiB ({} MiB peak)", rss / 1024, peak / 1024))
                .collect();
            report(format!(
                "batch ({label}, {} instance{}): {} invitations accepted in {:.2} s over HTTP ({:.1} MB pasted), \
                 all stored {:.1} s after the paste, delivered to the SMTP sink in {:.1} s from the answer \
                 ({:.0} emails/s), {:.1} jobs per claim; server memory after: {}",
                instances.len(),
                if instances.len() == 1 { "" } else { "s" },
                grouped(BATCH as i64),
                batch.stored.as_secs_f64(),
                batch.pasted_bytes as f64 / 1e6,
                batch.all_stored.as_secs_f64(),
                batch.delivered.as_secs_f64(),
                BATCH as f64 / batch.delivered.as_secs_f64(),
                batch.jobs_per_claim,
                memory.join(", ")
            ));
        }
        instances.into_iter().for_each(Instance::kill);
    }
}

/// The invitation batch of the load run: the largest the page takes.
const BATCH: usize = onboard::domain::email_list::MAX_BATCH;

struct BatchRun {
    pasted_bytes: usize,
    /// Until the answer: the batch accepted and its first 10,000 stored.
    stored: Duration,
    /// Until every address of the batch is a pending member with its invitation queued.
    all_stored: Duration,
    /// From the answer until the sink has every email.
    delivered: Duration,
    /// How many of the batch's emails one claim statement took on average: one per worker
    /// waiting for a job when it ran.
    jobs_per_claim: f64,
}

/// Pastes `BATCH` new addresses into `send_invites` (as the Invite users page does), then waits
/// for the sink to have them all.
async fn batch_run(owner: &Visitor, sink: &SmtpSink, db: &sqlx::AnyPool, prefix: &str) -> BatchRun {
    let form = owner.get("invite_form", &[]).await.unwrap();
    let area = form["areas"][0]["id"].as_i64().unwrap().to_string();
    let role = form["roles"].as_array().unwrap().iter().find(|r| r["name"] == "Member").unwrap()["id"].to_string();
    let paste: String = (0..BATCH).map(|i| format!("{prefix}{i:06}@batch.example\n")).collect();
    let before = sink.count();
    let started = Instant::now();
    let batch = owner
        .call("send_invites", &[("emails", &paste), ("area", &area), ("role", &role)])
        .await
        .expect("the batch is accepted");
    let stored = started.elapsed();
    let delivering = Instant::now();
    // The answer comes once the first 10,000 are stored; the rest is stored while emails go out.
    let all_stored = std::sync::Mutex::new(None);
    let id = batch.as_i64().expect("a batch id").to_string();
    until("every invitation of the batch is delivered", Duration::from_secs(600), || async {
        if all_stored.lock().unwrap().is_none() {
            let progress = owner.get("invite_batch", &[("id", &id)]).await.expect("the batch view loads");
            if progress["preparing"] == 0 {
                *all_stored.lock().unwrap() = Some(started.elapsed());
            }
        }
        sink.count() >= before + BATCH
    })
    .await;
    let delivered = delivering.elapsed();
    let all_stored = all_stored.into_inner().unwrap().expect("stored before delivered");
    // Each claim statement names its worker `{instance}-{claim}`, and a done job keeps the name.
    let (jobs, claims): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT locked_by) FROM outbox_jobs WHERE kind = 'email' AND recipient LIKE $1",
    )
    .bind(format!("{prefix}%"))
    .fetch_one(db)
    .await
    .unwrap();
    BatchRun { pasted_bytes: paste.len(), stored, all_stored, delivered, jobs_per_claim: jobs as f64 / claims as f64 }
}
