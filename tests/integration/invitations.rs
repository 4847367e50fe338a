//! Inviting people and their self-registration, with a real SMTP sink on loopback.

use crate::common::smtp::SmtpSink;
use crate::common::{Acme, Backend, TestApp, Visitor, OWNER_PASSWORD as PASSWORD};
use onboard::AppError;
use serde_json::Value;

struct World {
    app: TestApp,
    sink: SmtpSink,
    owner: Visitor,
    org: i64,
    area: i64,
    member_role: i64,
}

async fn world(backend: Backend) -> World {
    let Acme { app, sink, owner, org, general: area, member_role } = Acme::start(backend).await;
    World { app, sink, owner, org, area, member_role }
}

impl World {
    async fn invite(&self, text: &str) -> Result<Value, (u16, AppError)> {
        self.owner
            .call(
                "send_invites",
                &[("emails", text), ("area", &self.area.to_string()), ("role", &self.member_role.to_string())],
            )
            .await
    }

    async fn token_for(&self, address: &str) -> String {
        self.app
            .eventually(&format!("an invitation reaches {address}"), || async { !self.sink.to(address).is_empty() })
            .await;
        self.sink.to(address).last().unwrap().registration_token().expect("a registration link")
    }

    async fn latest_code(&self, address: &str, count_before: usize) -> String {
        self.app
            .eventually(&format!("a code reaches {address}"), || async { self.sink.to(address).len() > count_before })
            .await;
        self.sink.to(address).last().unwrap().code().expect("a code")
    }

    async fn status_of(&self, email: &str) -> String {
        sqlx::query_scalar("SELECT m.status FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.email = $1 AND m.org_id = $2")
            .bind(email)
            .bind(self.org)
            .fetch_one(&self.app.state.db.pool)
            .await
            .unwrap()
    }
}

async fn require_2fa(owner: &Visitor) {
    let form = [("name", "Acme"), ("sender_name", "Acme"), ("invite_lifetime_days", "7"), ("require_2fa", "on")];
    owner.call("update_general_settings", &form).await.unwrap();
}

fn details<'a>(token: &'a str, mobile: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("token", token), ("first_name", "Ada"), ("last_name", "Lovelace"), ("mobile", mobile), ("password", PASSWORD)]
}

fn classes(answer: &Value) -> Vec<String> {
    answer.as_array().unwrap().iter().map(|e| e["class"].as_str().unwrap().to_string()).collect()
}

/// `check_invites`' count of each class, in the page's order.
fn counts(checked: &Value) -> Vec<(String, u64)> {
    let pairs = checked["counts"].as_array().unwrap().iter();
    pairs.map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_u64().unwrap())).collect()
}

fn counted<const N: usize>(pairs: [(&str, u64); N]) -> Vec<(String, u64)> {
    pairs.into_iter().map(|(class, n)| (class.to_string(), n)).collect()
}

async fn a_messy_paste_is_classified_invited_and_confirmed(backend: Backend) {
    let w = world(backend).await;
    let paste = "Ada Lovelace <Ada@Acme.example>, bad@\n\n ada@acme.example;\"Hopper, Grace\" <grace@acme.example>\nowner@acme.example";
    let checked = w.owner.call("check_invites", &[("emails", paste)]).await.unwrap();
    assert_eq!(counts(&checked), counted([("New", 2), ("Invalid", 1), ("DuplicateInList", 1), ("AlreadyMember", 1)]));
    assert_eq!(classes(&checked["not_invited"]), ["Invalid", "DuplicateInList", "AlreadyMember"]);
    assert_eq!(checked["not_invited"][0]["raw"], "bad@");
    assert_eq!(checked["not_invited_total"], 3);

    let batch = w.invite(paste).await.unwrap().as_i64().unwrap();
    let id = batch.to_string();
    w.app
        .eventually("both emails are sent", || async {
            w.owner.get("invite_batch", &[("id", &id)]).await.unwrap()["sent"] == 2
        })
        .await;
    let progress = w.owner.get("invite_batch", &[("id", &id)]).await.unwrap();
    assert_eq!((progress["failed"].as_i64(), progress["remaining"].as_i64()), (Some(0), Some(0)));
    assert_eq!(classes(&progress["not_invited"]), ["Invalid", "DuplicateInList", "AlreadyMember"]);
    assert_eq!(progress["not_invited_total"], 3);

    let mail = w.sink.to("ada@acme.example").pop().unwrap().decoded();
    assert!(mail.contains("invited you to join Acme on Onboard"), "{mail}");
    assert!(mail.contains("This invitation expires on"));
    assert_eq!(w.status_of("grace@acme.example").await, "pending");
    // Admins read in the outbox the text that was delivered, but never the link's token.
    let outbox = w.owner.get("load_outbox", &[]).await.unwrap();
    let job = outbox["jobs"].as_array().unwrap().iter().find(|j| j["recipient"] == "ada@acme.example").unwrap();
    let token = w.sink.to("ada@acme.example").pop().unwrap().registration_token().unwrap();
    let body = job["body"].as_str().unwrap();
    assert!(body.contains("/register/••••") && !body.contains(&token), "{job}");

    // Asking again: both are now pending.
    let again = w.owner.call("check_invites", &[("emails", "ada@acme.example, grace@acme.example")]).await.unwrap();
    assert_eq!(counts(&again), counted([("AlreadyPending", 2)]));
    let none = w.invite("ada@acme.example").await;
    assert!(matches!(none, Err((422, AppError::Invalid { ref field, .. })) if field == "emails"), "{none:?}");
    w.app.stop().await;
}

