use crate::common::{Backend, TestApp};
use onboard::server::bootstrap;
use onboard::AppError;

const PASSWORD: &str = "a long enough passphrase";

async fn the_first_run_creates_an_organization_and_a_one_time_owner_link(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner =
        bootstrap::ensure_first_organization(&app.state).await.unwrap().expect("a fresh database gets an owner");
    assert!(bootstrap::ensure_first_organization(&app.state).await.unwrap().is_none(), "only on the first run");
    let token = owner.link.rsplit('/').next().unwrap().to_string();
    assert!(owner.link.starts_with(&format!("{}/set-password/", app.base)));

    let browser = app.visitor();
    // Opening the link twice (mail scanners do) spends nothing.
    for _ in 0..2 {
        let info = browser.get("password_link", &[("token", &token)]).await.unwrap();
        assert_eq!(info["email"], "owner@example.com");
    }
    let weak = browser.call("set_password", &[("token", &token), ("password", "short"), ("confirm", "short")]).await;
    assert!(matches!(weak, Err((422, AppError::Invalid { ref field, .. })) if field == "password"), "{weak:?}");
    let mismatch =
        browser.call("set_password", &[("token", &token), ("password", PASSWORD), ("confirm", "other")]).await;
    assert!(matches!(mismatch, Err((422, AppError::Invalid { ref field, .. })) if field == "confirm"), "{mismatch:?}");

    browser.call("set_password", &[("token", &token), ("password", PASSWORD), ("confirm", PASSWORD)]).await.unwrap();
    let me = browser.whoami().await;
    assert_eq!(me["org_name"], "My organization");
    assert_eq!(me["role_name"], "Owner");

    let again =
        app.visitor().call("set_password", &[("token", &token), ("password", PASSWORD), ("confirm", PASSWORD)]).await;
    assert!(matches!(again, Err((409, AppError::Conflict(_)))), "{again:?}");
    let used = app.visitor().get("password_link", &[("token", &token)]).await;
    assert!(matches!(used, Err((409, AppError::Conflict(ref m))) if m.contains("already used")), "{used:?}");
    let unknown = app.visitor().get("password_link", &[("token", "not-a-token")]).await;
    assert!(matches!(unknown, Err((404, AppError::NotFound))), "{unknown:?}");
    app.stop().await;
}

async fn two_tabs_cannot_both_spend_one_password_link(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = bootstrap::create_owner(&app.state, "race@example.com", Some("Race")).await.unwrap();
    let token = owner.link.rsplit('/').next().unwrap().to_string();
    let (a, b) = (app.visitor(), app.visitor());
    let form = [("token", token.as_str()), ("password", PASSWORD), ("confirm", PASSWORD)];
    let (ra, rb) = tokio::join!(a.call("set_password", &form), b.call("set_password", &form));
    assert_eq!([ra.is_ok(), rb.is_ok()].iter().filter(|ok| **ok).count(), 1, "{ra:?} {rb:?}");
    app.stop().await;
}

