//! Server-rendered pages, health endpoints and request limits.

use crate::common::{Backend, TestApp};

const PASSWORD: &str = "a long enough passphrase";

async fn health_and_readiness_answer(backend: Backend) {
    let app = TestApp::start(backend).await;
    let v = app.visitor();
    assert_eq!(v.page("/healthz").await.text().await.unwrap(), "ok");
    let ready = v.page("/readyz").await;
    assert_eq!(ready.status(), 200);
    app.stop().await;
}

async fn signed_out_visitors_are_sent_to_sign_in(backend: Backend) {
    let app = TestApp::start(backend).await;
    let v = app.visitor();
    for path in ["/", "/settings", "/outbox"] {
        let res = v.page(path).await;
        assert_eq!(res.status(), 302, "{path}");
        assert_eq!(res.headers()["location"], "/sign-in", "{path}");
    }
    let sign_in = v.page("/sign-in").await;
    assert_eq!(sign_in.status(), 200);
    let html = sign_in.text().await.unwrap();
    assert!(html.contains("<title>Sign in · Onboard</title>"), "{html}");
    assert!(html.contains(r#"<label for="password">Password</label>"#));
    assert_eq!(v.page("/no-such-page").await.status(), 404);
    app.stop().await;
}

async fn the_settings_page_renders_complete_on_the_server(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.organization_with_owner("Acme <b>Corp</b>", "owner@acme.example", PASSWORD).await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    let res = owner.page("/settings").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["referrer-policy"] == "same-origin");
    let html = res.text().await.unwrap();
    assert!(html.contains("Organization settings"));
    assert!(html.contains("Roles and permissions"));
    // Names are text, never markup.
    assert!(html.contains("Acme &lt;b&gt;Corp&lt;/b&gt;") && !html.contains("<b>Corp</b>"));
    let home = owner.page("/").await.text().await.unwrap();
    assert!(home.contains(r#"href="/settings""#), "the owner's navigation offers settings");
    app.stop().await;
}

async fn members_do_not_see_pages_their_role_lacks(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (org, _) = app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    app.add_member(org, "mia@acme.example", PASSWORD, "Member").await;
    let mia = app.visitor();
    mia.sign_in("mia@acme.example", PASSWORD).await.unwrap();
    let home = mia.page("/").await.text().await.unwrap();
    assert!(!home.contains(r#"href="/settings""#));
    let settings = mia.page("/settings").await.text().await.unwrap();
    assert!(settings.contains("Not available") && !settings.contains("Roles and permissions"));
    app.stop().await;
}

async fn oversized_request_bodies_are_refused_early(backend: Backend) {
    let app = TestApp::start_with(backend, |s| s.server.max_body_bytes = 64 * 1024).await;
    let body = "x".repeat(200 * 1024);
    let res = reqwest::Client::new()
        .post(format!("{}/api/sign_in", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("email=a%40b.co&password={body}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    app.stop().await;
}

crate::on_both_databases!(
    health_and_readiness_answer,
    signed_out_visitors_are_sent_to_sign_in,
    the_settings_page_renders_complete_on_the_server,
    members_do_not_see_pages_their_role_lacks,
    oversized_request_bodies_are_refused_early,
);