async fn a_paste_of_a_hundred_thousand_is_one_batch_and_one_more_is_refused(backend: Backend) {
    let w = world(backend).await;
    // About 3.5 MB form-encoded: over the general body limit, within the paste's.
    let paste = |n: usize| (0..n).map(|i| format!("new.person{i:06}@bulk.example")).collect::<Vec<_>>().join("\n");
    let over = w.invite(&paste(100_001)).await;
    assert!(
        matches!(over, Err((422, AppError::Invalid { ref field, ref reason })) if field == "emails" && reason.contains("100,001 new addresses")),
        "{over:?}"
    );
    assert_eq!(w.app.scalar_i64("SELECT COUNT(*) FROM memberships WHERE org_id = $1", w.org).await, 1);

    let checked = w.owner.call("check_invites", &[("emails", &paste(100_000))]).await.unwrap();
    assert_eq!(counts(&checked), counted([("New", 100_000)]));
    let batch = w.invite(&paste(100_000)).await.unwrap().as_i64().unwrap().to_string();
    // The first 10,000 are stored with the answer, the rest by the outbox; every accepted address
    // is counted at every moment, as an email or as one still being prepared.
    let progress = w.owner.get("invite_batch", &[("id", &batch)]).await.unwrap();
    let total = ["sent", "failed", "remaining", "preparing"].iter().map(|k| progress[k].as_i64().unwrap()).sum::<i64>();
    assert_eq!(total, 100_000, "{progress}");
    let pending = "SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND status = 'pending'";
    w.app
        .eventually_within(std::time::Duration::from_secs(300), "the whole batch is stored", || async {
            w.app.scalar_i64(pending, w.org).await == 100_000
        })
        .await;
    let progress = w.owner.get("invite_batch", &[("id", &batch)]).await.unwrap();
    assert_eq!(progress["preparing"], 0, "{progress}");
    let invitations = "SELECT COUNT(DISTINCT email) FROM invitations WHERE org_id = $1";
    assert_eq!(w.app.scalar_i64(invitations, w.org).await, 100_000);
    w.app.stop().await;
}

async fn a_large_batch_is_stored_a_part_at_a_time_and_each_part_once(backend: Backend) {
    use onboard::server::{db::outbox_claims, invite_batches, outbox::JobPayload};
    // No workers: the test runs the batch's job itself, as two workers would.
    let app = TestApp::start_with(backend, |s| s.outbox.workers = 0).await;
    let (org, _) = app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    let area = app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1", org).await.to_string();
    let role = app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Member'", org).await.to_string();
    // The request stores 10,000; the job stores the other 15,000 in three parts.
    let paste = (0..25_000).map(|i| format!("p{i:05}@bulk.example")).collect::<Vec<_>>().join("\n");
    let batch = owner.call("send_invites", &[("emails", &paste), ("area", &area), ("role", &role)]).await.unwrap();
    let batch = batch.as_i64().unwrap();

    let invitations_sql = "SELECT COUNT(*) FROM invitations WHERE batch_id = $1";
    let emails_sql = "SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'email' AND org_id = $1";
    assert_eq!(invite_batches::STORED_WITH_THE_ANSWER, 10_000);
    assert_eq!(app.scalar_i64(invitations_sql, batch).await, 10_000, "the first parts are stored with the answer");
    let progress = owner.get("invite_batch", &[("id", &batch.to_string())]).await.unwrap();
    assert_eq!((progress["remaining"].as_i64(), progress["preparing"].as_i64()), (Some(10_000), Some(15_000)));

    // Failed for good, the job leaves the rest unstored, which the batch page says; the Outbox's
    // retry puts it back.
    let job = app.scalar_i64("SELECT deferred_job_id FROM invite_batches WHERE id = $1", batch).await;
    sqlx::query("UPDATE outbox_jobs SET status = 'failed' WHERE id = $1")
        .bind(job)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let progress = owner.get("invite_batch", &[("id", &batch.to_string())]).await.unwrap();
    assert_eq!((progress["preparing"].as_i64(), progress["unstored"].as_i64()), (Some(0), Some(15_000)));
    owner.call("retry_outbox_job", &[("id", &job.to_string())]).await.unwrap();
    let progress = owner.get("invite_batch", &[("id", &batch.to_string())]).await.unwrap();
    assert_eq!((progress["preparing"].as_i64(), progress["unstored"].as_i64()), (Some(15_000), Some(0)));
    // Retried, it queues behind the first parts' emails; due first again, the claims below take it.
    sqlx::query("UPDATE outbox_jobs SET run_at = 0 WHERE id = $1").bind(job).execute(&app.state.db.pool).await.unwrap();

    // Worker a claims the job and stalls past its lease; worker b takes it over.
    let db = &app.state.db;
    let cursor = outbox_claims::QueueCursor::new(std::time::Duration::from_millis(50));
    let stalled = outbox_claims::claim(db, "a", -1, &cursor).await.unwrap().expect("the batch's job is queued");
    let taken =
        outbox_claims::claim(db, "b", 60_000, &outbox_claims::QueueCursor::new(std::time::Duration::from_millis(50)))
            .await
            .unwrap()
            .expect("an expired lease is claimed again");
    assert_eq!((stalled.id, stalled.kind.as_str()), (taken.id, "batch"));
    let Ok(JobPayload::InvitationBatch(rest)) = serde_json::from_str(&taken.payload) else {
        panic!("not a batch's job: {}", taken.kind)
    };
    let running = tokio_util::sync::CancellationToken::new();
    let stopped = tokio_util::sync::CancellationToken::new();
    stopped.cancel();
    assert!(invite_batches::store_deferred(&app.state, "b", &taken, &rest, &stopped).await.is_none());
    assert!(invite_batches::store_deferred(&app.state, "a", &stalled, &rest, &running).await.is_none());
    assert_eq!(app.scalar_i64(invitations_sql, batch).await, 10_000, "neither a stopped nor a stalled worker stores");

    let outcome = invite_batches::store_deferred(&app.state, "b", &taken, &rest, &running).await;
    assert!(matches!(outcome, Some(Ok("stored"))), "{outcome:?}");
    assert_eq!(app.scalar_i64(invitations_sql, batch).await, 25_000);
    let distinct = "SELECT COUNT(DISTINCT recipient) FROM outbox_jobs WHERE kind = 'email' AND org_id = $1";
    assert_eq!((app.scalar_i64(emails_sql, org).await, app.scalar_i64(distinct, org).await), (25_000, 25_000));
    let stored = "SELECT deferred_stored FROM invite_batches WHERE id = $1";
    assert_eq!(app.scalar_i64(stored, batch).await, 15_000);
    let left = "SELECT COUNT(*) FROM deferred_addresses WHERE batch_id = $1";
    assert_eq!(app.scalar_i64(left, batch).await, 0, "the list goes once all of it is stored");
    let progress = owner.get("invite_batch", &[("id", &batch.to_string())]).await.unwrap();
    assert_eq!((progress["remaining"].as_i64(), progress["preparing"].as_i64()), (Some(25_000), Some(0)));
    // Run again (say its completion was lost), the job finds nothing left to store.
    let again = invite_batches::store_deferred(&app.state, "b", &taken, &rest, &running).await;
    assert!(matches!(again, Some(Ok("stored"))), "{again:?}");
    assert_eq!(app.scalar_i64(invitations_sql, batch).await, 25_000);
    app.stop().await;
}