async fn signing_in_starts_a_fresh_session_and_signing_out_ends_it(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.organization_with_owner("Acme", "ada@example.com", PASSWORD).await;
    let browser = app.visitor();
    assert!(browser.whoami().await.is_null());

    let res = browser
        .client
        .post(format!("{}/api/sign_in", app.base))
        .header("accept", "application/json")
        .form(&[("email", " ADA@Example.com "), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers().get("set-cookie").expect("a session cookie").to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let session_value = cookie.split(';').next().unwrap().to_string();

    let me = browser.whoami().await;
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["org_name"], "Acme");

    browser.call("sign_out", &[]).await.unwrap();
    assert!(browser.whoami().await.is_null());
    // The old cookie is dead on the server, not only forgotten by the browser.
    let replay = reqwest::Client::new()
        .get(format!("{}/api/whoami", app.base))
        .header("cookie", session_value)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(replay, "null");
    app.stop().await;
}

async fn a_wrong_password_and_an_unknown_address_get_the_same_answer(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.organization_with_owner("Acme", "ada@example.com", PASSWORD).await;
    let wrong = app.visitor().sign_in("ada@example.com", "not the password").await.unwrap_err();
    let unknown = app.visitor().sign_in("nobody@example.com", "not the password").await.unwrap_err();
    assert_eq!(wrong, unknown);
    assert_eq!(wrong.0, 422);
    let empty = app.visitor().sign_in("", "x").await.unwrap_err();
    assert!(matches!(empty.1, AppError::Invalid { ref field, .. } if field == "email"));
    app.stop().await;
}

async fn repeated_failures_lock_the_account_for_a_while(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.organization_with_owner("Acme", "ada@example.com", PASSWORD).await;
    let attacker = app.visitor();
    for _ in 0..5 {
        assert_eq!(attacker.sign_in("ada@example.com", "guess").await.unwrap_err().0, 422);
    }
    // Even the right password is refused while the account is throttled.
    let locked = app.visitor().sign_in("ada@example.com", PASSWORD).await.unwrap_err();
    assert!(matches!(locked, (429, AppError::TooManyAttempts(_))), "{locked:?}");
    app.stop().await;
}

async fn repeated_failures_from_one_address_are_throttled_across_accounts(backend: Backend) {
    let app = TestApp::start_with(backend, |s| s.security.max_failed_sign_ins_per_ip = 3).await;
    app.organization_with_owner("Acme", "ada@example.com", PASSWORD).await;
    let attacker = app.visitor();
    for n in 0..3 {
        attacker.sign_in(&format!("guess{n}@example.com"), "guess").await.unwrap_err();
    }
    let blocked = attacker.sign_in("ada@example.com", PASSWORD).await.unwrap_err();
    assert!(matches!(blocked, (429, AppError::TooManyAttempts(_))), "{blocked:?}");
    app.stop().await;
}

async fn cross_site_requests_are_refused_before_they_do_anything(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.organization_with_owner("Acme", "ada@example.com", PASSWORD).await;
    let post = |headers: Vec<(&'static str, String)>| {
        let mut req = reqwest::Client::new()
            .post(format!("{}/api/sign_in", app.base))
            .form(&[("email", "ada@example.com"), ("password", PASSWORD)]);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post(vec![("origin", "https://evil.example".into())]).await, 403);
    assert_eq!(post(vec![("sec-fetch-site", "cross-site".into())]).await, 403);
    assert_eq!(post(vec![("sec-fetch-site", "same-site".into())]).await, 403);
    assert_eq!(post(vec![("sec-fetch-site", "same-origin".into())]).await, 200);
    assert_eq!(post(vec![("origin", app.base.clone())]).await, 200);
    // A refused request stored nothing: no failure was counted against the account.
    let failures = app.scalar_i64("SELECT COUNT(*) FROM attempt_limits WHERE count > $1", 0).await;
    assert_eq!(failures, 0);
    app.stop().await;
}

async fn a_member_of_two_organizations_can_switch_between_them(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (acme, _) = app.organization_with_owner("Acme", "ada@example.com", PASSWORD).await;
    let (globex, _) = app.organization_with_owner("Globex", "grace@example.com", PASSWORD).await;
    app.add_member(globex, "ada@example.com", PASSWORD, "Member").await;
    let (other, _) = app.organization_with_owner("Initech", "ivy@example.com", PASSWORD).await;

    let ada = app.visitor();
    ada.sign_in("ada@example.com", PASSWORD).await.unwrap();
    let me = ada.whoami().await;
    assert_eq!(me["orgs"].as_array().unwrap().len(), 2);
    assert_eq!(me["org_id"], acme);
    ada.call("switch_organization", &[("org_id", &globex.to_string())]).await.unwrap();
    let me = ada.whoami().await;
    assert_eq!(me["org_name"], "Globex");
    assert_eq!(me["role_name"], "Member");
    let refused = ada.call("switch_organization", &[("org_id", &other.to_string())]).await;
    assert!(matches!(refused, Err((404, AppError::NotFound))), "{refused:?}");
    assert_eq!(ada.whoami().await["org_name"], "Globex");
    app.stop().await;
}

crate::on_both_databases!(
    the_first_run_creates_an_organization_and_a_one_time_owner_link,
    two_tabs_cannot_both_spend_one_password_link,
    signing_in_starts_a_fresh_session_and_signing_out_ends_it,
    a_wrong_password_and_an_unknown_address_get_the_same_answer,
    repeated_failures_lock_the_account_for_a_while,
    repeated_failures_from_one_address_are_throttled_across_accounts,
    cross_site_requests_are_refused_before_they_do_anything,
    a_member_of_two_organizations_can_switch_between_them,
);
