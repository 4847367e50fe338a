//! Faults at scale, with real processes: several Onboard instances on one PostgreSQL database,
//! an instance killed with SIGKILL mid-batch, SMTP and Slack down for a while, the database's
//! connections cut. Each scenario reports its figures (`make faults` prints them); they run one
//! at a time, as each loads the machine on its own. Without PostgreSQL they are skipped with a
//! note, like the PostgreSQL half of the integration tests.

mod cluster;
#[path = "../integration/common/mod.rs"]
mod common;
mod load;

use cluster::{addresses, until, Cluster, Instance, Proxy, OWNER, PASSWORD};
use common::fakes::{FakeChat, Person};
use common::smtp::SmtpSink;
use common::Visitor;
use onboard::AppError;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const BATCH: usize = 20_000;

/// One scenario at a time: each wants the machine's two cores to itself.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Prints a scenario's figures and keeps them for `make faults` to show at the end.
fn report(line: String) {
    use std::io::Write;
    eprintln!("{line}");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("faults-report.txt");
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    writeln!(file, "{line}").unwrap();
}

/// How long SMTP and Slack stay down in the outage scenario (a minute unless told otherwise).
fn outage() -> Duration {
    let seconds = std::env::var("ONBOARD_FAULT_OUTAGE_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    Duration::from_secs(seconds)
}

/// Envelopes received per recipient, and the distinct Message-IDs per recipient.
fn deliveries(sink: &SmtpSink) -> (HashMap<String, usize>, HashMap<String, std::collections::HashSet<String>>) {
    let (mut envelopes, mut ids) = (HashMap::new(), HashMap::<String, std::collections::HashSet<String>>::new());
    for m in sink.messages() {
        for to in &m.rcpt_to {
            *envelopes.entry(to.clone()).or_insert(0) += 1;
            ids.entry(to.clone()).or_default().insert(m.message_id().expect("every email has a Message-ID"));
        }
    }
    (envelopes, ids)
}

/// A scenario's turn, its database and its SMTP sink; None when PostgreSQL is skipped.
async fn scenario() -> Option<(tokio::sync::MutexGuard<'static, ()>, Cluster, SmtpSink)> {
    let turn = ONE_AT_A_TIME.lock().await;
    let cluster = Cluster::new().await?;
    Some((turn, cluster, SmtpSink::start().await))
}

async fn signed_in_owner(instance: &Instance) -> Visitor {
    let owner = Visitor::new(&instance.base);
    owner.sign_in(OWNER, PASSWORD).await.expect("the Owner signs in");
    owner
}

async fn batch_progress(owner: &Visitor, batch: i64) -> serde_json::Value {
    owner.get("invite_batch", &[("id", &batch.to_string())]).await.expect("the batch view loads")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_instances_share_sessions_do_each_outbox_job_once_and_agree_on_progress() {
    let Some((_turn, cluster, sink)) = scenario().await else { return };
    let env = cluster.env(&sink);
    let (a, b) = (Instance::start("a", &env).await, Instance::start("b", &env).await);

    // Signed in on A, the same browser is signed in on B: sessions live in the database.
    let owner = signed_in_owner(&a).await;
    let on_b = owner.at(&b.base);
    assert_eq!(on_b.whoami().await["email"], OWNER);

    let started = Instant::now();
    let batch = cluster.invite(&owner, &addresses("several", BATCH)).await;
    let stored = started.elapsed();
    until("every invitation is delivered", Duration::from_secs(300), || async { sink.count() >= BATCH }).await;
    let delivered = started.elapsed();
    until("both instances' batch views show every invitation sent", Duration::from_secs(30), || async {
        batch_progress(&owner, batch).await["sent"] == BATCH && batch_progress(&on_b, batch).await["sent"] == BATCH
    })
    .await;

    // Each job done exactly once: one envelope per address, one attempt per job.
    let (envelopes, _) = deliveries(&sink);
    assert_eq!(envelopes.len(), BATCH);
    assert!(envelopes.values().all(|&n| n == 1), "an address got more than one invitation");
    assert_eq!(cluster.jobs_by_status().await, [("done".to_string(), BATCH as i64)]);
    assert!(cluster.batch_parts_done().await, "the batch's second part was stored and its job done");
    let attempts: i64 =
        sqlx::query_scalar("SELECT CAST(SUM(attempts) AS BIGINT) FROM outbox_jobs WHERE kind <> 'batch'")
            .fetch_one(&cluster.db)
            .await
            .unwrap();
    assert_eq!(attempts, BATCH as i64, "no job was attempted twice");
    // Both instances took part: workers are named after their instance.
    let workers: Vec<String> = sqlx::query_scalar("SELECT locked_by FROM outbox_jobs WHERE kind <> 'batch'")
        .fetch_all(&cluster.db)
        .await
        .unwrap();
    let mut by_instance: HashMap<String, usize> = HashMap::new();
    for w in workers {
        *by_instance.entry(w.rsplit_once('-').unwrap().0.to_string()).or_default() += 1;
    }
    assert_eq!(by_instance.len(), 2, "both instances delivered: {by_instance:?}");

    // The live progress bars read the same on both.
    let (overview_a, overview_b) = (owner.get("load_onboarding", &[]).await, on_b.get("load_onboarding", &[]).await);
    assert_eq!(overview_a.unwrap(), overview_b.unwrap());

    let shares: Vec<usize> = by_instance.values().copied().collect();
    let sending = delivered - stored;
    report(format!(
        "several instances: {BATCH} invitations stored in {:.2} s, then delivered by 2 instances ({} and {} jobs) in {:.1} s \
         ({:.0}/s); every address once, every job one attempt; sessions and progress shared",
        stored.as_secs_f64(),
        shares[0],
        shares[1],
        sending.as_secs_f64(),
        BATCH as f64 / sending.as_secs_f64()
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_killed_mid_batch_loses_no_invitation_and_the_restart_finishes_it() {
    let Some((_turn, cluster, sink)) = scenario().await else { return };
    let env = cluster.env(&sink);
    let first = Instance::start("crash", &env).await;
    let owner = signed_in_owner(&first).await;
    let batch = cluster.invite(&owner, &addresses("crash", BATCH)).await;

    until("a quarter of the batch is out", Duration::from_secs(120), || async { sink.count() >= BATCH / 4 }).await;
    first.kill();
    let at_kill = sink.count();
    let killed_at = Instant::now();
    let running: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox_jobs WHERE status = 'running' AND kind <> 'batch'")
            .fetch_one(&cluster.db)
            .await
            .unwrap();
    // Whether the kill caught the job that stores the batch after its first 10,000.
    let stored_at_kill: i64 = sqlx::query_scalar("SELECT deferred_stored FROM invite_batches WHERE id = $1")
        .bind(batch)
        .fetch_one(&cluster.db)
        .await
        .unwrap();

    let restarted = Instance::start("restart", &env).await;
    let owner = owner.at(&restarted.base);
    until("the restarted instance finishes the batch", Duration::from_secs(300), || async {
        let p = batch_progress(&owner, batch).await;
        p["remaining"] == 0 && p["preparing"] == 0
    })
    .await;
    let finished = killed_at.elapsed();

    let progress = batch_progress(&owner, batch).await;
    assert_eq!((progress["sent"].as_u64(), progress["failed"].as_u64()), (Some(BATCH as u64), Some(0)), "{progress}");
    let (envelopes, ids) = deliveries(&sink);
    assert_eq!(envelopes.len(), BATCH, "no invitation lost");
    // A message the sink accepted just before the kill, but whose job was not yet marked done,
    // goes again after the lease: with the same Message-ID, so the recipient's mail shows one.
    assert!(ids.values().all(|set| set.len() == 1), "an address got two different invitation emails");
    let resent: usize = envelopes.values().map(|n| n - 1).sum();
    assert!(resent as i64 <= running, "only jobs in flight at the kill may go twice: {resent} > {running}");
    assert_eq!(cluster.jobs_by_status().await, [("done".to_string(), BATCH as i64)]);
    assert!(cluster.batch_parts_done().await, "the batch's second part was stored and its job done");

    report(format!(
        "kill -9 mid-batch: killed after {at_kill} of {BATCH} delivered with {running} jobs in flight, {} of the {} \
         addresses after the first 10,000 stored; the restart finished the batch {:.1} s after the kill (10 s lease); \
         {BATCH} addresses reached, {resent} envelope(s) re-sent with the same Message-ID, confirmation view {BATCH} \
         sent / 0 failed",
        stored_at_kill,
        BATCH - onboard::server::invite_batches::STORED_WITH_THE_ANSWER,
        finished.as_secs_f64()
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn smtp_and_slack_down_for_a_while_mid_batch_everything_arrives_after_and_429_is_honoured() {
    let Some((_turn, cluster, sink)) = scenario().await else { return };
    let people: Vec<Person> = (0..20)
        .map(|i| Person::new(&format!("U{i:03}"), &format!("Slack {i}"), &format!("slack{i:05}@scale.example")))
        .collect();
    let slack = FakeChat::start(people.clone(), vec![]).await;
    let mut env = cluster.env(&sink);
    env.extend(slack.settings());
    let app = Instance::start("outage", &env).await;
    let owner = signed_in_owner(&app).await;
    let mut emails = addresses("outage", BATCH - people.len());
    emails.extend(people.iter().map(|p| p.email.clone()));
    let batch = cluster.invite(&owner, &emails).await;
    // The Slack people are in the batch's second part: members once it is stored.
    until("the whole batch is stored", Duration::from_secs(60), || async {
        batch_progress(&owner, batch).await["preparing"] == 0
    })
    .await;

    until("a tenth of the batch is out", Duration::from_secs(120), || async { sink.count() >= BATCH / 10 }).await;
    sink.set_down(true);
    slack.with(|r| r.slack_down = true);
    let down_at = Instant::now();
    let before_outage = sink.count();

    // Meanwhile an admin messages a team on Slack: its jobs meet the outage too.
    let team = owner.call("create_team", &[("name", "On Slack")]).await.unwrap().as_i64().unwrap();
    let listed: Vec<&str> = people.iter().map(|p| p.email.as_str()).collect();
    owner.call("add_team_members", &[("team", &team.to_string()), ("emails", &listed.join(","))]).await.unwrap();
    for p in &people {
        let member: i64 = sqlx::query_scalar(
            "SELECT m.id FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.email = $1",
        )
        .bind(&p.email)
        .fetch_one(&cluster.db)
        .await
        .unwrap();
        let form = [("provider", "slack"), ("member", &member.to_string()), ("external_id", &p.id)];
        owner.call("set_identity_mapping", &form).await.unwrap();
    }
    let send = owner
        .call("send_onboarding_message", &[("team", &team.to_string()), ("custom", "")])
        .await
        .unwrap()
        .as_i64()
        .unwrap();

    // While it is down, the views show what is true: what the server took, and no more.
    tokio::time::sleep(Duration::from_secs(5).min(outage())).await;
    let during = batch_progress(&owner, batch).await;
    assert_eq!(during["sent"].as_u64(), Some(sink.count() as u64), "{during}");
    assert_eq!(during["failed"], 0, "{during}");
    assert!(during["remaining"].as_u64().unwrap() > 0);
    let chat = owner.get("onboarding_send", &[("id", &send.to_string())]).await.unwrap();
    let statuses: Vec<&str> =
        chat["recipients"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert!(statuses.iter().all(|s| *s == "queued"), "nothing shows delivered while Slack is down: {chat}");
    let retrying: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox_jobs WHERE status = 'queued' AND attempts > 0")
        .fetch_one(&cluster.db)
        .await
        .unwrap();
    assert!(retrying > 0, "failed attempts are queued again with a backoff");

    tokio::time::sleep(outage().saturating_sub(down_at.elapsed())).await;
    slack.with(|r| {
        r.slack_down = false;
        r.slack_rate_limited = 3;
    });
    sink.set_down(false);
    let up_at = Instant::now();
    until("everything is delivered after the outage", outage() + Duration::from_secs(300), || async {
        sink.count() >= BATCH && slack.with(|r| r.slack_messages.len()) >= people.len()
    })
    .await;
    let caught_up = up_at.elapsed();
    until("both views settle", Duration::from_secs(30), || async {
        let chat = owner.get("onboarding_send", &[("id", &send.to_string())]).await.unwrap();
        batch_progress(&owner, batch).await["remaining"] == 0
            && chat["recipients"].as_array().unwrap().iter().all(|r| r["status"] == "delivered")
    })
    .await;

    let (envelopes, _) = deliveries(&sink);
    assert_eq!(envelopes.len(), BATCH);
    assert!(envelopes.values().all(|&n| n == 1), "no invitation went twice");
    assert_eq!(cluster.jobs_by_status().await, [("done".to_string(), (BATCH + people.len()) as i64)]);
    // A 429's Retry-After (1 s) was waited out before that message was tried again.
    let posts = slack.with(|r| r.slack_posts.clone());
    let limited: Vec<_> = posts.iter().filter(|p| p.2).collect();
    assert_eq!(limited.len(), 3);
    for (to, at, _) in &limited {
        let next = posts.iter().find(|(t, a, _)| t == to && a > at).expect("a rate-limited message is tried again");
        assert!(next.1.duration_since(*at) >= Duration::from_secs(1), "Retry-After was not honoured for {to}");
    }
    assert_eq!(slack.with(|r| r.slack_messages.len()), people.len(), "each Slack message went once");
    let attempts: i64 =
        sqlx::query_scalar("SELECT CAST(SUM(attempts) AS BIGINT) FROM outbox_jobs WHERE kind <> 'batch'")
            .fetch_one(&cluster.db)
            .await
            .unwrap();

    report(format!(
        "outage: SMTP and Slack down {} s after {before_outage} of {BATCH} invitations; {} failed attempts retried with backoff; \
         all {BATCH} emails and {} Slack messages delivered {:.1} s after recovery, none twice; 3 × 429 waited out",
        outage().as_secs(),
        attempts - (BATCH + people.len()) as i64,
        people.len(),
        caught_up.as_secs_f64()
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_database_dropping_away_fails_requests_cleanly_and_the_app_recovers_by_itself() {
    let Some((_turn, cluster, sink)) = scenario().await else { return };
    let direct = reqwest::Url::parse(&cluster.database_url).unwrap();
    let proxy = Proxy::start(format!("{}:{}", direct.host_str().unwrap(), direct.port().unwrap_or(5432))).await;
    let mut proxied = direct.clone();
    proxied.set_host(Some("127.0.0.1")).unwrap();
    proxied.set_port(Some(proxy.port)).unwrap();
    let mut env = cluster.env(&sink);
    env.retain(|(k, _)| *k != "DATABASE_URL");
    env.push(("DATABASE_URL", proxied.to_string()));
    env.push(("ONBOARD_DB_ACQUIRE_TIMEOUT_SECONDS", "2".into()));
    let app = Instance::start("database", &env).await;
    let owner = signed_in_owner(&app).await;
    let before = cluster.invite(&owner, &addresses("before", 100)).await;
    until("the first invitations are out", Duration::from_secs(60), || async { sink.count() >= 100 }).await;

    proxy.cut();
    // Every request is answered, quickly and plainly: 503, "cannot reach its database".
    let mut slowest = Duration::ZERO;
    for _ in 0..5 {
        let asked = Instant::now();
        let answer = owner.get("invite_batch", &[("id", &before.to_string())]).await;
        slowest = slowest.max(asked.elapsed());
        assert!(matches!(answer, Err((503, AppError::Unavailable))), "{answer:?}");
    }
    let form = [
        ("emails", "lost@scale.example".to_string()),
        ("area", cluster.area.to_string()),
        ("role", cluster.role.to_string()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = owner.call("send_invites", &form).await;
    assert!(matches!(refused, Err((503, AppError::Unavailable))), "{refused:?}");
    let page = owner.page("/users").await;
    assert!(page.status().is_server_error(), "the page says it failed rather than hanging: {}", page.status());
    let ready = owner.client.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(ready.status(), 503, "readiness reports the database gone");
    tokio::time::sleep(Duration::from_secs(5)).await;

    proxy.restore();
    let restored = Instant::now();
    until("the app answers again without a restart", Duration::from_secs(60), || async {
        owner.get("invite_batch", &[("id", &before.to_string())]).await.is_ok()
    })
    .await;
    let recovered = restored.elapsed();
    // The same session still works, the refused invitation was never stored, new work flows.
    assert_eq!(owner.whoami().await["email"], OWNER);
    let lost: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE email = 'lost@scale.example'")
        .fetch_one(&cluster.db)
        .await
        .unwrap();
    assert_eq!(lost, 0);
    cluster.invite(&owner, &addresses("after", 100)).await;
    until("invitations flow again", Duration::from_secs(60), || async { sink.count() >= 200 }).await;
    assert_eq!(cluster.jobs_by_status().await, [("done".to_string(), 200)]);
    assert!(std::fs::metadata(format!("/proc/{}", app.pid)).is_ok(), "the same process throughout");

    report(format!(
        "database connection cut for 5 s: requests answered 503 within {:.2} s (2 s acquire timeout), nothing half-stored; \
         serving again {:.2} s after the database came back, same process, same session",
        slowest.as_secs_f64(),
        recovered.as_secs_f64()
    ));
}