async fn bad_pastes_and_roles_beyond_the_inviter_are_refused_clearly(backend: Backend) {
    let w = world(backend).await;
    let empty = w.invite("  \n ,; ").await;
    assert!(matches!(empty, Err((422, AppError::Invalid { ref field, .. })) if field == "emails"), "{empty:?}");
    let megabyte = "<script>alert(1)</script>'; DROP TABLE accounts; --".repeat(20_000);
    let junk = w.invite(&megabyte).await;
    assert!(matches!(junk, Err((422, AppError::Invalid { .. }))), "{junk:?}");
    assert_eq!(w.app.scalar_i64("SELECT COUNT(*) FROM accounts WHERE id > $1", 0).await, 1, "nothing was stored");

    w.app.add_member(w.org, "manager@acme.example", PASSWORD, "Manager").await;
    let manager = w.app.visitor();
    manager.sign_in("manager@acme.example", PASSWORD).await.unwrap();
    let owner_role = w.app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Owner'", w.org).await;
    let form = manager.get("invite_form", &[]).await.unwrap();
    let offered: Vec<&str> = form["roles"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(offered, ["Manager", "Member"]);
    let beyond = manager
        .call(
            "send_invites",
            &[("emails", "x@acme.example"), ("area", &w.area.to_string()), ("role", &owner_role.to_string())],
        )
        .await;
    assert!(matches!(beyond, Err((422, AppError::Invalid { ref field, .. })) if field == "role"), "{beyond:?}");
    w.app.stop().await;
}

async fn an_invitee_registers_on_their_phone_accepts_the_eula_and_is_signed_in(backend: Backend) {
    let w = world(backend).await;
    w.owner.call("publish_eula", &[("body", "Be kind.")]).await.unwrap();
    w.invite("ada@acme.example").await.unwrap();
    let token = w.token_for("ada@acme.example").await;

    let phone = w.app.visitor();
    for _ in 0..2 {
        // Opening the link (as mail scanners do) spends nothing.
        let info = phone.get("registration", &[("token", &token)]).await.unwrap();
        assert_eq!((info["email"].as_str(), info["step"].as_str()), (Some("ada@acme.example"), Some("Details")));
    }
    let bad_mobile = phone.call("register_details", &details(&token, "07700 900123")).await;
    assert!(
        matches!(bad_mobile, Err((422, AppError::Invalid { ref field, .. })) if field == "mobile"),
        "{bad_mobile:?}"
    );
    let xss = [
        ("token", token.as_str()),
        ("first_name", "<img src=x onerror=alert(1)>"),
        ("last_name", "'; DROP TABLE accounts; --"),
        ("mobile", "+44 7911 123456"),
        ("password", PASSWORD),
    ];
    assert_eq!(phone.call("register_details", &xss).await.unwrap(), "Eula");

    let unaccepted = phone.call("complete_registration", &[("token", &token)]).await;
    assert!(
        matches!(unaccepted, Err((422, AppError::Invalid { ref field, .. })) if field == "accept"),
        "{unaccepted:?}"
    );
    let eula = w.app.scalar_i64("SELECT id FROM eula_versions WHERE org_id = $1", w.org).await.to_string();
    phone.call("complete_registration", &[("token", &token), ("eula", &eula), ("accept", "on")]).await.unwrap();

    let me = phone.whoami().await;
    assert_eq!(
        (me["org_name"].as_str(), me["display_name"].as_str()),
        (Some("Acme"), Some("<img src=x onerror=alert(1)> '; DROP TABLE accounts; --"))
    );
    assert_eq!(w.status_of("ada@acme.example").await, "active");
    let (mobile, ua): (String, String) = sqlx::query_as(
        "SELECT a.mobile, e.user_agent FROM accounts a JOIN eula_acceptances e ON e.account_id = a.id WHERE a.email = 'ada@acme.example'",
    )
    .fetch_one(&w.app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(mobile, "+447911123456");
    assert!(ua.is_empty() || !ua.contains('\n'));

    // The link is spent: another tab, or a second try, gets a page that says so.
    let used = w.app.visitor().get("registration", &[("token", &token)]).await;
    assert!(matches!(used, Err((409, AppError::Conflict(ref m))) if m.contains("already used")), "{used:?}");
    let page = w.app.visitor().page(&format!("/register/{token}")).await.text().await.unwrap();
    assert!(page.contains("This invitation cannot be used") && page.contains("already used"));
    // And the new member signs in with their password.
    w.app.visitor().sign_in("ada@acme.example", PASSWORD).await.unwrap();
    w.app.stop().await;
}

async fn two_tabs_finishing_registration_at_once_cannot_both_succeed(backend: Backend) {
    let w = world(backend).await;
    w.invite("ada@acme.example").await.unwrap();
    let token = w.token_for("ada@acme.example").await;
    let (a, b) = (w.app.visitor(), w.app.visitor());
    a.call("register_details", &details(&token, "+14155550123")).await.unwrap();
    b.call("register_details", &details(&token, "+14155550123")).await.unwrap();
    let form = [("token", token.as_str())];
    let (ra, rb) = tokio::join!(a.call("complete_registration", &form), b.call("complete_registration", &form));
    assert_eq!([ra.is_ok(), rb.is_ok()].iter().filter(|ok| **ok).count(), 1, "{ra:?} {rb:?}");
    w.app.stop().await;
}

async fn with_2fa_required_registration_and_sign_in_need_an_emailed_code(backend: Backend) {
    let w = world(backend).await;
    require_2fa(&w.owner).await;
    w.invite("ada@acme.example").await.unwrap();
    let token = w.token_for("ada@acme.example").await;
    let phone = w.app.visitor();
    assert_eq!(phone.call("register_details", &details(&token, "+33612345678")).await.unwrap(), "SecondFactor");
    let early = phone.call("complete_registration", &[("token", &token)]).await;
    assert!(matches!(early, Err((409, AppError::Conflict(_)))), "{early:?}");

    let before = w.sink.to("ada@acme.example").len();
    let sms = phone.call("send_registration_code", &[("token", &token), ("factor", "sms")]).await;
    assert!(
        matches!(sms, Err((422, AppError::Invalid { ref field, .. })) if field == "factor"),
        "no SMS provider: {sms:?}"
    );
    phone.call("send_registration_code", &[("token", &token), ("factor", "email")]).await.unwrap();
    let again = phone.call("send_registration_code", &[("token", &token), ("factor", "email")]).await;
    assert!(matches!(again, Err((429, AppError::TooManyAttempts(_)))), "resends are throttled: {again:?}");
    let code = w.latest_code("ada@acme.example", before).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = phone.call("verify_registration_code", &[("token", &token), ("code", wrong)]).await;
    assert!(
        matches!(refused, Err((422, AppError::Invalid { ref reason, .. })) if reason.contains("4 tries left")),
        "{refused:?}"
    );
    assert_eq!(phone.call("verify_registration_code", &[("token", &token), ("code", &code)]).await.unwrap(), "Eula");
    let replay = phone.call("verify_registration_code", &[("token", &token), ("code", &code)]).await;
    assert!(replay.is_err(), "a code works once");
    phone.call("complete_registration", &[("token", &token)]).await.unwrap();
    assert_eq!(phone.whoami().await["email"], "ada@acme.example");

    // Signing in later asks for a code too.
    let laptop = w.app.visitor();
    let before = w.sink.to("ada@acme.example").len();
    assert_eq!(laptop.sign_in("ada@acme.example", PASSWORD).await.unwrap(), "CodeSent");
    assert!(laptop.whoami().await.is_null(), "not signed in before the code");
    let code = w.latest_code("ada@acme.example", before).await;
    laptop.call("verify_sign_in_code", &[("code", &code)]).await.unwrap();
    assert_eq!(laptop.whoami().await["email"], "ada@acme.example");
    w.app.stop().await;
}

/// The code an authenticator app holding `key` shows, `steps` of 30 s from now.
fn app_code(key: &str, steps: i64) -> String {
    use onboard::server::totp;
    totp::code_at(key, totp::step_at(onboard::server::db::now_ms()) + steps).unwrap()
}

async fn an_authenticator_app_can_be_the_second_factor(backend: Backend) {
    let w = world(backend).await;
    require_2fa(&w.owner).await;
    w.invite("ada@acme.example").await.unwrap();
    let token = w.token_for("ada@acme.example").await;
    let phone = w.app.visitor();
    phone.call("register_details", &details(&token, "+33612345678")).await.unwrap();
    let early = phone.call("verify_registration_code", &[("token", &token), ("code", "123456")]).await;
    assert!(matches!(early, Err((409, AppError::Conflict(_)))), "no factor chosen yet: {early:?}");

    let setup = phone.call("send_registration_code", &[("token", &token), ("factor", "totp")]).await.unwrap();
    let key = setup["Authenticator"]["key"].as_str().unwrap().to_string();
    assert_eq!(key.len(), 32);
    assert!(setup["Authenticator"]["qr_svg"].as_str().unwrap().starts_with("<svg"));
    // Choosing it again (a reload) keeps the key the app has already scanned.
    let again = phone.call("send_registration_code", &[("token", &token), ("factor", "totp")]).await.unwrap();
    assert_eq!(again["Authenticator"]["key"], key.as_str());

    let wrong = phone.call("verify_registration_code", &[("token", &token), ("code", "12345x")]).await;
    assert!(matches!(wrong, Err((422, AppError::Invalid { ref field, .. })) if field == "code"), "{wrong:?}");
    let code = app_code(&key, 0);
    assert_eq!(phone.call("verify_registration_code", &[("token", &token), ("code", &code)]).await.unwrap(), "Eula");
    phone.call("complete_registration", &[("token", &token)]).await.unwrap();
    assert_eq!(phone.whoami().await["email"], "ada@acme.example");
    let emails_before = w.sink.to("ada@acme.example").len();

    // Signing in asks for the app's code and sends nothing; a code works once.
    let laptop = w.app.visitor();
    assert_eq!(laptop.sign_in("ada@acme.example", PASSWORD).await.unwrap(), "AuthenticatorCode");
    let replay = laptop.call("verify_sign_in_code", &[("code", &code)]).await;
    assert!(matches!(replay, Err((422, _))), "the registration code is spent: {replay:?}");
    laptop.call("verify_sign_in_code", &[("code", &app_code(&key, 1))]).await.unwrap();
    assert_eq!(laptop.whoami().await["email"], "ada@acme.example");
    assert_eq!(w.sink.to("ada@acme.example").len(), emails_before, "no email for an app code");

    // Guessing is cut off after five wrong codes...
    let guesser = w.app.visitor();
    guesser.sign_in("ada@acme.example", PASSWORD).await.unwrap();
    let wrong = (0..).map(|i| format!("{i:06}")).find(|c| (-2..=2).all(|o| app_code(&key, o) != *c)).unwrap();
    for _ in 0..5 {
        assert!(guesser.call("verify_sign_in_code", &[("code", &wrong)]).await.is_err());
    }
    let locked = guesser.call("verify_sign_in_code", &[("code", &app_code(&key, 0))]).await;
    assert!(matches!(locked, Err((429, AppError::TooManyAttempts(_)))), "{locked:?}");
    // ...and a password alone cannot swap the app for an emailed code (issue 11, §2).
    let downgrade = guesser.call("resend_sign_in_code", &[]).await;
    assert!(matches!(downgrade, Err((409, AppError::Conflict(_)))), "{downgrade:?}");
    assert_eq!(w.sink.to("ada@acme.example").len(), emails_before, "no code was emailed");
    assert!(guesser.whoami().await.is_null());
    w.app.stop().await;
}

async fn five_wrong_codes_use_up_the_code(backend: Backend) {
    let w = world(backend).await;
    require_2fa(&w.owner).await;
    let before = w.sink.to("owner@acme.example").len();
    let laptop = w.app.visitor();
    assert_eq!(laptop.sign_in("owner@acme.example", PASSWORD).await.unwrap(), "CodeSent");
    let code = w.latest_code("owner@acme.example", before).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert!(laptop.call("verify_sign_in_code", &[("code", wrong)]).await.is_err());
    }
    let locked = laptop.call("verify_sign_in_code", &[("code", &code)]).await;
    assert!(matches!(locked, Err((429, AppError::TooManyAttempts(_)))), "{locked:?}");
    assert!(laptop.whoami().await.is_null());
    w.app.stop().await;
}

async fn resending_kills_the_old_link_and_revoking_and_expiry_say_so(backend: Backend) {
    let w = world(backend).await;
    w.invite("ada@acme.example").await.unwrap();
    let first = w.token_for("ada@acme.example").await;
    let membership = w.app.scalar_i64("SELECT m.id FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.email = 'ada@acme.example' AND m.org_id = $1", w.org).await;
    let id = membership.to_string();

    w.owner.call("resend_invitation", &[("id", &id)]).await.unwrap();
    w.app.eventually("a second email", || async { w.sink.to("ada@acme.example").len() == 2 }).await;
    let second = w.sink.to("ada@acme.example")[1].registration_token().unwrap();
    assert_ne!(first, second);
    let old = w.app.visitor().get("registration", &[("token", &first)]).await;
    assert!(matches!(old, Err((409, AppError::Conflict(ref m))) if m.contains("newer invitation")), "{old:?}");

    w.owner.call("revoke_invitation", &[("id", &id)]).await.unwrap();
    let revoked = w.app.visitor().get("registration", &[("token", &second)]).await;
    assert!(matches!(revoked, Err((409, AppError::Conflict(ref m))) if m.contains("withdrawn")), "{revoked:?}");
    assert_eq!(w.status_of("ada@acme.example").await, "expired");

    // Invited again; then the link lapses.
    w.owner.call("resend_invitation", &[("id", &id)]).await.unwrap();
    w.app.eventually("a third email", || async { w.sink.to("ada@acme.example").len() == 3 }).await;
    let third = w.sink.to("ada@acme.example")[2].registration_token().unwrap();
    sqlx::query("UPDATE invitations SET expires_at = 1 WHERE org_id = $1")
        .bind(w.org)
        .execute(&w.app.state.db.pool)
        .await
        .unwrap();
    let expired = w.app.visitor().get("registration", &[("token", &third)]).await;
    assert!(matches!(expired, Err((409, AppError::Conflict(ref m))) if m.contains("expired")), "{expired:?}");
    let unknown = w.app.visitor().get("registration", &[("token", "nonsense")]).await;
    assert!(matches!(unknown, Err((404, AppError::NotFound))), "{unknown:?}");
    // The list shows Expired once lapsed invitations are swept (any invite check sweeps).
    w.owner.call("check_invites", &[("emails", "x@acme.example")]).await.unwrap();
    assert_eq!(w.status_of("ada@acme.example").await, "expired");

    // A new batch may invite an Expired member again: a fresh link replaces the lapsed one.
    w.invite("ada@acme.example").await.unwrap();
    w.app.eventually("a fourth email", || async { w.sink.to("ada@acme.example").len() == 4 }).await;
    let fourth = w.sink.to("ada@acme.example")[3].registration_token().unwrap();
    assert_eq!(w.status_of("ada@acme.example").await, "pending");
    let lapsed = w.app.visitor().get("registration", &[("token", &third)]).await;
    assert!(matches!(lapsed, Err((409, AppError::Conflict(ref m))) if m.contains("newer invitation")), "{lapsed:?}");
    assert!(w.app.visitor().get("registration", &[("token", &fourth)]).await.is_ok());
    w.app.stop().await;
}

/// A fake of Twilio's send API that checks the account and authentication, and keeps what it got.
async fn fake_twilio() -> (String, std::sync::Arc<std::sync::Mutex<Vec<std::collections::HashMap<String, String>>>>) {
    use axum::extract::{Form, Path, State};
    use axum::http::{HeaderMap, StatusCode};
    type Sent = std::sync::Arc<std::sync::Mutex<Vec<std::collections::HashMap<String, String>>>>;
    async fn messages(
        State(sent): State<Sent>,
        Path(account): Path<String>,
        headers: HeaderMap,
        Form(form): Form<std::collections::HashMap<String, String>>,
    ) -> StatusCode {
        // base64("AC123:secret-token")
        let authorized = headers.get("authorization").is_some_and(|v| v == "Basic QUMxMjM6c2VjcmV0LXRva2Vu");
        if account != "AC123.json" && account != "AC123" || !authorized {
            return StatusCode::UNAUTHORIZED;
        }
        sent.lock().unwrap().push(form);
        StatusCode::CREATED
    }
    let sent: Sent = Default::default();
    let app = axum::Router::new()
        .route("/2010-04-01/Accounts/{account}/Messages.json", axum::routing::post(messages))
        .with_state(sent.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, sent)
}

async fn codes_go_by_text_message_through_twilio_to_those_who_choose_it(backend: Backend) {
    let (twilio, sent) = fake_twilio().await;
    let sink = SmtpSink::start().await;
    let smtp = sink.url();
    let app = TestApp::start_with(backend, |s| {
        s.mail.smtp_url = onboard::server::secret::Secret::new(&smtp);
        s.sms.twilio_account_sid = "AC123".into();
        s.sms.twilio_auth_token = onboard::server::secret::Secret::new("secret-token");
        s.sms.twilio_from = "+15005550006".into();
        s.sms.twilio_base_url = twilio.to_string();
    })
    .await;
    let (org, _) = app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    require_2fa(&owner).await;
    let area = app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1", org).await.to_string();
    let role = app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Member'", org).await.to_string();
    owner.call("send_invites", &[("emails", "ada@acme.example"), ("area", &area), ("role", &role)]).await.unwrap();
    app.eventually("the invitation", || async { !sink.to("ada@acme.example").is_empty() }).await;
    let token = sink.to("ada@acme.example")[0].registration_token().unwrap();

    let phone = app.visitor();
    assert_eq!(phone.get("registration", &[("token", &token)]).await.unwrap()["sms_available"], true);
    phone.call("register_details", &details(&token, "+1 415 555 0123")).await.unwrap();
    phone.call("send_registration_code", &[("token", &token), ("factor", "sms")]).await.unwrap();
    app.eventually("Twilio got the text", || async { sent.lock().unwrap().len() == 1 }).await;
    let text = sent.lock().unwrap()[0].clone();
    assert_eq!((text["To"].as_str(), text["From"].as_str()), ("+14155550123", "+15005550006"));
    let code: String = text["Body"].chars().filter(|c| c.is_ascii_digit()).take(6).collect();
    phone.call("verify_registration_code", &[("token", &token), ("code", &code)]).await.unwrap();
    phone.call("complete_registration", &[("token", &token)]).await.unwrap();

    // Their sign-in codes come by text message too.
    let laptop = app.visitor();
    assert_eq!(laptop.sign_in("ada@acme.example", PASSWORD).await.unwrap(), "CodeSent");
    app.eventually("a second text", || async { sent.lock().unwrap().len() == 2 }).await;
    let body = sent.lock().unwrap()[1]["Body"].clone();
    let code: String = body.chars().filter(|c| c.is_ascii_digit()).take(6).collect();
    laptop.call("verify_sign_in_code", &[("code", &code)]).await.unwrap();
    assert_eq!(laptop.whoami().await["email"], "ada@acme.example");
    app.stop().await;
}

/// Wrong second-factor codes are counted per address as well as per code: one address trying
/// codes against several people's sign-ins is cut off, even with a right code.
async fn wrong_codes_from_one_address_are_throttled_across_accounts(backend: Backend) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = TestApp::start_with(backend, |s| {
        s.mail.smtp_url = onboard::server::secret::Secret::new(&url);
        s.security.max_failed_sign_ins_per_ip = 4;
    })
    .await;
    let (org, _) = app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    app.add_member(org, "ada@acme.example", PASSWORD, "Member").await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    require_2fa(&owner).await;
    let mut guessers = Vec::new();
    for email in ["owner@acme.example", "ada@acme.example"] {
        let v = app.visitor();
        assert_eq!(v.sign_in(email, PASSWORD).await.unwrap(), "CodeSent");
        app.eventually("the code is emailed", || async { !sink.to(email).is_empty() }).await;
        guessers.push((v, sink.to(email).last().unwrap().code().unwrap()));
    }
    for (v, code) in &guessers {
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..2 {
            assert!(matches!(v.call("verify_sign_in_code", &[("code", wrong)]).await, Err((422, _))));
        }
    }
    // Two wrong codes per person is within each code's five, but four from one address is the limit.
    let (ada, code) = &guessers[1];
    let blocked = ada.call("verify_sign_in_code", &[("code", code)]).await;
    assert!(matches!(&blocked, Err((429, AppError::TooManyAttempts(m))) if m.contains("network")), "{blocked:?}");
    assert!(ada.whoami().await.is_null());
    app.stop().await;
}

