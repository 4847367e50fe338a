//! Issue 11: one account across organizations, second factor per organization, and limits
//! that hold under parallel requests.

use crate::common::smtp::SmtpSink;
use crate::common::{Backend, TestApp, Visitor};
use onboard::AppError;
use serde_json::Value;

const PASSWORD: &str = "a long enough passphrase";
const BETA_PASSWORD: &str = "another long passphrase";

/// Acme's Owner, and Beta's, on one server with an SMTP sink.
struct TwoOrgs {
    app: TestApp,
    sink: SmtpSink,
    acme: i64,
    beta: i64,
    beta_owner: Visitor,
}

async fn two_orgs(backend: Backend) -> TwoOrgs {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = TestApp::start_with(backend, |s| s.mail.smtp_url = onboard::server::secret::Secret::new(&url)).await;
    let (acme, _) = app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    let (beta, _) = app.organization_with_owner("Beta", "owner@beta.example", BETA_PASSWORD).await;
    let beta_owner = app.visitor();
    beta_owner.sign_in("owner@beta.example", BETA_PASSWORD).await.unwrap();
    TwoOrgs { app, sink, acme, beta, beta_owner }
}

impl TwoOrgs {
    /// Beta's Owner invites `address` as a Member; returns the token of the emailed link.
    async fn beta_invites(&self, address: &str) -> String {
        let area = self.app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1", self.beta).await;
        let role = self.app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Member'", self.beta).await;
        let before = self.sink.to(address).len();
        self.beta_owner
            .call("send_invites", &[("emails", address), ("area", &area.to_string()), ("role", &role.to_string())])
            .await
            .unwrap();
        self.app.eventually("the invitation arrives", || async { self.sink.to(address).len() > before }).await;
        self.sink.to(address).last().unwrap().registration_token().expect("a registration link")
    }

    async fn password_hash(&self, email: &str) -> String {
        sqlx::query_scalar("SELECT password_hash FROM accounts WHERE email = $1")
            .bind(email)
            .fetch_one(&self.app.state.db.pool)
            .await
            .unwrap()
    }

    async fn membership_status(&self, email: &str, org: i64) -> String {
        sqlx::query_scalar(
            "SELECT m.status FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.email = $1 AND m.org_id = $2",
        )
        .bind(email)
        .bind(org)
        .fetch_one(&self.app.state.db.pool)
        .await
        .unwrap()
    }

    async fn latest_code(&self, address: &str, before: usize) -> String {
        self.app.eventually("a code arrives", || async { self.sink.to(address).len() > before }).await;
        self.sink.to(address).last().unwrap().code().expect("a code")
    }
}

fn is_conflict(answer: &Result<Value, (u16, AppError)>) -> bool {
    matches!(answer, Err((409, AppError::Conflict(_))))
}

pub(crate) async fn an_invitation_to_an_existing_account_never_sets_its_credentials(backend: Backend) {
    let w = two_orgs(backend).await;
    let hash_before = w.password_hash("owner@acme.example").await;
    let token = w.beta_invites("owner@acme.example").await;

    // Whoever holds the link is told to sign in, and every registration step is refused.
    let attacker = w.app.visitor();
    let info = attacker.get("registration", &[("token", &token)]).await.unwrap();
    assert_eq!(info["step"], "SignIn", "{info}");
    let details = [
        ("token", token.as_str()),
        ("first_name", "Mallory"),
        ("last_name", "Attacker"),
        ("mobile", "+447911123456"),
        ("password", "the attacker's own passphrase"),
    ];
    let refused = attacker.call("register_details", &details).await;
    assert!(
        matches!(&refused, Err((409, AppError::Conflict(m))) if m.contains("already have an Onboard account")),
        "{refused:?}"
    );
    assert!(is_conflict(&attacker.call("send_registration_code", &[("token", &token), ("factor", "email")]).await));
    assert!(is_conflict(&attacker.call("verify_registration_code", &[("token", &token), ("code", "123456")]).await));
    assert!(is_conflict(&attacker.call("complete_registration", &[("token", &token)]).await));
    // Joining needs the invited account's own sign-in.
    let anonymous_join = attacker.call("join_organization", &[("token", &token)]).await;
    assert!(matches!(anonymous_join, Err((401, AppError::Unauthenticated))), "{anonymous_join:?}");

    assert_eq!(w.password_hash("owner@acme.example").await, hash_before, "the password is unchanged");
    assert!(attacker.whoami().await.is_null());
    assert_eq!(w.membership_status("owner@acme.example", w.beta).await, "pending");
    let owner = w.app.visitor();
    assert_eq!(owner.sign_in("owner@acme.example", PASSWORD).await.unwrap(), "SignedIn");
    assert_eq!(owner.whoami().await["org_name"], "Acme");
    w.app.stop().await;
}

