//! Automatic reminders: scheduled by the database, swept by every instance, sent once, over
//! email or chat, throttled per organization, and stopped by registering, revoking or resending.
//! The sweeps are called with a `now` days ahead, as the clock would be.

use crate::common::fakes::{FakeChat, Person};
use crate::common::smtp::SmtpSink;
use crate::common::{test_settings, Backend, TestApp, Visitor};
use onboard::domain::reminders::ReminderSettings;
use onboard::domain::time::DAY_MS;
use onboard::server::reminders::sweep;

const PASSWORD: &str = "a long enough passphrase";

struct World {
    app: TestApp,
    sink: SmtpSink,
    fake: FakeChat,
    owner: Visitor,
    org: i64,
}

async fn world(backend: Backend) -> World {
    let sink = SmtpSink::start().await;
    let fake = FakeChat::start(vec![Person::new("U001", "Ada Lovelace", "ada@acme.example")], vec![]).await;
    let (url, f) = (sink.url(), fake.clone());
    let app = TestApp::start_with(backend, move |s| {
        s.mail.smtp_url = onboard::server::secret::Secret::new(&url);
        f.configure(s);
    })
    .await;
    let (org, _) = app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    World { app, sink, fake, owner, org }
}

impl World {
    async fn invite(&self, emails: &str) {
        let area = self.app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1", self.org).await;
        let role = self.app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Member'", self.org).await;
        let form = [("emails", emails), ("area", &area.to_string()), ("role", &role.to_string())];
        self.owner.call("send_invites", &form).await.unwrap();
    }

    async fn remind(&self, after: &str, before: &str, channel: &str, per_minute: &str) {
        let form = [
            ("enabled", "on"),
            ("after_days", after),
            ("before_expiry_days", before),
            ("channel", channel),
            ("per_minute", per_minute),
        ];
        self.owner.call("update_reminder_settings", &form).await.unwrap();
    }

    /// `(email, reminders sent, next reminder)` of every pending invitation, by address.
    async fn pending(&self) -> Vec<(String, i64, Option<i64>)> {
        sqlx::query_as(
            "SELECT email, reminders_sent, next_reminder_at FROM invitations WHERE org_id = $1 AND status = 'pending' ORDER BY email",
        )
        .bind(self.org)
        .fetch_all(&self.app.state.db.pool)
        .await
        .unwrap()
    }

    async fn invited_at(&self) -> (i64, i64) {
        sqlx::query_as("SELECT MIN(created_at), MIN(expires_at) FROM invitations WHERE org_id = $1")
            .bind(self.org)
            .fetch_one(&self.app.state.db.pool)
            .await
            .unwrap()
    }

    async fn reminder_jobs(&self) -> i64 {
        self.app
            .scalar_i64("SELECT COUNT(*) FROM outbox_jobs WHERE org_id = $1 AND subject LIKE 'Reminder:%'", self.org)
            .await
    }

    async fn membership(&self, email: &str) -> String {
        let id: i64 = sqlx::query_scalar("SELECT id FROM memberships WHERE org_id = $1 AND email = $2")
            .bind(self.org)
            .bind(email)
            .fetch_one(&self.app.state.db.pool)
            .await
            .unwrap();
        id.to_string()
    }

    /// Registers on a phone with the link's `token`, as Ada.
    async fn register(&self, token: &str) {
        let phone = self.app.visitor();
        let details = [
            ("token", token),
            ("first_name", "Ada"),
            ("last_name", "Lovelace"),
            ("mobile", "+44 7911 123456"),
            ("password", PASSWORD),
        ];
        phone.call("register_details", &details).await.unwrap();
        phone.call("complete_registration", &[("token", token)]).await.unwrap();
    }

    /// The registration link in the newest email to `email`.
    async fn latest_token(&self, email: &str, after: usize) -> String {
        self.app.eventually("an email arrives", || async { self.sink.to(email).len() > after }).await;
        self.sink.to(email).last().unwrap().registration_token().unwrap()
    }
}

