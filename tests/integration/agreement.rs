//! Terms versions: a version everyone must accept again closes every page until accepted, each
//! acceptance is evidence (version, time, address, browser), and Settings shows who is missing.

use crate::common::{Backend, TestApp, Visitor};
use onboard::AppError;

const PASSWORD: &str = "a long enough passphrase";

async fn publish(owner: &Visitor, body: &str, everyone_again: bool) -> i64 {
    let mut form = vec![("body", body)];
    if everyone_again {
        form.push(("reaccept", "on"));
    }
    owner.call("publish_eula", &form).await.unwrap().as_i64().unwrap()
}

async fn version_id(app: &TestApp, org: i64, version: i64) -> i64 {
    sqlx::query_scalar("SELECT id FROM eula_versions WHERE org_id = $1 AND version = $2")
        .bind(org)
        .bind(version)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

/// Accepts as a browser would, with its User-Agent.
async fn accept(v: &Visitor, eula: i64, user_agent: &str) -> Result<serde_json::Value, (u16, AppError)> {
    let res = v
        .client
        .post(format!("{}/api/accept_agreement", v.base))
        .header("accept", "application/json")
        .header("user-agent", user_agent)
        .form(&[("eula", eula.to_string().as_str()), ("accept", "on")])
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body = res.text().await.unwrap();
    if status == 200 {
        Ok(serde_json::Value::Null)
    } else {
        Err((status, serde_json::from_str(&body).unwrap_or_else(|_| panic!("{status}: {body}"))))
    }
}

async fn everyone_must_accept_a_new_version_before_anything_else(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (org, _) = app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    app.add_member(org, "worker@acme.example", PASSWORD, "Member").await;
    let worker = app.visitor();
    worker.sign_in("worker@acme.example", PASSWORD).await.unwrap();

    // A version that does not ask everyone again closes nothing.
    publish(&owner, "Version one terms.", false).await;
    assert!(worker.get("my_profile", &[]).await.is_ok());
    assert_eq!(worker.whoami().await["agreement_pending"], false);

    publish(&owner, "Version two terms.", true).await;
    let v1 = version_id(&app, org, 1).await;
    let v2 = version_id(&app, org, 2).await;
    let audit: String = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE org_id = $1 AND action = 'eula.published' ORDER BY id DESC LIMIT 1",
    )
    .bind(org)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(audit, "version 2; everyone must accept it again");

    // Already signed in, the member is stopped at once: by every function, and on every page,
    // which sends them to the agreement and back afterwards.
    assert_eq!(worker.get("my_profile", &[]).await.unwrap_err(), (403, AppError::AgreementPending));
    assert_eq!(worker.whoami().await["agreement_pending"], true);
    let page = worker.page("/profile").await;
    assert_eq!(page.status(), 302);
    assert_eq!(page.headers()["location"], "/agreement?next=%2Fprofile");
    // Connecting a chat account waits too.
    let connect = worker.page("/oauth/slack/start").await;
    assert_eq!((connect.status().as_u16(), connect.headers()["location"].to_str().unwrap()), (303, "/agreement"));
    let mine = worker.get("my_agreement", &[]).await.unwrap();
    assert_eq!((mine["pending"].clone(), mine["current"]["version"].clone()), (true.into(), 2.into()));
    assert_eq!(mine["accepted_at"], serde_json::Value::Null);
    assert_eq!(worker.page("/agreement").await.status(), 200);

    // The box must be ticked, and only the current version can be accepted.
    let unticked = worker.call("accept_agreement", &[("eula", &v2.to_string())]).await;
    assert!(matches!(unticked, Err((422, AppError::Invalid { ref field, .. })) if field == "accept"), "{unticked:?}");
    let old = accept(&worker, v1, "Mozilla/5.0").await;
    assert!(matches!(old, Err((409, AppError::Conflict(_)))), "{old:?}");
    let elsewhere = accept(&worker, 999_999, "Mozilla/5.0").await;
    assert!(matches!(elsewhere, Err((409, AppError::Conflict(_)))), "{elsewhere:?}");

    accept(&worker, v2, "=HYPERLINK(\"http://evil.example\",\"x\")").await.unwrap();
    // A second click records nothing more.
    accept(&worker, v2, "Mozilla/5.0").await.unwrap();
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM eula_acceptances WHERE eula_version_id = $1", v2).await, 1);
    assert!(worker.get("my_profile", &[]).await.is_ok());
    assert_eq!(worker.whoami().await["agreement_pending"], false);
    assert!(worker.get("my_agreement", &[]).await.unwrap()["accepted_at"].is_i64());

    // The owner who published it is asked too. Without JavaScript, the form then goes on to
    // where they were going, if that is a path on this site.
    assert_eq!(owner.get("load_org_settings", &[]).await.unwrap_err(), (403, AppError::AgreementPending));
    for (next, lands) in [("//evil.example/", "/"), ("/settings", "/settings")] {
        let plain = owner
            .client
            .post(format!("{}/api/accept_agreement", owner.base))
            .header("accept", "text/html")
            .form(&[("eula", v2.to_string().as_str()), ("accept", "on"), ("next", next)])
            .send()
            .await
            .unwrap();
        assert!(plain.status().is_redirection(), "{next}: {}", plain.status());
        assert_eq!(plain.headers()["location"], lands);
    }
    let settings = owner.get("load_org_settings", &[]).await.unwrap();
    assert_eq!(settings["eulas"][0]["reaccept_required"], true);
    assert_eq!(settings["eulas"][1]["reaccept_required"], false);
    assert_eq!(settings["agreement"]["accepted"], serde_json::json!([[v2, 2], [v1, 0]]));
    assert_eq!(settings["agreement"]["not_yet"], 0);

    // A later version without "everyone again" keeps those who accepted version 2 in.
    publish(&owner, "Version three terms.", false).await;
    assert!(worker.get("my_profile", &[]).await.is_ok());
    app.stop().await;
}