async fn an_owner_who_has_not_set_a_password_yet_cannot_be_taken_over(backend: Backend) {
    let w = two_orgs(backend).await;
    // Gamma's Owner, made by `onboard owner create`, has not used their set-password link yet.
    onboard::server::bootstrap::create_owner(&w.app.state, "fresh@gamma.example", Some("Gamma")).await.unwrap();
    let token = w.beta_invites("fresh@gamma.example").await;
    let attacker = w.app.visitor();
    assert_eq!(attacker.get("registration", &[("token", &token)]).await.unwrap()["step"], "SignIn");
    let details = [
        ("token", token.as_str()),
        ("first_name", "Mallory"),
        ("last_name", "Attacker"),
        ("mobile", "+447911123456"),
        ("password", "the attacker's own passphrase"),
    ];
    assert!(is_conflict(&attacker.call("register_details", &details).await));
    let hash: Option<String> =
        sqlx::query_scalar("SELECT password_hash FROM accounts WHERE email = 'fresh@gamma.example'")
            .fetch_one(&w.app.state.db.pool)
            .await
            .unwrap();
    assert!(hash.is_none());
    w.app.stop().await;
}

async fn an_existing_account_joins_by_signing_in_and_accepting_the_agreement(backend: Backend) {
    let w = two_orgs(backend).await;
    w.beta_owner.call("publish_eula", &[("body", "Beta's terms.")]).await.unwrap();
    let eula = w.app.scalar_i64("SELECT id FROM eula_versions WHERE org_id = $1", w.beta).await.to_string();
    let token = w.beta_invites("owner@acme.example").await;

    let owner = w.app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    let info = owner.get("registration", &[("token", &token)]).await.unwrap();
    assert_eq!(info["step"], "Join", "{info}");
    assert_eq!(info["eula"]["body"], "Beta's terms.");
    let unaccepted = owner.call("join_organization", &[("token", &token), ("eula", &eula)]).await;
    assert!(matches!(&unaccepted, Err((422, AppError::Invalid { field, .. })) if field == "accept"), "{unaccepted:?}");
    let joined = owner.call("join_organization", &[("token", &token), ("eula", &eula), ("accept", "on")]).await;
    assert_eq!(joined.unwrap(), "SignedIn");
    let me = owner.whoami().await;
    assert_eq!((me["org_name"].as_str(), me["role_name"].as_str()), (Some("Beta"), Some("Member")));
    assert_eq!(w.membership_status("owner@acme.example", w.beta).await, "active");
    let accepted = w
        .app
        .scalar_i64("SELECT COUNT(*) FROM eula_acceptances WHERE eula_version_id = $1", eula.parse().unwrap())
        .await;
    assert_eq!(accepted, 1);
    // Still Owner of Acme, with the same password; the spent link does nothing more.
    assert_eq!(w.membership_status("owner@acme.example", w.acme).await, "active");
    let again = owner.call("join_organization", &[("token", &token), ("eula", &eula), ("accept", "on")]).await;
    assert!(is_conflict(&again), "{again:?}");
    w.app.stop().await;
}

pub(crate) async fn joining_while_signed_in_as_someone_else_is_refused(backend: Backend) {
    let w = two_orgs(backend).await;
    let token = w.beta_invites("owner@acme.example").await;
    // Beta's own Owner holds the link (the Outbox once showed it) and is signed in.
    let info = w.beta_owner.get("registration", &[("token", &token)]).await.unwrap();
    assert_eq!(info["step"], "SignIn");
    assert_eq!(info["signed_in_as"], "owner@beta.example");
    let refused = w.beta_owner.call("join_organization", &[("token", &token)]).await;
    assert!(matches!(refused, Err((403, AppError::NotAllowed))), "{refused:?}");
    assert_eq!(w.membership_status("owner@acme.example", w.beta).await, "pending");
    assert_eq!(w.beta_owner.whoami().await["email"], "owner@beta.example");
    w.app.stop().await;
}

