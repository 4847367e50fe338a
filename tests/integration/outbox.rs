use crate::common::smtp::SmtpSink;
use crate::common::{Backend, TestApp};
use onboard::server::db::outbox_claims::{self, QueueCursor};
use onboard::server::db::{self, outbox};
use std::collections::HashSet;

const PASSWORD: &str = "a long enough passphrase";

async fn status_of(app: &TestApp, id: i64) -> (String, i64, Option<String>, Option<String>) {
    sqlx::query_as("SELECT status, attempts, last_error, delivery FROM outbox_jobs WHERE id = $1")
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

async fn a_test_email_is_delivered_through_smtp_as_plain_text_and_html(backend: Backend) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = TestApp::start_with(backend, |s| s.mail.smtp_url = onboard::server::secret::Secret::new(&url)).await;
    app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    owner.call("send_test_email", &[]).await.unwrap();
    app.eventually("the sink has the message", || async { !sink.messages().is_empty() }).await;
    let message = &sink.messages()[0];
    assert_eq!(message.rcpt_to, ["owner@acme.example"]);
    assert!(message.data.contains("Subject: Test email from Onboard for Acme"), "{}", message.data);
    assert!(message.data.contains("text/plain") && message.data.contains("text/html"));
    let job = owner.get("load_outbox", &[]).await.unwrap();
    app.eventually("the job is recorded as delivered", || async {
        owner.get("load_outbox", &[]).await.unwrap()["jobs"][0]["status"] == "done"
    })
    .await;
    assert_eq!(job["smtp_configured"], true);
    app.stop().await;
}

async fn without_smtp_emails_are_logged_and_kept_for_admins_to_read(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    owner.call("send_test_email", &[]).await.unwrap();
    app.eventually("the job is done", || async { owner.get("load_outbox", &[]).await.unwrap()["counts"]["done"] == 1 })
        .await;
    let overview = owner.get("load_outbox", &[]).await.unwrap();
    assert_eq!(overview["smtp_configured"], false);
    let job = &overview["jobs"][0];
    assert_eq!(job["delivery"], "logged");
    assert!(job["body"].as_str().unwrap().contains("If you can read it, email delivery works."));
    app.stop().await;
}

async fn an_unreachable_smtp_server_means_retries_with_backoff_not_loss(backend: Backend) {
    // Nothing listens on this port: every attempt fails as a transient error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = TestApp::start_with(backend, |s| {
        s.mail.smtp_url = onboard::server::secret::Secret::new(&format!("smtp://127.0.0.1:{closed}"))
    })
    .await;
    let (org, _) = app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    owner.call("send_test_email", &[]).await.unwrap();
    let id = app.scalar_i64("SELECT MAX(id) FROM outbox_jobs WHERE org_id = $1", org).await;
    app.eventually("the first attempt failed", || async {
        status_of(&app, id).await.1 == 1 && status_of(&app, id).await.0 == "queued"
    })
    .await;
    let (status, attempts, error, _) = status_of(&app, id).await;
    assert_eq!((status.as_str(), attempts), ("queued", 1));
    assert!(error.is_some());
    let run_at = app.scalar_i64("SELECT run_at FROM outbox_jobs WHERE id = $1", id).await;
    assert!(run_at >= db::now_ms() + 3_000, "the retry waits: backoff starts at 5 s");
    app.stop().await;
}

/// A migrated database with no app (so no workers) and `n` queued jobs.
async fn queue_without_workers(backend: Backend, n: usize) -> db::Db {
    let url = crate::common::fresh_database_url(backend).await;
    let mut settings = crate::common::test_settings(&url);
    settings.database.max_connections = 8;
    let db = db::Db::open(&settings).await.unwrap();
    let mut tx = db.pool.begin().await.unwrap();
    for i in 0..n {
        let to = format!("person{i}@example.com");
        outbox::enqueue(
            &mut tx,
            &db.key,
            &outbox::NewJob {
                org_id: None,
                kind: onboard::domain::outbox::JobKind::Email,
                recipient: &to,
                subject: "s",
                payload: "{}",
                max_attempts: 3,
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    db
}

/// Eight claimers, each claiming from one to four jobs per statement and recording them in one,
/// as an instance's claimer and recorder do for its waiting workers.
async fn each_job_is_claimed_by_exactly_one_worker(backend: Backend) {
    let db = queue_without_workers(backend, 200).await;
    let cursor = std::sync::Arc::new(QueueCursor::default());
    let workers = (0..8).map(|w| {
        let db = db.clone();
        let cursor = cursor.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            for claim in 0.. {
                let name = format!("instance{w}-{claim}");
                let jobs = outbox_claims::claim_up_to(&db, &name, 60_000, &cursor, w % 4 + 1).await.unwrap();
                if jobs.is_empty() {
                    break;
                }
                assert!(jobs.len() <= w % 4 + 1);
                assert!(jobs.windows(2).all(|pair| (pair[0].run_at, pair[0].id) < (pair[1].run_at, pair[1].id)));
                let done = jobs.iter().map(|job| outbox::DoneJob {
                    id: job.id,
                    worker: name.clone(),
                    delivery: "smtp",
                    scrubbed: None,
                    invitation: false,
                });
                outbox::complete_all(&db.outbox_pool, &db.key, &done.collect::<Vec<_>>()).await.unwrap();
                mine.extend(jobs.iter().map(|job| job.id));
            }
            mine
        })
    });
    let mut all = Vec::new();
    for w in workers.collect::<Vec<_>>() {
        all.extend(w.await.unwrap());
    }
    let unique: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), 200, "no job was done twice");
    assert_eq!(unique.len(), 200, "every job was done");
    let done: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox_jobs WHERE status = 'done' AND delivery = 'smtp'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(done, 200, "every job was recorded done");
}

