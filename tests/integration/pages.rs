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
    let app = TestApp::start_with(backend, |s| {
        s.server.max_body_bytes = 64 * 1024;
        s.server.max_paste_bytes = 256 * 1024;
    })
    .await;
    let post = |path: &str, body: reqwest::Body| {
        reqwest::Client::new()
            .post(format!("{}/api/{path}", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let x = |kib: usize| "x".repeat(kib * 1024);
    let res = post("sign_in", format!("email=a%40b.co&password={}", x(200)).into()).await.unwrap();
    assert_eq!(res.status(), 413);
    // A pasted list of addresses may be larger (a batch of 100,000); it still has a limit.
    let paste = post("check_invites", format!("emails={}", x(200)).into()).await.unwrap();
    assert_eq!(paste.status(), 401, "read, then refused for want of a session");
    let too_long = post("send_invites", format!("emails={}", x(300)).into()).await.unwrap();
    assert_eq!(too_long.status(), 413);
    // A body without a declared length is cut off at the limit all the same: never read as a
    // whole, so never judged (signed out, a whole request is answered 401).
    let status = |kib: usize| {
        let host = app.base.trim_start_matches("http://").to_string();
        async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut tcp = tokio::net::TcpStream::connect(&host).await.unwrap();
            let head = format!(
                "POST /api/create_team HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                 Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            );
            let mut chunks = vec!["name=Ops".to_string()];
            chunks.extend((0..kib).map(|_| "x".repeat(1024)));
            let body: String = chunks.iter().map(|c| format!("{:x}\r\n{c}\r\n", c.len())).collect();
            // The server may answer and close before reading it all.
            let _ = tcp.write_all(format!("{head}{body}0\r\n\r\n").as_bytes()).await;
            let mut answer = Vec::new();
            let _ = tcp.read_to_end(&mut answer).await;
            String::from_utf8_lossy(&answer).split(' ').nth(1).unwrap_or_default().to_string()
        }
    };
    assert_eq!(status(0).await, "401", "a small chunked body is read and judged");
    let unannounced = status(100).await;
    assert!(unannounced.starts_with('4') || unannounced.starts_with('5'), "{unannounced}");
    assert_ne!(unannounced, "401", "{unannounced}");
    app.stop().await;
}

/// A form posted without JavaScript that fails is sent back to its page with the error (server
/// functions' form redirects), not shown the error's JSON: a browser follows only a redirect.
async fn a_plain_form_that_fails_is_sent_back_to_its_page(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = browser
        .post(format!("{}/api/sign_in", app.base))
        .header("accept", "text/html")
        .header("origin", &app.base)
        .header("referer", format!("{}/sign-in", app.base))
        .form(&[("email", "owner@acme.example"), ("password", "not the password")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&format!("{}/sign-in?", app.base)) && location.contains("__err="), "{location}");
    app.stop().await;
}

crate::on_both_databases!(
    health_and_readiness_answer,
    signed_out_visitors_are_sent_to_sign_in,
    the_settings_page_renders_complete_on_the_server,
    members_do_not_see_pages_their_role_lacks,
    oversized_request_bodies_are_refused_early,
    a_plain_form_that_fails_is_sent_back_to_its_page,
);