async fn a_link_whose_membership_is_no_longer_pending_does_nothing(backend: Backend) {
    let w = two_orgs(backend).await;
    let token = w.beta_invites("late@beta.example").await;
    // The person became Active some other way (a racing registration, say) and was then paused.
    sqlx::query("UPDATE memberships SET status = 'inactive' WHERE org_id = $1 AND account_id = (SELECT id FROM accounts WHERE email = 'late@beta.example')")
        .bind(w.beta)
        .execute(&w.app.state.db.pool)
        .await
        .unwrap();
    let visitor = w.app.visitor();
    assert!(is_conflict(&visitor.get("registration", &[("token", &token)]).await));
    let details = [
        ("token", token.as_str()),
        ("first_name", "Late"),
        ("last_name", "Comer"),
        ("mobile", "+447911123456"),
        ("password", PASSWORD),
    ];
    assert!(is_conflict(&visitor.call("register_details", &details).await));
    assert_eq!(w.membership_status("late@beta.example", w.beta).await, "inactive");
    w.app.stop().await;
}

pub(crate) async fn entering_an_organization_that_requires_2fa_asks_for_a_code(backend: Backend) {
    let w = two_orgs(backend).await;
    // Acme's Owner is also Owner of Zeta, which requires 2FA; Acme does not.
    let zeta =
        onboard::server::bootstrap::create_owner(&w.app.state, "owner@acme.example", Some("Zeta")).await.unwrap();
    sqlx::query("UPDATE organizations SET require_2fa = TRUE WHERE id = $1")
        .bind(zeta.org_id)
        .execute(&w.app.state.db.pool)
        .await
        .unwrap();
    let browser = w.app.visitor();
    assert_eq!(browser.sign_in("owner@acme.example", PASSWORD).await.unwrap(), "SignedIn");
    assert_eq!(browser.whoami().await["org_name"], "Acme");

    let before = w.sink.to("owner@acme.example").len();
    let switched = browser.call("switch_organization", &[("org_id", &zeta.org_id.to_string())]).await.unwrap();
    assert_eq!(switched, "CodeSent");
    assert_eq!(browser.whoami().await["org_name"], "Acme", "not in Zeta without the code");
    let wrong = browser.call("verify_sign_in_code", &[("code", "not a code")]).await;
    assert!(wrong.is_err());
    assert_eq!(browser.whoami().await["org_name"], "Acme");
    let code = w.latest_code("owner@acme.example", before).await;
    browser.call("verify_sign_in_code", &[("code", &code)]).await.unwrap();
    assert_eq!(browser.whoami().await["org_name"], "Zeta");

    // The session has passed a second factor now: back and forth needs no new code.
    let to_acme = browser.call("switch_organization", &[("org_id", &w.acme.to_string())]).await.unwrap();
    assert_eq!(to_acme, "SignedIn");
    let to_zeta = browser.call("switch_organization", &[("org_id", &zeta.org_id.to_string())]).await.unwrap();
    assert_eq!(to_zeta, "SignedIn");
    assert_eq!(browser.whoami().await["org_name"], "Zeta");
    w.app.stop().await;
}

pub(crate) async fn joining_an_organization_that_requires_2fa_asks_for_a_code_first(backend: Backend) {
    let w = two_orgs(backend).await;
    w.beta_owner
        .call(
            "update_general_settings",
            &[("name", "Beta"), ("sender_name", "Beta"), ("invite_lifetime_days", "7"), ("require_2fa", "true")],
        )
        .await
        .unwrap();
    let token = w.beta_invites("owner@acme.example").await;
    let owner = w.app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    let before = w.sink.to("owner@acme.example").len();
    assert_eq!(owner.call("join_organization", &[("token", &token)]).await.unwrap(), "CodeSent");
    assert_eq!(owner.whoami().await["org_name"], "Acme");
    let code = w.latest_code("owner@acme.example", before).await;
    owner.call("verify_sign_in_code", &[("code", &code)]).await.unwrap();
    assert_eq!(owner.whoami().await["org_name"], "Beta");
    w.app.stop().await;
}