/// Invitation links carry 32 random bytes, stored only as a hash; a wrong, truncated, altered
/// or made-up token is answered exactly alike, so nothing can be learned by trying.
async fn invitation_links_cannot_be_guessed_and_wrong_ones_say_nothing(backend: Backend) {
    use sha2::Digest;
    let w = world(backend).await;
    let addresses: Vec<String> = (0..20).map(|i| format!("p{i}@acme.example")).collect();
    w.invite(&addresses.join("\n")).await.unwrap();
    let mut tokens = Vec::new();
    for a in &addresses {
        tokens.push(w.token_for(a).await);
    }
    for t in &tokens {
        assert_eq!(t.len(), 43, "32 bytes, base64url: {t}");
        assert!(t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        let stored = |value: String| {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM invitations WHERE token_hash = $1")
                .bind(value)
                .fetch_one(&w.app.state.db.pool)
        };
        assert_eq!(stored(t.clone()).await.unwrap(), 0, "the token itself is never stored");
        assert_eq!(stored(hex::encode(sha2::Sha256::digest(t.as_bytes()))).await.unwrap(), 1);
    }
    let distinct: std::collections::HashSet<&str> = tokens.iter().map(|t| &t[..8]).collect();
    assert_eq!(distinct.len(), tokens.len(), "no shared prefixes, no sequence");

    let real = &tokens[0];
    let mut altered = real.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    let probes =
        [altered, real[..20].to_string(), "A".repeat(43), "1".into(), "../../etc/passwd".into(), "x".repeat(5000)];
    let stranger = w.app.visitor();
    let (mut answers, mut pages) = (Vec::new(), std::collections::HashSet::new());
    for probe in &probes {
        answers.push(stranger.get("registration", &[("token", probe)]).await.unwrap_err());
        let page = stranger.page(&format!("/register/{}", &probe.replace('/', "%2F"))).await;
        pages.insert(page.status().as_u16());
    }
    assert!(answers.iter().all(|a| *a == (404, AppError::NotFound)), "{answers:?}");
    assert_eq!(pages.len(), 1, "every wrong link gets the same page: {pages:?}");
    // The real one still works.
    assert!(stranger.get("registration", &[("token", real)]).await.is_ok());
    w.app.stop().await;
}

/// An international domain is one address in either form and goes out in ASCII; a non-ASCII
/// local part fails at once on a server without SMTPUTF8, as a 5xx does, while a 4xx is retried.
/// A failed address is fixed and sent again from the batch page.
async fn international_addresses_go_out_in_ascii_and_permanent_refusals_fail_at_once(backend: Backend) {
    let w = world(backend).await;
    let checked =
        w.owner.call("check_invites", &[("emails", "user@bücher.example\nUSER@xn--bcher-kva.example")]).await.unwrap();
    assert_eq!(counts(&checked), counted([("New", 1), ("DuplicateInList", 1)]));
    let paste = "user@bücher.example, jörg@bücher.example, üser@example.com, refused@acme.example, busy@acme.example";
    let batch = w.invite(paste).await.unwrap().as_i64().unwrap().to_string();
    // Against existing members, the other form is the same person.
    let again = w.owner.call("check_invites", &[("emails", "user@xn--bcher-kva.example")]).await.unwrap();
    assert_eq!(counts(&again), counted([("AlreadyPending", 1)]));

    w.app
        .eventually("the ASCII-domain address is delivered", || async {
            !w.sink.to("user@xn--bcher-kva.example").is_empty()
        })
        .await;
    w.app
        .eventually("three fail for good at the first attempt", || async {
            w.owner.get("invite_batch", &[("id", &batch)]).await.unwrap()["failed"] == 3
        })
        .await;
    let job_of = |email: &'static str| {
        let app = &w.app;
        async move {
            let row: (String, i64, Option<String>) = sqlx::query_as(
                "SELECT j.status, j.attempts, j.last_error FROM invitations i JOIN outbox_jobs j ON j.id = i.outbox_job_id
                 WHERE i.email = $1 ORDER BY i.id DESC LIMIT 1",
            )
            .bind(email)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
            row
        }
    };
    for email in ["jörg@bücher.example", "üser@example.com"] {
        let (status, attempts, error) = job_of(email).await;
        assert_eq!((status.as_str(), attempts), ("failed", 1), "{email}");
        assert_eq!(error.as_deref(), Some("the mail server does not accept international addresses"));
    }
    let (status, attempts, error) = job_of("refused@acme.example").await;
    assert_eq!((status.as_str(), attempts), ("failed", 1));
    assert!(error.unwrap().contains("550"));
    // Its error is written with its outcome; the attempt is counted when the job is claimed.
    w.app.eventually("the 4xx was tried once", || async { job_of("busy@acme.example").await.2.is_some() }).await;
    let (status, attempts, error) = job_of("busy@acme.example").await;
    assert_eq!((status.as_str(), attempts), ("queued", 1), "a temporary refusal is retried later");
    assert!(error.unwrap().contains("451"));

    let progress = w.owner.get("invite_batch", &[("id", &batch)]).await.unwrap();
    let failures = progress["failures"].as_array().unwrap().clone();
    let emails: Vec<&str> = failures.iter().map(|f| f["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["jörg@bücher.example", "refused@acme.example", "üser@example.com"]);
    assert_eq!(failures[0]["reason"], "the mail server does not accept international addresses");
    let id_of = |i: usize| failures[i]["invitation"].as_i64().unwrap().to_string();

    // A Manager may invite but fixes only their own batches.
    w.app.add_member(w.org, "manager@acme.example", PASSWORD, "Manager").await;
    let manager = w.app.visitor();
    manager.sign_in("manager@acme.example", PASSWORD).await.unwrap();
    let theirs = manager.call("fix_invitation", &[("invitation", &id_of(0)), ("email", "jorg@bucher.example")]).await;
    assert!(matches!(theirs, Err((403, AppError::NotAllowed))), "{theirs:?}");

    // Fixing: a bad correction is refused with the reason, and nothing changes.
    let refused = w.owner.call("fix_invitation", &[("invitation", &id_of(0)), ("email", "jorg@@bucher.example")]).await;
    assert!(
        matches!(&refused, Err((422, AppError::Invalid { field, reason }))
        if field == "email" && reason.contains("more than one @")),
        "{refused:?}"
    );
    let taken = w.owner.call("fix_invitation", &[("invitation", &id_of(0)), ("email", "owner@acme.example")]).await;
    assert!(matches!(&taken, Err((422, AppError::Invalid { reason, .. })) if reason.contains("already a member")));
    w.owner.call("fix_invitation", &[("invitation", &id_of(0)), ("email", "joerg@bücher.example")]).await.unwrap();
    let twice = w.owner.call("fix_invitation", &[("invitation", &id_of(0)), ("email", "joerg@bücher.example")]).await;
    assert!(matches!(twice, Err((409, AppError::Conflict(_)))), "a second click changes nothing");
    w.app
        .eventually("the corrected address gets its invitation", || async {
            !w.sink.to("joerg@xn--bcher-kva.example").is_empty()
        })
        .await;
    assert!(w.token_for("joerg@xn--bcher-kva.example").await.len() == 43);
    assert_eq!(w.status_of("joerg@bücher.example").await, "pending");
    assert_eq!(w.status_of("jörg@bücher.example").await, "expired", "the failed address is no longer invited");
    let progress = w.owner.get("invite_batch", &[("id", &batch)]).await.unwrap();
    assert_eq!(progress["failures"].as_array().unwrap().len(), 2);
    assert_eq!(progress["failed"], 2, "the fixed one no longer counts as failed");
    let audit = w
        .app
        .scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'invitation.fixed' AND org_id = $1", w.org)
        .await;
    assert_eq!(audit, 1);
    w.app.stop().await;
}

/// Accounts stored before addresses had one form are rewritten once, at the next start.
async fn stored_international_domains_are_rewritten_once_into_one_form(backend: Backend) {
    let w = world(backend).await;
    let db = &w.app.state.db;
    for email in ["ana@xn--bcher-kva.example", "BO@BÜCHER.example", "cy@bücher.example", "cy@xn--bcher-kva.example"] {
        sqlx::query("INSERT INTO accounts (email, created_at) VALUES ($1, 0)")
            .bind(email)
            .execute(&db.pool)
            .await
            .unwrap();
    }
    sqlx::query("INSERT INTO pending_data_fixes (name) VALUES ('international_domains')")
        .execute(&db.pool)
        .await
        .unwrap();
    onboard::server::db::accounts::canonicalize_international_domains(db).await.unwrap();
    let mut stored: Vec<String> = sqlx::query_scalar("SELECT email FROM accounts").fetch_all(&db.pool).await.unwrap();
    stored.retain(|e| !e.ends_with("acme.example"));
    stored.sort();
    // cy@ in A-label form would collide with the account already holding the Unicode form: kept.
    assert_eq!(stored, ["ana@bücher.example", "bo@bücher.example", "cy@bücher.example", "cy@xn--bcher-kva.example"]);
    assert_eq!(w.app.scalar_i64("SELECT COUNT(*) FROM pending_data_fixes WHERE LENGTH(name) > $1", 0).await, 0);
    w.app.stop().await;
}

/// A GB organization's invitees may type a national number; `00` works anywhere; a form with
/// several mistakes reports each beside its field at once; numbers are stored as E.164.
async fn mobile_numbers_follow_the_default_country_and_every_field_error_shows_at_once(backend: Backend) {
    let w = world(backend).await;
    let settings = [("name", "Acme"), ("sender_name", "Acme"), ("invite_lifetime_days", "7")];
    let unknown =
        w.owner.call("update_general_settings", &[&settings[..], &[("default_country", "XX")]].concat()).await;
    assert!(matches!(&unknown, Err((422, AppError::Invalid { field, .. })) if field == "default_country"));
    w.owner.call("update_general_settings", &[&settings[..], &[("default_country", "gb")]].concat()).await.unwrap();
    // A form that does not send the country leaves it as it is.
    w.owner.call("update_general_settings", &settings).await.unwrap();
    assert_eq!(w.owner.get("load_org_settings", &[]).await.unwrap()["general"]["default_country"], "GB");

    w.invite("ada@acme.example, bo@acme.example").await.unwrap();
    let token = w.token_for("ada@acme.example").await;
    let phone = w.app.visitor();
    let info = phone.get("registration", &[("token", &token)]).await.unwrap();
    assert_eq!(info["default_country"], "GB");
    assert!(info["countries"].as_array().unwrap().iter().any(|c| c["code"] == "GB" && c["calling_code"] == 44));

    let everything_wrong = [
        ("token", token.as_str()),
        ("first_name", " "),
        ("last_name", "Lovelace"),
        ("mobile", "07911 12"),
        ("country", "GB"),
        ("password", "short"),
    ];
    let answer = phone.call("register_details", &everything_wrong).await;
    let Err((422, AppError::InvalidFields(problems))) = answer else { panic!("{answer:?}") };
    let fields: Vec<&str> = problems.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(fields, ["first_name", "mobile", "password"]);
    assert!(problems[1].1.contains("too short or too long"), "{problems:?}");

    let landline = [
        ("token", token.as_str()),
        ("first_name", "Ada"),
        ("last_name", "Lovelace"),
        ("mobile", "020 7946 0000"),
        ("country", "GB"),
        ("password", PASSWORD),
    ];
    let answer = phone.call("register_details", &landline).await;
    assert!(
        matches!(&answer, Err((422, AppError::Invalid { field, reason })) if field == "mobile" && reason.contains("not a mobile number")),
        "{answer:?}"
    );
    let national = [
        ("token", token.as_str()),
        ("first_name", "Ada"),
        ("last_name", "Lovelace"),
        ("mobile", "07911 123456"),
        ("country", "GB"),
        ("password", PASSWORD),
    ];
    assert_eq!(phone.call("register_details", &national).await.unwrap(), "Eula");
    phone.call("complete_registration", &[("token", &token)]).await.unwrap();
    let stored: Option<String> = sqlx::query_scalar("SELECT mobile FROM accounts WHERE email = 'ada@acme.example'")
        .fetch_one(&w.app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(stored.as_deref(), Some("+447911123456"));

    // The 00 prefix, whatever country is chosen; an unknown calling code is named as such.
    let token = w.token_for("bo@acme.example").await;
    let phone = w.app.visitor();
    let with = |mobile: &'static str| {
        vec![
            ("token", token.clone()),
            ("first_name", "Bo".into()),
            ("last_name", "Ng".into()),
            ("mobile", mobile.into()),
            ("country", "FR".into()),
            ("password", PASSWORD.into()),
        ]
    };
    let call = |form: Vec<(&'static str, String)>| {
        let phone = &phone;
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            phone.call("register_details", &pairs).await
        }
    };
    let unknown = call(with("00999 123 456 789")).await;
    assert!(
        matches!(&unknown, Err((422, AppError::Invalid { reason, .. })) if reason.contains("calling code")),
        "{unknown:?}"
    );
    assert_eq!(call(with("0044 7911 123457")).await.unwrap(), "Eula");
    w.app.stop().await;
}

crate::on_both_databases!(
    codes_go_by_text_message_through_twilio_to_those_who_choose_it,
    a_messy_paste_is_classified_invited_and_confirmed,
    a_paste_of_a_hundred_thousand_is_one_batch_and_one_more_is_refused,
    a_large_batch_is_stored_a_part_at_a_time_and_each_part_once,
    bad_pastes_and_roles_beyond_the_inviter_are_refused_clearly,
    an_invitee_registers_on_their_phone_accepts_the_eula_and_is_signed_in,
    two_tabs_finishing_registration_at_once_cannot_both_succeed,
    with_2fa_required_registration_and_sign_in_need_an_emailed_code,
    an_authenticator_app_can_be_the_second_factor,
    five_wrong_codes_use_up_the_code,
    resending_kills_the_old_link_and_revoking_and_expiry_say_so,
    wrong_codes_from_one_address_are_throttled_across_accounts,
    invitation_links_cannot_be_guessed_and_wrong_ones_say_nothing,
    international_addresses_go_out_in_ascii_and_permanent_refusals_fail_at_once,
    stored_international_domains_are_rewritten_once_into_one_form,
    mobile_numbers_follow_the_default_country_and_every_field_error_shows_at_once,
);