async fn settings_show_who_has_not_accepted_and_export_the_evidence(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (org, _) = app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    for who in ["ada", "brook", "cyd"] {
        app.add_member(org, &format!("{who}@acme.example"), PASSWORD, "Member").await;
    }
    app.add_membership(org, "invitee@acme.example", "Member", "pending").await;
    publish(&owner, "Terms.", true).await;
    let v1 = version_id(&app, org, 1).await;
    accept(&owner, v1, "Mozilla/5.0 (X11; Linux x86_64)").await.unwrap();
    let ada = app.visitor();
    ada.sign_in("ada@acme.example", PASSWORD).await.unwrap();
    accept(&ada, v1, "-cmd|'/C calc'!A0").await.unwrap();
    // Another organization's acceptances stay out of this one's evidence.
    let (globex, _) = app.organization_with_owner("Globex", "owner@globex.example", PASSWORD).await;
    let globex_owner = app.visitor();
    globex_owner.sign_in("owner@globex.example", PASSWORD).await.unwrap();
    publish(&globex_owner, "Globex terms.", true).await;
    accept(&globex_owner, version_id(&app, globex, 1).await, "Globex browser").await.unwrap();

    let settings = owner.get("load_org_settings", &[]).await.unwrap();
    assert_eq!(settings["agreement"]["not_yet"], 2, "brook and cyd; the invitee is not Active");
    let page = owner
        .get("list_members", &[("filter[status]", "active"), ("filter[agreement_pending]", "true")])
        .await
        .unwrap();
    let emails: Vec<&str> = page["rows"].as_array().unwrap().iter().map(|r| r["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["brook@acme.example", "cyd@acme.example"]);
    assert_eq!(page["total"], 2);

    let res = owner.client.get(format!("{}/api/export_agreement_evidence", owner.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(res.headers()["content-disposition"], "attachment; filename=\"agreement-evidence.csv\"");
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], "\u{feff}account,email,version,accepted_at,ip_address,user_agent", "with a BOM for Excel");
    assert_eq!(lines.len(), 4, "a header, two acceptances and the final line end: {csv}");
    assert!(
        lines[1].contains(",owner@acme.example,1,") && lines[1].ends_with(",127.0.0.1,Mozilla/5.0 (X11; Linux x86_64)"),
        "{}",
        lines[1]
    );
    // A user agent that a spreadsheet would run as a formula is kept as text.
    assert!(
        lines[2].contains(",ada@acme.example,1,") && lines[2].ends_with(",127.0.0.1,'-cmd|'/C calc'!A0"),
        "{}",
        lines[2]
    );
    let at = lines[1].split(',').nth(3).unwrap();
    assert!(at.len() == 24 && at.ends_with('Z') && at.as_bytes()[10] == b'T', "RFC 3339 in UTC: {at}");
    assert!(!csv.contains("globex"));
    app.stop().await;
}

crate::on_both_databases!(
    everyone_must_accept_a_new_version_before_anything_else,
    settings_show_who_has_not_accepted_and_export_the_evidence,
);