pub(crate) async fn parallel_wrong_passwords_are_evaluated_no_more_than_the_limit(backend: Backend) {
    let w = two_orgs(backend).await;
    let hundred = (0..100).map(|i| {
        let v = w.app.visitor();
        async move { v.sign_in("owner@acme.example", &format!("wrong guess number {i}")).await }
    });
    let answers = futures::future::join_all(hundred).await;
    let evaluated = answers.iter().filter(|a| matches!(a, Err((422, _)))).count();
    let throttled = answers.iter().filter(|a| matches!(a, Err((429, _)))).count();
    assert!(evaluated <= 5, "{evaluated} wrong passwords were checked against a limit of 5");
    assert_eq!(evaluated + throttled, 100, "{answers:?}");
    w.app.stop().await;
}

pub(crate) async fn parallel_wrong_codes_are_evaluated_no_more_than_the_limit(backend: Backend) {
    let w = two_orgs(backend).await;
    let token = w.beta_invites("new@beta.example").await;
    let phone = w.app.visitor();
    let details = [
        ("token", token.as_str()),
        ("first_name", "New"),
        ("last_name", "Person"),
        ("mobile", "+447911123456"),
        ("password", PASSWORD),
    ];
    phone.call("register_details", &details).await.unwrap();
    let before = w.sink.to("new@beta.example").len();
    phone.call("send_registration_code", &[("token", &token), ("factor", "email")]).await.unwrap();
    let code = w.latest_code("new@beta.example", before).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let form = [("token", token.as_str()), ("code", wrong)];
    let hundred = (0..100).map(|_| phone.call("verify_registration_code", &form));
    let answers = futures::future::join_all(hundred).await;
    let evaluated = answers.iter().filter(|a| matches!(a, Err((422, _)))).count();
    assert!(evaluated <= 5, "{evaluated} wrong codes were checked against a limit of 5");
    let attempts = w.app.scalar_i64("SELECT MAX(attempts) FROM one_time_codes WHERE id > $1", 0).await;
    assert!(attempts <= 5, "{attempts}");
    // The right code no longer works either: the code is used up.
    let right = phone.call("verify_registration_code", &[("token", &token), ("code", &code)]).await;
    assert!(right.is_err(), "{right:?}");
    w.app.stop().await;
}

async fn an_outsider_cannot_keep_the_owner_locked_out_past_the_window(backend: Backend) {
    let w = two_orgs(backend).await;
    let outsider = w.app.visitor();
    for _ in 0..5 {
        assert!(matches!(outsider.sign_in("owner@acme.example", "wrong").await, Err((422, _))));
    }
    // Locked: more tries are refused without being counted, and so is the right password.
    for _ in 0..10 {
        assert!(matches!(outsider.sign_in("owner@acme.example", "wrong").await, Err((429, _))));
    }
    let owner = w.app.visitor();
    assert!(matches!(owner.sign_in("owner@acme.example", PASSWORD).await, Err((429, _))));
    // The window (15 minutes) passes.
    let window = w.app.state.settings.security.throttle_window_minutes * 60_000 + 1_000;
    sqlx::query("UPDATE attempt_limits SET window_start = window_start - $1")
        .bind(window)
        .execute(&w.app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(owner.sign_in("owner@acme.example", PASSWORD).await.unwrap(), "SignedIn");
    w.app.stop().await;
}

async fn forwarded_addresses_count_only_from_a_trusted_proxy(backend: Backend) {
    for trusted in [true, false] {
        let app = TestApp::start_with(backend, |s| {
            s.security.max_failed_sign_ins_per_ip = 3;
            if trusted {
                s.server.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
            }
        })
        .await;
        let attempt = |client: &'static str, n: usize| {
            let v = app.visitor();
            async move {
                let res = v
                    .client
                    .post(format!("{}/api/sign_in", v.base))
                    .header("accept", "application/json")
                    .header("x-forwarded-for", client)
                    .form(&[("email", format!("nobody{n}@example.com")), ("password", "wrong".into())])
                    .send()
                    .await
                    .unwrap();
                res.status().as_u16()
            }
        };
        for n in 0..3 {
            assert_eq!(attempt("198.51.100.1", n).await, 422);
        }
        assert_eq!(attempt("198.51.100.1", 3).await, 429);
        // Another client behind the proxy has its own budget; without a trusted proxy the
        // header is anyone's to write, so both are the proxy's address.
        assert_eq!(attempt("198.51.100.2", 4).await, if trusted { 422 } else { 429 });
        app.stop().await;
    }
}