async fn reminders_follow_the_schedule_and_stop_once_people_register_or_are_revoked(backend: Backend) {
    let w = world(backend).await;
    w.invite("ada@acme.example, bob@acme.example, cy@acme.example, di@acme.example").await;
    // Sent an hour ago, so that Di's invitation sent again below is clearly later.
    sqlx::query(
        "UPDATE invitations SET created_at = created_at - 3600000, expires_at = expires_at - 3600000 WHERE org_id = $1",
    )
    .bind(w.org)
    .execute(&w.app.state.db.pool)
    .await
    .unwrap();
    let (sent, expires) = w.invited_at().await;
    // Off by default: nothing is scheduled and a sweep sends nothing.
    assert!(w.pending().await.iter().all(|(_, n, next)| (*n, *next) == (0, None)));
    assert_eq!(sweep(&w.app.state, sent + 6 * DAY_MS).await.unwrap(), 0);

    // Turning them on schedules every pending invitation, as the domain rule says.
    w.remind("3", "1", "email", "600").await;
    let rule = ReminderSettings { enabled: true, after_days: 3, before_expiry_days: 1, ..Default::default() };
    for (email, _, next) in w.pending().await {
        assert_eq!(next, rule.next_after(sent, expires, sent), "{email}");
    }
    let first_token = w.latest_token("bob@acme.example", 0).await;

    // Ada registers, Cy is revoked, Di is sent a fresh invitation by hand: only Bob is due.
    let ada_token = w.latest_token("ada@acme.example", 0).await;
    w.register(&ada_token).await;
    w.owner.call("revoke_invitation", &[("id", &w.membership("cy@acme.example").await)]).await.unwrap();
    w.owner.call("resend_invitation", &[("id", &w.membership("di@acme.example").await)]).await.unwrap();
    let (di_resent, di_expires) = sqlx::query_as::<_, (i64, i64)>(
        "SELECT created_at, expires_at FROM invitations WHERE org_id = $1 AND status = 'pending' AND email = 'di@acme.example'",
    )
    .bind(w.org)
    .fetch_one(&w.app.state.db.pool)
    .await
    .unwrap();

    let bob_mails = w.sink.to("bob@acme.example").len();
    assert_eq!(sweep(&w.app.state, sent + 3 * DAY_MS - 1_000).await.unwrap(), 0, "not due yet");
    assert_eq!(sweep(&w.app.state, sent + 3 * DAY_MS + 1_000).await.unwrap(), 1);
    // A second sweep at the same moment, as another instance's, finds nothing more.
    assert_eq!(sweep(&w.app.state, sent + 3 * DAY_MS + 1_000).await.unwrap(), 0);
    let fresh = w.latest_token("bob@acme.example", bob_mails).await;
    let mail = w.sink.to("bob@acme.example").last().unwrap().decoded();
    assert!(mail.contains("Reminder: finish joining Acme"), "{mail}");
    assert_ne!(fresh, first_token);
    // The fresh link works, and so does the first email's: nobody is cut off mid-registration.
    assert!(w.app.visitor().get("registration", &[("token", &fresh)]).await.is_ok());
    assert!(w.app.visitor().get("registration", &[("token", &first_token)]).await.is_ok());

    // The users list says how often Bob was reminded and when the link expires.
    let list = w.owner.get("list_members", &[("filter[status]", "pending")]).await.unwrap();
    let bob = list["rows"].as_array().unwrap().iter().find(|r| r["email"] == "bob@acme.example").unwrap().clone();
    assert!(bob["invitation"].as_str().unwrap().starts_with("Reminded 1× · expires in "), "{bob}");

    // Bob's second reminder falls a day before expiry; Di's schedule started from the resend.
    let pending = w.pending().await;
    assert_eq!(pending[0], ("bob@acme.example".into(), 1, Some(expires - DAY_MS)));
    let di = &pending[1];
    assert_eq!(di.0, "di@acme.example");
    assert!(di.2.unwrap() >= di_resent + 3 * DAY_MS - 1_000, "{di:?}");
    // Settings saved again keep what was already sent: the SQL schedule matches the rule.
    w.remind("3", "1", "email", "600").await;
    assert_eq!(w.pending().await[0], ("bob@acme.example".into(), 1, Some(expires - DAY_MS)));

    // A day before Bob's link expires: his second reminder, and Di's first.
    assert_eq!(sweep(&w.app.state, expires - DAY_MS + 1_000).await.unwrap(), 2);
    let pending = w.pending().await;
    assert_eq!(pending[0], ("bob@acme.example".into(), 2, None));
    assert_eq!(pending[1], ("di@acme.example".into(), 1, Some(di_expires - DAY_MS)));
    assert_eq!(sweep(&w.app.state, di_expires + 1_000).await.unwrap(), 0, "none once the link expired");
    assert_eq!(w.reminder_jobs().await, 3);

    // Turned off, nothing more is scheduled.
    let off = [("after_days", "3"), ("before_expiry_days", "1"), ("channel", "email"), ("per_minute", "600")];
    w.owner.call("update_reminder_settings", &off).await.unwrap();
    assert!(w.pending().await.iter().all(|(_, _, next)| next.is_none()));
    w.app.stop().await;
}