/// One statement records several done jobs, each with its own scrubbed payload; a report from
/// a worker whose lease passed to another claim is ignored while the others count.
async fn done_jobs_are_recorded_together_and_a_stale_report_is_ignored(backend: Backend) {
    let db = queue_without_workers(backend, 3).await;
    let stale = outbox_claims::claim(&db, "a-1", -1, &QueueCursor::default()).await.unwrap().unwrap();
    // Another instance: a sweep from the front of the queue.
    let cursor = QueueCursor::default();
    let taken_over = outbox_claims::claim_up_to(&db, "b-1", 60_000, &cursor, 3).await.unwrap();
    assert_eq!(taken_over.iter().map(|job| job.id).collect::<Vec<_>>(), [stale.id], "the expired lease first");
    let rest = outbox_claims::claim_up_to(&db, "b-2", 60_000, &cursor, 3).await.unwrap();
    assert_eq!(rest.len(), 2, "the two queued jobs in one claim");
    let done = |id, worker: &str, scrubbed: Option<&str>| outbox::DoneJob {
        id,
        worker: worker.to_string(),
        delivery: "smtp",
        scrubbed: scrubbed.map(str::to_string),
        invitation: false,
    };
    let statuses = || async {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT status, payload FROM outbox_jobs ORDER BY id").fetch_all(&db.pool).await.unwrap();
        let open = |sealed: &str| db.key.open_stored(onboard::server::sealing::OUTBOX_PAYLOAD, sealed).unwrap();
        rows.iter().map(|(status, sealed)| (status.clone(), open(sealed))).collect::<Vec<_>>()
    };
    let recorded_ids = outbox::complete_all(
        &db.outbox_pool,
        &db.key,
        &[
            done(stale.id, "a-1", Some(r#"{"late":true}"#)),
            done(rest[0].id, "b-2", Some(r#"{"scrubbed":1}"#)),
            done(rest[1].id, "b-2", Some(r#"{"scrubbed":2}"#)),
        ],
    )
    .await
    .unwrap();
    assert_eq!(recorded_ids.len(), 2, "the ids recorded: {recorded_ids:?}");
    let recorded = |status: &str, payload: &str| (status.to_string(), payload.to_string());
    assert_eq!(
        statuses().await,
        [recorded("running", "{}"), recorded("done", r#"{"scrubbed":1}"#), recorded("done", r#"{"scrubbed":2}"#)],
        "the late report changed nothing; the others were recorded with their own payloads"
    );
    outbox::complete_all(&db.outbox_pool, &db.key, &[done(stale.id, "b-1", None)]).await.unwrap();
    assert_eq!(statuses().await[0], recorded("done", "{}"));
}

/// Records job `id` delivered by SMTP, reported by `worker`.
async fn complete(db: &db::Db, id: i64, worker: &str) {
    let done = outbox::DoneJob { id, worker: worker.to_string(), delivery: "smtp", scrubbed: None, invitation: false };
    outbox::complete_all(&db.outbox_pool, &db.key, &[done]).await.unwrap();
}

async fn a_job_whose_worker_died_is_taken_over_after_its_lease(backend: Backend) {
    let db = queue_without_workers(backend, 1).await;
    // The first worker's lease is already over when it claims: as if it died long ago.
    let first = outbox_claims::claim(&db, "dead", -1, &QueueCursor::default()).await.unwrap().unwrap();
    let second = outbox_claims::claim(&db, "alive", 60_000, &QueueCursor::default())
        .await
        .unwrap()
        .expect("the expired lease frees the job");
    assert_eq!(first.id, second.id);
    assert_eq!(second.attempts, 2);
    // The dead worker's late report is ignored; the live one's counts.
    complete(&db, first.id, "dead").await;
    let status: String = sqlx::query_scalar("SELECT status FROM outbox_jobs WHERE id = $1")
        .bind(first.id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(status, "running");
    complete(&db, second.id, "alive").await;
    assert!(outbox_claims::claim(&db, "alive", 60_000, &QueueCursor::default()).await.unwrap().is_none());
}

async fn a_stopping_worker_hands_back_its_job_without_spending_an_attempt(backend: Backend) {
    let db = queue_without_workers(backend, 1).await;
    let job = outbox_claims::claim(&db, "stopping-1", 60_000, &QueueCursor::default()).await.unwrap().unwrap();
    assert_eq!(outbox::release_instance(&db, "stopping").await.unwrap(), 1);
    let again = outbox_claims::claim(&db, "next", 60_000, &QueueCursor::default()).await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (job.id, 1));
}

/// A stopping instance hands back what any of its claims still holds, and nothing of another's.
async fn a_stopping_instance_hands_back_every_claim_it_holds(backend: Backend) {
    let db = queue_without_workers(backend, 4).await;
    let cursor = QueueCursor::default();
    for claim in ["4242-0a0b0c0d-1", "4242-0a0b0c0d-2", "42420-0a0b0c0d-1", "4242-0a0b0c0e-1"] {
        assert!(outbox_claims::claim(&db, claim, 60_000, &cursor).await.unwrap().is_some());
    }
    assert_eq!(outbox::release_instance(&db, "4242-0a0b0c0d").await.unwrap(), 2);
    let held: Vec<String> =
        sqlx::query_scalar("SELECT locked_by FROM outbox_jobs WHERE status = 'running' ORDER BY locked_by")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(held, ["4242-0a0b0c0e-1", "42420-0a0b0c0d-1"]);
}

async fn a_job_that_keeps_failing_stops_after_its_last_attempt(backend: Backend) {
    let db = queue_without_workers(backend, 1).await;
    for attempt in 1..=3 {
        let job = outbox_claims::claim(&db, "w", 60_000, &QueueCursor::default())
            .await
            .unwrap()
            .expect("due again at once with a zero delay");
        assert_eq!(job.attempts, attempt);
        outbox::fail(&db.outbox_pool, &db.key, &job, "w", "connection refused", Some(0), None).await.unwrap();
    }
    assert!(outbox_claims::claim(&db, "w", 60_000, &QueueCursor::default()).await.unwrap().is_none());
    let (status, error): (String, Option<String>) =
        sqlx::query_as("SELECT status, last_error FROM outbox_jobs").fetch_one(&db.pool).await.unwrap();
    assert_eq!(status, "failed");
    assert_eq!(error.as_deref(), Some("connection refused"));
}

/// Workers claim from where they last claimed; a job due behind that place (handed back by a
/// stopping worker here; on PostgreSQL also a transaction that commits late) waits at most for
/// the next sweep from the front, and is never lost.
async fn a_job_due_behind_the_cursor_is_taken_at_the_next_sweep(backend: Backend) {
    let db = queue_without_workers(backend, 4).await;
    let cursor = QueueCursor::default();
    let claim = |worker: &'static str| {
        let (db, cursor) = (&db, &cursor);
        async move { outbox_claims::claim(db, worker, 60_000, cursor).await.unwrap().map(|job| job.id) }
    };
    let first = claim("stopping-1").await.unwrap();
    let second = claim("w").await.unwrap();
    assert_eq!(outbox::release_instance(&db, "stopping").await.unwrap(), 1);
    let third = claim("w").await.unwrap();
    assert!(third > second, "the cursor goes on past the jobs it claimed");
    tokio::time::sleep(QueueCursor::SWEEP).await;
    assert_eq!(claim("w").await, Some(first), "the sweep finds the job handed back");
    let fourth = claim("w").await.unwrap();
    assert!(![first, second, third].contains(&fourth));
    assert_eq!(claim("w").await, None);
}

/// Once the queue is found empty, the instance's workers do not look again before the pause
/// (the poll interval) unless work was queued here; the look after the pause finds any job.
async fn an_empty_queue_is_looked_at_again_after_the_pause_or_when_woken(backend: Backend) {
    let db = queue_without_workers(backend, 0).await;
    let pause = std::time::Duration::from_secs(2);
    let cursor = QueueCursor::new(pause);
    let claim = || async { outbox_claims::claim(&db, "w", 60_000, &cursor).await.unwrap().map(|job| job.id) };
    assert_eq!(claim().await, None);
    let queue = |to: &'static str| async {
        let mut tx = db.pool.begin().await.unwrap();
        let job = outbox::NewJob {
            org_id: None,
            kind: onboard::domain::outbox::JobKind::Email,
            recipient: to,
            subject: "s",
            payload: "{}",
            max_attempts: 3,
        };
        let id = outbox::enqueue(&mut tx, &db.key, &job).await.unwrap();
        tx.commit().await.unwrap();
        id
    };
    let first = queue("a@example.com").await;
    assert_eq!(claim().await, None, "the empty queue is not looked at again at once");
    cursor.look_again();
    assert_eq!(claim().await, Some(first), "work queued here is looked for at once");
    assert_eq!(claim().await, None);
    let second = queue("b@example.com").await;
    assert_eq!(claim().await, None);
    // The pause is at least `pause`, longer when the look itself was slow (4 times its time).
    let started = std::time::Instant::now();
    let mut taken = None;
    while taken.is_none() && started.elapsed() < pause * 5 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        taken = claim().await;
    }
    assert_eq!(taken, Some(second), "after the pause the queue is looked at again");
}

/// PostgreSQL: the outbox's bookkeeping commits without waiting for the WAL flush, everything
/// else as the server is set. SQLite: no commit copies the log back (the mark is far above a
/// batch's log); the serving app does it in the background, within seconds.
async fn commits_wait_for_the_disk_except_the_outbox_bookkeeping(backend: Backend) {
    let app = TestApp::start(backend).await;
    let db = &app.state.db.clone();
    match backend {
        Backend::Postgres => {
            let (show, server) =
                ("SHOW synchronous_commit", "SELECT reset_val FROM pg_settings WHERE name = 'synchronous_commit'");
            let setting = |sql| sqlx::query_scalar::<_, String>(sql);
            assert_eq!(
                setting(show).fetch_one(&db.pool).await.unwrap(),
                setting(server).fetch_one(&db.pool).await.unwrap()
            );
            assert_eq!(setting(show).fetch_one(&db.outbox_pool).await.unwrap(), "off");
            // Claims go through that pool: with it closed, a claim fails and the rest still works.
            app.stop().await;
            db.outbox_pool.close().await;
            let cursor = QueueCursor::new(std::time::Duration::from_millis(10));
            assert!(outbox_claims::claim(db, "w", 1_000, &cursor).await.is_err());
            assert!(db.ping().await);
            return;
        }
        Backend::Sqlite => {
            let mark: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint").fetch_one(&db.pool).await.unwrap();
            assert_eq!(mark, 100_000);
            // Read as the database file alone holds it (immutable: the log is ignored), the new
            // table appears once a checkpoint has copied it there.
            let url = app.state.settings.database.url.expose().to_string();
            let path = url.trim_start_matches("sqlite://").split('?').next().unwrap().to_string();
            let in_the_file = || async {
                use sqlx::Connection;
                let mut file =
                    sqlx::SqliteConnection::connect(&format!("sqlite://{path}?mode=ro&immutable=true")).await.unwrap();
                let found =
                    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM filler").fetch_one(&mut file).await.is_ok();
                let _ = file.close().await;
                found
            };
            sqlx::query("CREATE TABLE filler (x TEXT)").execute(&db.pool).await.unwrap();
            app.eventually("the background checkpoint copies the log into the database", in_the_file).await;
        }
    }
    app.stop().await;
}

crate::on_both_databases!(
    commits_wait_for_the_disk_except_the_outbox_bookkeeping,
    an_empty_queue_is_looked_at_again_after_the_pause_or_when_woken,
    a_job_due_behind_the_cursor_is_taken_at_the_next_sweep,
    a_test_email_is_delivered_through_smtp_as_plain_text_and_html,
    without_smtp_emails_are_logged_and_kept_for_admins_to_read,
    an_unreachable_smtp_server_means_retries_with_backoff_not_loss,
    each_job_is_claimed_by_exactly_one_worker,
    a_job_whose_worker_died_is_taken_over_after_its_lease,
    a_stopping_worker_hands_back_its_job_without_spending_an_attempt,
    a_stopping_instance_hands_back_every_claim_it_holds,
    done_jobs_are_recorded_together_and_a_stale_report_is_ignored,
    a_job_that_keeps_failing_stops_after_its_last_attempt,
);