/// Every outbox job body and subject Beta's Owner can read.
async fn outbox_text(owner: &Visitor) -> String {
    let overview = owner.get("load_outbox", &[]).await.unwrap();
    overview["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| format!("{}\n{}\n{}", j["subject"], j["body"], j["last_error"]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The done jobs' subjects and payloads, opened: what anyone holding the key could read.
async fn stored_payloads(app: &TestApp) -> String {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT subject, payload FROM outbox_jobs WHERE status = 'done'")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    let key = &app.state.db.key;
    rows.into_iter()
        .map(|(s, p)| format!("{s}\n{}", key.open(onboard::server::sealing::OUTBOX_PAYLOAD, &p).unwrap()))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn register_until_code(app: &TestApp, token: &str) -> Visitor {
    let phone = app.visitor();
    let details = [
        ("token", token),
        ("first_name", "New"),
        ("last_name", "Person"),
        ("mobile", "+447911123456"),
        ("password", PASSWORD),
    ];
    phone.call("register_details", &details).await.unwrap();
    phone.call("send_registration_code", &[("token", token), ("factor", "email")]).await.unwrap();
    phone
}

async fn the_outbox_never_shows_codes_or_links_once_mail_is_configured(backend: Backend) {
    let w = two_orgs(backend).await;
    w.beta_owner
        .call(
            "update_general_settings",
            &[("name", "Beta"), ("sender_name", "Beta"), ("invite_lifetime_days", "7"), ("require_2fa", "true")],
        )
        .await
        .unwrap();
    let token = w.beta_invites("new@beta.example").await;
    let before = w.sink.to("new@beta.example").len();
    register_until_code(&w.app, &token).await;
    let code = w.latest_code("new@beta.example", before).await;
    let code_mail = w.sink.to("new@beta.example").last().unwrap().decoded();
    assert!(code_mail.contains("Subject: Your Onboard code for registering"), "the subject carries no code");
    w.app
        .eventually("both jobs are done", || async {
            w.app.scalar_i64("SELECT COUNT(*) FROM outbox_jobs WHERE status <> 'done' AND id > $1", 0).await == 0
        })
        .await;
    let shown = outbox_text(&w.beta_owner).await;
    assert!(!shown.contains(&token) && !shown.contains(&code), "{shown}");
    assert!(shown.contains("/register/••••"), "the link is shown masked: {shown}");
    assert!(shown.contains("Your Onboard code for registering is ••••"), "{shown}");
    // Nor is either kept in plain text once sent.
    let stored = stored_payloads(&w.app).await;
    assert!(!stored.contains(&token) && !stored.contains(&code), "{stored}");
    w.app.stop().await;
}

async fn in_development_mode_the_outbox_shows_links_but_never_codes(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (org, _) = app.organization_with_owner("Beta", "owner@beta.example", PASSWORD).await;
    let owner = app.visitor();
    owner.sign_in("owner@beta.example", PASSWORD).await.unwrap();
    let area = app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1", org).await;
    let role = app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Member'", org).await;
    owner
        .call(
            "send_invites",
            &[("emails", "dev@beta.example"), ("area", &area.to_string()), ("role", &role.to_string())],
        )
        .await
        .unwrap();
    owner
        .call(
            "update_general_settings",
            &[("name", "Beta"), ("sender_name", "Beta"), ("invite_lifetime_days", "7"), ("require_2fa", "true")],
        )
        .await
        .unwrap();
    app.eventually("the invitation is logged", || async { outbox_text(&owner).await.contains("/register/") }).await;
    let shown = outbox_text(&owner).await;
    let start = shown.find("/register/").unwrap() + "/register/".len();
    let token: String =
        shown[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    assert_eq!(token.len(), 43, "the development mode shows the whole link: {shown}");
    register_until_code(&app, &token).await;
    app.eventually("the code email is logged", || async {
        outbox_text(&owner).await.contains("Your Onboard code for registering is ••••")
    })
    .await;
    let digits = regex_free_six_digits(&outbox_text(&owner).await);
    assert!(digits.is_empty(), "no six-digit code is shown: {digits:?}");
    app.stop().await;
}

/// Runs of exactly six digits in `text`.
fn regex_free_six_digits(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_digit()).filter(|run| run.len() == 6).map(String::from).collect()
}

async fn messages_never_revive_or_extend_invitations_without_users_manage(backend: Backend) {
    let w = two_orgs(backend).await;
    let expired = w.app.add_membership(w.beta, "lapsed@beta.example", "Member", "expired").await;
    w.beta_invites("waiting@beta.example").await;
    let pending = w
        .app
        .scalar_i64("SELECT m.id FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.email = 'waiting@beta.example' AND m.org_id = $1", w.beta)
        .await;
    let expiry = |id: i64| {
        let db = w.app.state.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT MAX(expires_at) FROM invitations WHERE membership_id = $1 AND status = 'pending'",
            )
            .bind(id)
            .fetch_one(&db)
            .await
            .unwrap()
        }
    };
    let invitations = || w.app.scalar_i64("SELECT COUNT(*) FROM invitations WHERE org_id = $1", w.beta);
    let (expiry_before, count_before) = (expiry(pending).await, invitations().await);

    w.app.add_member(w.beta, "manager@beta.example", PASSWORD, "Manager").await;
    let manager = w.app.visitor();
    manager.sign_in("manager@beta.example", PASSWORD).await.unwrap();
    for member in [expired, pending] {
        let plan = manager.get("plan_message", &[("member", &member.to_string())]).await.unwrap();
        assert_eq!(plan["recipients"][0]["needs_link"], false, "{plan}");
        manager.call("send_onboarding_message", &[("member", &member.to_string()), ("custom", "")]).await.unwrap();
    }
    assert_eq!(w.membership_status("lapsed@beta.example", w.beta).await, "expired", "not revived");
    assert_eq!(expiry(pending).await, expiry_before, "not extended");
    assert_eq!(invitations().await, count_before, "no new link");
    w.app.eventually("the reminders arrive", || async { !w.sink.to("lapsed@beta.example").is_empty() }).await;
    let reminder = w.sink.to("lapsed@beta.example").last().unwrap().decoded();
    assert!(reminder.contains("link in your invitation email") && !reminder.contains("/register/"), "{reminder}");

    // An Owner, who may resend invitations anyway, revives it with the message.
    w.beta_owner.call("send_onboarding_message", &[("member", &expired.to_string()), ("custom", "")]).await.unwrap();
    assert_eq!(w.membership_status("lapsed@beta.example", w.beta).await, "pending");
    w.app.stop().await;
}

async fn resend_revoke_and_reset_refuse_a_target_who_outranks_the_caller(backend: Backend) {
    let w = two_orgs(backend).await;
    let area = w.app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1", w.beta).await;
    let owner_role = w.app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Owner'", w.beta).await;
    w.beta_owner
        .call(
            "send_invites",
            &[("emails", "co-owner@beta.example"), ("area", &area.to_string()), ("role", &owner_role.to_string())],
        )
        .await
        .unwrap();
    let co_owner = w
        .app
        .scalar_i64("SELECT m.id FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.email = 'co-owner@beta.example'", 0)
        .await;
    let owner_membership = w
        .app
        .scalar_i64("SELECT m.id FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.email = 'owner@beta.example'", 0)
        .await;
    w.app.add_member(w.beta, "admin@beta.example", PASSWORD, "Admin").await;
    let admin = w.app.visitor();
    admin.sign_in("admin@beta.example", PASSWORD).await.unwrap();
    for endpoint in ["resend_invitation", "revoke_invitation"] {
        let refused = admin.call(endpoint, &[("id", &co_owner.to_string())]).await;
        assert!(is_conflict(&refused), "{endpoint}: {refused:?}");
    }
    // Nor may a message carry a fresh link to them.
    let plan = admin.get("plan_message", &[("member", &co_owner.to_string())]).await.unwrap();
    assert_eq!(plan["recipients"][0]["needs_link"], false, "{plan}");
    let reset = admin.call("reset_second_factor", &[("id", &owner_membership.to_string())]).await;
    assert!(is_conflict(&reset), "{reset:?}");
    assert_eq!(w.membership_status("co-owner@beta.example", w.beta).await, "pending");
    // The Owner may.
    w.beta_owner.call("resend_invitation", &[("id", &co_owner.to_string())]).await.unwrap();
    w.app.stop().await;
}

/// Grants or withdraws one permission of a role, as `who`.
async fn set_permission(who: &Visitor, role: i64, permission: &str, granted: bool) -> crate::common::Answer {
    let form = [("id", role.to_string()), ("permission", permission.into()), ("granted", granted.to_string())];
    who.call("set_role_permission", &form.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await
}

async fn nobody_grants_a_permission_they_lack_or_edits_their_own_role(backend: Backend) {
    let w = two_orgs(backend).await;
    w.beta_owner.call("add_role", &[("name", "Keeper")]).await.unwrap();
    w.beta_owner.call("add_role", &[("name", "Reviewer")]).await.unwrap();
    let keeper = w.app.scalar_i64("SELECT id FROM roles WHERE name = 'Keeper' AND org_id = $1", w.beta).await;
    let reviewer = w.app.scalar_i64("SELECT id FROM roles WHERE name = 'Reviewer' AND org_id = $1", w.beta).await;
    set_permission(&w.beta_owner, keeper, "org.settings", true).await.unwrap();
    w.app.add_member(w.beta, "keeper@beta.example", PASSWORD, "Keeper").await;
    let k = w.app.visitor();
    k.sign_in("keeper@beta.example", PASSWORD).await.unwrap();
    let climb = set_permission(&k, keeper, "users.manage", true).await;
    assert!(climb.is_err(), "{climb:?}");
    let own = set_permission(&k, keeper, "org.settings", false).await;
    assert!(is_conflict(&own), "{own:?}");
    let grant = set_permission(&k, reviewer, "users.manage", true).await;
    assert!(matches!(&grant, Err((422, AppError::Invalid { field, .. })) if field == "permission"), "{grant:?}");
    set_permission(&k, reviewer, "org.settings", true).await.unwrap();
    // A role holding what the caller lacks is out of reach, even to take permissions away.
    let manager = w.app.scalar_i64("SELECT id FROM roles WHERE name = 'Manager' AND org_id = $1", w.beta).await;
    let strip = set_permission(&k, manager, "users.invite", false).await;
    assert!(is_conflict(&strip), "{strip:?}");
    let stored = |id: i64| {
        let db = w.app.state.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT permissions FROM roles WHERE id = $1")
                .bind(id)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    assert_eq!(stored(keeper).await, "org.settings");
    assert_eq!(stored(reviewer).await, "org.settings");
    w.app.stop().await;
}

pub(crate) async fn two_owners_pausing_each_other_at_once_leave_one_active(backend: Backend) {
    let w = two_orgs(backend).await;
    w.app.add_member(w.beta, "second@beta.example", PASSWORD, "Owner").await;
    let second = w.app.visitor();
    second.sign_in("second@beta.example", PASSWORD).await.unwrap();
    let owner_of = |email: &'static str| {
        sqlx::query_scalar::<_, i64>(
            "SELECT m.id FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.email = $1 AND m.org_id = $2",
        )
        .bind(email)
        .bind(w.beta)
        .fetch_one(&w.app.state.db.pool)
    };
    let first_id = owner_of("owner@beta.example").await.unwrap().to_string();
    let second_id = owner_of("second@beta.example").await.unwrap().to_string();
    for round in 0..5 {
        let (pause_second, pause_first) = ([("id", second_id.as_str())], [("id", first_id.as_str())]);
        let (a, b) =
            tokio::join!(w.beta_owner.call("pause_member", &pause_second), second.call("pause_member", &pause_first),);
        let active = w
            .app
            .scalar_i64("SELECT COUNT(*) FROM memberships m JOIN roles r ON r.id = m.role_id WHERE m.org_id = $1 AND m.status = 'active' AND r.locked = TRUE", w.beta)
            .await;
        assert_eq!(active, 1, "round {round}: {a:?} {b:?}");
        assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1, "round {round}: {a:?} {b:?}");
        sqlx::query("UPDATE memberships SET status = 'active' WHERE org_id = $1")
            .bind(w.beta)
            .execute(&w.app.state.db.pool)
            .await
            .unwrap();
        // The paused one was signed out; sign both in again for the next round.
        w.beta_owner.sign_in("owner@beta.example", BETA_PASSWORD).await.unwrap();
        second.sign_in("second@beta.example", PASSWORD).await.unwrap();
    }
    w.app.stop().await;
}

pub(crate) async fn concurrent_permission_edits_lose_nothing(backend: Backend) {
    let w = two_orgs(backend).await;
    w.beta_owner.call("add_role", &[("name", "Everything")]).await.unwrap();
    let role =
        w.app.scalar_i64("SELECT id FROM roles WHERE name = 'Everything' AND org_id = $1", w.beta).await.to_string();
    let keys = [
        "onboarding.view",
        "onboarding.message",
        "identity.configure",
        "users.invite",
        "users.manage",
        "connectors.manage",
        "access.review",
        "org.settings",
    ];
    let grants = keys.iter().map(|k| {
        let form = [("id", role.as_str()), ("permission", *k), ("granted", "true")];
        let owner = &w.beta_owner;
        async move { owner.call("set_role_permission", &form).await }
    });
    for answer in futures::future::join_all(grants).await {
        answer.unwrap();
    }
    let stored: String = sqlx::query_scalar("SELECT permissions FROM roles WHERE name = 'Everything'")
        .fetch_one(&w.app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(stored.split(' ').count(), keys.len(), "{stored}");
    w.app.stop().await;
}

async fn pages_carry_a_content_security_policy_whose_nonce_their_scripts_use(backend: Backend) {
    let app = TestApp::start(backend).await;
    let page = app.visitor().page("/sign-in").await;
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    let nonce = csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce").to_string();
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the hydration scripts carry the policy's nonce");
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
    // Another page, another nonce.
    let again = app.visitor().page("/sign-in").await;
    assert_ne!(again.headers()["content-security-policy"].to_str().unwrap(), csp);
    let api = app.visitor().client.get(format!("{}/api/whoami", app.base)).send().await.unwrap();
    assert_eq!(api.headers()["cache-control"], "no-store");
    app.stop().await;
}

async fn unknown_webhook_keys_do_not_fill_the_cache(backend: Backend) {
    let app = TestApp::start(backend).await;
    let client = reqwest::Client::new();
    for n in 0..50 {
        let key = format!("{n:032}");
        let res = client.post(format!("{}/webhooks/{key}", app.base)).body("{}").send().await.unwrap();
        assert_eq!(res.status(), 404);
    }
    assert_eq!(app.state.webhook_connectors.cached(), 0);
    app.stop().await;
}

// Cross-organization invitations, 2FA across organizations and the concurrency cases run with
// the authorization matrix (authorization.rs).
crate::on_both_databases!(
    an_owner_who_has_not_set_a_password_yet_cannot_be_taken_over,
    an_existing_account_joins_by_signing_in_and_accepting_the_agreement,
    a_link_whose_membership_is_no_longer_pending_does_nothing,
    an_outsider_cannot_keep_the_owner_locked_out_past_the_window,
    forwarded_addresses_count_only_from_a_trusted_proxy,
    the_outbox_never_shows_codes_or_links_once_mail_is_configured,
    in_development_mode_the_outbox_shows_links_but_never_codes,
    messages_never_revive_or_extend_invitations_without_users_manage,
    resend_revoke_and_reset_refuse_a_target_who_outranks_the_caller,
    nobody_grants_a_permission_they_lack_or_edits_their_own_role,
    pages_carry_a_content_security_policy_whose_nonce_their_scripts_use,
    unknown_webhook_keys_do_not_fill_the_cache,
);