async fn reminders_go_over_chat_where_the_person_is_mapped_and_by_email_otherwise(backend: Backend) {
    let w = world(backend).await;
    w.remind("1", "0", "chat", "600").await;
    w.invite("ada@acme.example, bob@acme.example").await;
    let ada = w.membership("ada@acme.example").await;
    let form = [("provider", "slack"), ("member", ada.as_str()), ("external_id", "U001")];
    w.owner.call("set_identity_mapping", &form).await.unwrap();
    let (sent, _) = w.invited_at().await;
    let bob_mails = w.sink.to("bob@acme.example").len();
    assert_eq!(sweep(&w.app.state, sent + DAY_MS + 1_000).await.unwrap(), 2);
    w.app.eventually("Ada's reminder reaches Slack", || async { w.fake.with(|r| r.slack_messages.len()) == 1 }).await;
    let (user, text) = w.fake.with(|r| r.slack_messages[0].clone());
    assert_eq!(user, "U001");
    assert!(text.contains("/register/"), "{text}");
    w.latest_token("bob@acme.example", bob_mails).await;
    w.app.stop().await;
}

async fn reminders_are_throttled_per_organization(backend: Backend) {
    let w = world(backend).await;
    w.remind("1", "0", "email", "5").await;
    let emails: Vec<String> = (0..12).map(|i| format!("p{i:02}@acme.example")).collect();
    w.invite(&emails.join(", ")).await;
    let (sent, _) = w.invited_at().await;
    let t = sent + DAY_MS + 1_000;
    assert_eq!(sweep(&w.app.state, t).await.unwrap(), 5);
    assert_eq!(sweep(&w.app.state, t + 30_000).await.unwrap(), 0, "the minute's budget is spent");
    assert_eq!(sweep(&w.app.state, t + 60_001).await.unwrap(), 5);
    assert_eq!(sweep(&w.app.state, t + 120_002).await.unwrap(), 2);
    assert_eq!(sweep(&w.app.state, t + 180_003).await.unwrap(), 0);
    assert_eq!(w.reminder_jobs().await, 12);
    w.app.stop().await;
}

/// Two instances on one database sweep the same due reminders at once, again and again: each
/// invitation gets exactly one.
async fn two_instances_send_each_reminder_once(backend: Backend) {
    let w = world(backend).await;
    w.remind("1", "0", "email", "10000").await;
    let emails: Vec<String> = (0..300).map(|i| format!("p{i:03}@acme.example")).collect();
    w.invite(&emails.join(", ")).await;
    w.app
        .eventually_within(std::time::Duration::from_secs(120), "the invitations are sent", || async {
            w.sink.count() >= 300
        })
        .await;
    let url = w.app.state.settings.database.url.expose().to_string();
    let mut settings = test_settings(&url);
    settings.security.secret_key = w.app.state.settings.security.secret_key.clone();
    settings.mail.smtp_url = w.app.state.settings.mail.smtp_url.clone();
    let second = TestApp::start_on(settings).await;
    let (sent, _) = w.invited_at().await;
    let t = sent + DAY_MS + 1_000;
    let sweeps = (0..6).map(|i| {
        let state = if i % 2 == 0 { w.app.state.clone() } else { second.state.clone() };
        tokio::spawn(async move {
            let mut queued = 0;
            for _ in 0..4 {
                queued += sweep(&state, t).await.unwrap();
            }
            queued
        })
    });
    let mut total = 0;
    for s in sweeps {
        total += s.await.unwrap();
    }
    assert_eq!(total, 300);
    assert_eq!(w.reminder_jobs().await, 300);
    assert_eq!(
        w.app.scalar_i64("SELECT COUNT(*) FROM invitations WHERE org_id = $1 AND reminders_sent = 1", w.org).await,
        300
    );
    let delivered = || emails.iter().map(|e| w.sink.to(e).len()).sum::<usize>();
    w.app
        .eventually_within(std::time::Duration::from_secs(120), "every reminder is delivered", || async {
            delivered() >= 600
        })
        .await;
    assert_eq!(delivered(), 600, "one invitation and one reminder each");
    second.stop().await;
    w.app.stop().await;
}

/// A reminder queued while the mail server is down is not sent once the person has registered
/// meanwhile, with the first email's link, which still works after the reminder's was made.
async fn a_queued_reminder_is_dropped_once_the_person_registers(backend: Backend) {
    let w = world(backend).await;
    w.remind("1", "0", "email", "600").await;
    w.invite("ada@acme.example").await;
    let first = w.latest_token("ada@acme.example", 0).await;
    let (sent, _) = w.invited_at().await;
    w.sink.set_down(true);
    assert_eq!(sweep(&w.app.state, sent + DAY_MS + 1_000).await.unwrap(), 1);
    let job = || async {
        sqlx::query_as::<_, (String, i64, Option<String>)>(
            "SELECT status, attempts, delivery FROM outbox_jobs WHERE org_id = $1 AND subject LIKE 'Reminder:%'",
        )
        .bind(w.org)
        .fetch_one(&w.app.state.db.pool)
        .await
        .unwrap()
    };
    w.app.eventually("the first attempt fails", || async { job().await.1 >= 1 }).await;
    w.register(&first).await;
    w.sink.set_down(false);
    w.app
        .eventually_within(std::time::Duration::from_secs(30), "the retry settles the job", || async {
            job().await.0 == "done"
        })
        .await;
    assert_eq!(job().await.2.as_deref(), Some("not sent: no longer waiting to register"));
    assert_eq!(w.sink.to("ada@acme.example").len(), 1, "the invitation only");
    w.app.stop().await;
}

/// "Remind all pending": a preview by channel, then each pending member of the filter reminded
/// once at the organization's rate, with the run's progress; a filter with nobody is refused.
async fn remind_all_reaches_the_filters_pending_members_once_with_progress(backend: Backend) {
    let w = world(backend).await;
    w.remind("3", "1", "chat", "600").await;
    w.owner.call("add_service_area", &[("name", "North")]).await.unwrap();
    w.invite("ada@acme.example, bob@acme.example").await;
    let north = w.app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1 AND name = 'North'", w.org).await;
    let role = w.app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Member'", w.org).await;
    let form = [("emails", "cy@acme.example"), ("area", &north.to_string()), ("role", &role.to_string())];
    w.owner.call("send_invites", &form).await.unwrap();
    let ada = w.membership("ada@acme.example").await;
    let mapping = [("provider", "slack"), ("member", ada.as_str()), ("external_id", "U001")];
    w.owner.call("set_identity_mapping", &mapping).await.unwrap();
    let general = w.app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1 AND name = 'General'", w.org).await;
    let filter = [("filter[status]", "pending"), ("filter[area]", &general.to_string())];

    let plan = w.owner.get("plan_remind_all", &filter).await.unwrap();
    assert_eq!(plan["members"], 2, "{plan}");
    assert_eq!(plan["channels"], serde_json::json!([["slack", 1], ["email", 1]]), "{plan}");
    assert_eq!(plan["per_minute"], 600);
    assert_eq!(w.reminder_jobs().await, 0, "a preview sends nothing");

    let run = w.owner.call("remind_all", &filter).await.unwrap().as_i64().unwrap();
    let progress = || async { w.owner.get("remind_all_progress", &[("id", &run.to_string())]).await.unwrap() };
    w.app.eventually("every reminder of the run is queued", || async { progress().await["done"] == 2 }).await;
    assert_eq!(progress().await["total"], 2);
    assert_eq!(w.reminder_jobs().await, 2);
    let reminded: Vec<(String, i64)> = sqlx::query_as(
        "SELECT email, reminders_sent FROM invitations WHERE org_id = $1 AND status = 'pending' ORDER BY email",
    )
    .bind(w.org)
    .fetch_all(&w.app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(
        reminded,
        [("ada@acme.example".into(), 1), ("bob@acme.example".into(), 1), ("cy@acme.example".into(), 0)]
    );
    w.app.eventually("Ada's reminder reaches Slack", || async { w.fake.with(|r| r.slack_messages.len()) == 1 }).await;
    // The sweeps that follow send nothing more: each was reminded once.
    assert_eq!(sweep(&w.app.state, onboard::server::db::now_ms()).await.unwrap(), 0);

    // An Admin, who may not grant the Owner role, leaves out people invited as Owners.
    let owner_role = w.app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Owner'", w.org).await;
    let form = [("emails", "boss@acme.example"), ("area", &general.to_string()), ("role", &owner_role.to_string())];
    w.owner.call("send_invites", &form).await.unwrap();
    w.app.add_member(w.org, "admin@acme.example", PASSWORD, "Admin").await;
    let admin = w.app.visitor();
    admin.sign_in("admin@acme.example", PASSWORD).await.unwrap();
    let everyone = [("filter[status]", "pending")];
    let plan = admin.get("plan_remind_all", &everyone).await.unwrap();
    assert_eq!((plan["members"].as_i64(), plan["left_out"].as_i64()), (Some(3), Some(1)), "{plan}");
    let run = admin.call("remind_all", &everyone).await.unwrap().as_i64().unwrap();
    let progress = || async { admin.get("remind_all_progress", &[("id", &run.to_string())]).await.unwrap() };
    w.app.eventually("the Admin's run is queued", || async { progress().await["done"] == 3 }).await;
    let boss = w.app.scalar_i64("SELECT reminders_sent FROM invitations WHERE org_id = $1 AND email = 'boss@acme.example' AND status = 'pending'", w.org).await;
    assert_eq!(boss, 0, "the Owner invitee was left out");

    let nobody = w.owner.call("remind_all", &[("filter[status]", "pending"), ("filter[search]", "zzzz")]).await;
    assert!(
        matches!(nobody, Err((422, onboard::AppError::Invalid { ref field, .. })) if field == "filter"),
        "{nobody:?}"
    );
    w.app.stop().await;
}

crate::on_both_databases!(
    a_queued_reminder_is_dropped_once_the_person_registers,
    remind_all_reaches_the_filters_pending_members_once_with_progress,
    reminders_follow_the_schedule_and_stop_once_people_register_or_are_revoked,
    reminders_go_over_chat_where_the_person_is_mapped_and_by_email_otherwise,
    reminders_are_throttled_per_organization,
    two_instances_send_each_reminder_once,
);
