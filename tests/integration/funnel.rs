//! The onboarding funnel: each step counted from what registering records, the opens a mail
//! scanner may have made kept apart, the median time of each step, scopes, and the CSV export.

use crate::common::smtp::SmtpSink;
use crate::common::{Acme, Backend, TestApp, Visitor, OWNER_PASSWORD as PASSWORD};
use onboard::AppError;
use serde_json::Value;

struct World {
    app: TestApp,
    sink: SmtpSink,
    owner: Visitor,
    org: i64,
    member_role: i64,
}

async fn world(backend: Backend) -> World {
    let Acme { app, sink, owner, org, member_role, .. } = Acme::start(backend).await;
    World { app, sink, owner, org, member_role }
}

impl World {
    /// Invites `emails` into `area`; the batch's id.
    async fn invite(&self, emails: &str, area: i64) -> i64 {
        let form = [("emails", emails), ("area", &area.to_string()), ("role", &self.member_role.to_string())];
        self.owner.call("send_invites", &form).await.unwrap().as_i64().unwrap()
    }

    async fn token_for(&self, address: &str) -> String {
        self.app
            .eventually(&format!("an invitation reaches {address}"), || async { !self.sink.to(address).is_empty() })
            .await;
        self.sink.to(address).last().unwrap().registration_token().expect("a registration link")
    }

    async fn funnel(&self, scope: &str) -> Value {
        self.owner.get("onboarding_funnel", &[("scope", scope)]).await.unwrap()
    }

    async fn run(&self, sql: &str, at: i64, email: &str) {
        sqlx::query(sql).bind(at).bind(email).execute(&self.app.state.db.pool).await.unwrap();
    }

    /// Records the invitation email to `email` as delivered at `at` (ms since the epoch).
    async fn delivered_at(&self, email: &str, at: i64) {
        let sql =
            "UPDATE outbox_jobs SET done_at = $1 WHERE id = (SELECT outbox_job_id FROM invitations WHERE email = $2)";
        self.run(sql, at, email).await;
    }

    /// Sets when `email`'s membership was invited.
    async fn invited_at(&self, email: &str, at: i64) {
        self.run("UPDATE memberships SET created_at = $1 WHERE email = $2", at, email).await;
    }

    /// Sets a funnel time of `email`'s membership.
    async fn set(&self, column: &str, email: &str, at: i64) {
        let sql = format!(
            "INSERT INTO membership_funnel (membership_id, {column}) SELECT id, $1 FROM memberships WHERE email = $2
             ON CONFLICT (membership_id) DO UPDATE SET {column} = excluded.{column}"
        );
        self.run(&sql, at, email).await;
    }

    async fn link_opened_at(&self, email: &str) -> i64 {
        let sql = "SELECT f.link_opened_at FROM membership_funnel f JOIN memberships m ON m.id = f.membership_id
                   WHERE m.email = $1";
        sqlx::query_scalar(sql).bind(email).fetch_one(&self.app.state.db.pool).await.unwrap()
    }
}

fn reached(funnel: &Value) -> Vec<i64> {
    funnel["stages"].as_array().unwrap().iter().map(|s| s["reached"].as_i64().unwrap()).collect()
}

fn median(funnel: &Value, step: &str) -> Option<i64> {
    let stages = funnel["stages"].as_array().unwrap();
    stages.iter().find(|s| s["step"] == step).unwrap()["median_ms"].as_i64()
}

fn details<'a>(token: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("token", token),
        ("first_name", "Ada"),
        ("last_name", "Lovelace"),
        ("mobile", "+33612345678"),
        ("password", PASSWORD),
    ]
}

async fn the_funnel_follows_invitees_step_by_step_and_keeps_possible_scanners_apart(backend: Backend) {
    let w = world(backend).await;
    let form = [("name", "Acme"), ("sender_name", "Acme"), ("invite_lifetime_days", "7"), ("require_2fa", "on")];
    w.owner.call("update_general_settings", &form).await.unwrap();
    w.owner.call("publish_eula", &[("body", "Be kind.")]).await.unwrap();
    let general = w.app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1 AND name = 'General'", w.org).await;
    let first_batch =
        w.invite("a@acme.example, b@acme.example, c@acme.example, d@acme.example, e@acme.example", general).await;
    let mut tokens = Vec::new();
    for who in ["a", "b", "c", "d", "e"] {
        tokens.push(w.token_for(&format!("{who}@acme.example")).await);
    }
    w.app
        .eventually("every invitation is recorded as delivered", || async {
            reached(&w.funnel("organization").await)[1] == 5
        })
        .await;

    // b's link is only asked for with HEAD, as link checkers do, long after the email: still a
    // possible scanner.
    let now = onboard::server::db::now_ms();
    w.delivered_at("b@acme.example", now - 3_600_000).await;
    let head = w.app.visitor();
    let res = head.client.head(format!("{}/register/{}", head.base, tokens[1])).send().await.unwrap();
    assert_eq!(res.status(), 200);
    // c opens the link a minute after the email arrived: that open is theirs.
    w.delivered_at("c@acme.example", now - 60_000).await;
    let c = w.app.visitor();
    assert_eq!(c.page(&format!("/register/{}", tokens[2])).await.status(), 200);
    let opened = w.link_opened_at("c@acme.example").await;
    assert_eq!(c.page(&format!("/register/{}", tokens[2])).await.status(), 200);
    assert_eq!(w.link_opened_at("c@acme.example").await, opened, "an open is counted once, at the first");
    // d opens it as the email arrives (a scanner could have) and then enters their details: d opened it.
    w.delivered_at("d@acme.example", onboard::server::db::now_ms()).await;
    let d = w.app.visitor();
    d.get("registration", &[("token", &tokens[3])]).await.unwrap();
    assert_eq!(d.call("register_details", &details(&tokens[3])).await.unwrap(), "SecondFactor");
    // e goes all the way, proving an emailed code and accepting the agreement.
    let e = w.app.visitor();
    e.call("register_details", &details(&tokens[4])).await.unwrap();
    let before = w.sink.to("e@acme.example").len();
    e.call("send_registration_code", &[("token", &tokens[4]), ("factor", "email")]).await.unwrap();
    w.app.eventually("the code reaches e", || async { w.sink.to("e@acme.example").len() > before }).await;
    let code = w.sink.to("e@acme.example").last().unwrap().code().unwrap();
    assert_eq!(e.call("verify_registration_code", &[("token", &tokens[4]), ("code", &code)]).await.unwrap(), "Eula");
    let eula = w.app.scalar_i64("SELECT id FROM eula_versions WHERE org_id = $1", w.org).await.to_string();
    e.call("complete_registration", &[("token", &tokens[4]), ("eula", &eula), ("accept", "on")]).await.unwrap();

    let org = w.funnel("organization").await;
    assert_eq!(org["scope_label"], "Whole organization");
    assert_eq!(reached(&org), [5, 5, 3, 2, 1, 1, 1], "{org}");
    assert_eq!(org["possible_scanners"], 1, "b's HEAD only; d went on, so d opened it");
    assert_eq!(org["agreement_pending"], 0);
    assert_eq!(reached(&w.funnel(&format!("batch:{first_batch}")).await), [5, 5, 3, 2, 1, 1, 1]);

    // The median time of a step: the middle one, or the lower middle of an even count.
    let t0 = 1_800_000_000_000;
    for (who, delivered) in [("a", 1_000), ("b", 2_000), ("c", 3_000), ("d", 4_000), ("e", 10_000)] {
        let email = format!("{who}@acme.example");
        w.invited_at(&email, t0).await;
        w.delivered_at(&email, t0 + delivered).await;
    }
    w.set("link_opened_at", "c@acme.example", t0 + 3_000 + 60_000).await;
    w.set("scanner_opened_at", "d@acme.example", t0 + 4_000 + 120_000).await;
    w.set("link_opened_at", "e@acme.example", t0 + 10_000 + 30_000).await;
    w.set("details_at", "d@acme.example", t0 + 124_000 + 300_000).await;
    w.set("details_at", "e@acme.example", t0 + 40_000 + 100_000).await;
    let org = w.funnel("organization").await;
    assert_eq!(median(&org, "invited"), None);
    assert_eq!(median(&org, "delivered"), Some(3_000), "of 1, 2, 3, 4 and 10 s");
    assert_eq!(
        median(&org, "link-opened"),
        Some(60_000),
        "of 30, 60 and 120 s, a scanner-like open d went on from included"
    );
    assert_eq!(median(&org, "details-entered"), Some(100_000), "of 100 and 300 s");

    // Scopes: a team, a service area, a batch; another organization's team is not found.
    let team = w.owner.call("create_team", &[("name", "Night shift")]).await.unwrap().as_i64().unwrap();
    let members = [("team", team.to_string()), ("emails", "d@acme.example, e@acme.example".to_string())];
    let members: Vec<(&str, &str)> = members.iter().map(|(k, v)| (*k, v.as_str())).collect();
    w.owner.call("add_team_members", &members).await.unwrap();
    let team_funnel = w.funnel(&format!("team:{team}")).await;
    assert_eq!(
        (team_funnel["scope_label"].as_str(), reached(&team_funnel)),
        (Some("Team Night shift"), vec![2, 2, 2, 2, 1, 1, 1])
    );
    w.owner.call("add_service_area", &[("name", "North")]).await.unwrap();
    let north = w.app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1 AND name = 'North'", w.org).await;
    let second_batch = w.invite("f@acme.example", north).await;
    let area_funnel = w.funnel(&format!("area:{north}")).await;
    assert_eq!((area_funnel["scope_label"].as_str(), reached(&area_funnel)[0]), (Some("Service area North"), 1));
    assert_eq!(reached(&w.funnel(&format!("batch:{second_batch}")).await)[0], 1);
    assert_eq!(reached(&w.funnel("organization").await)[0], 6, "the Owner was not invited: not in the funnel");
    let keys: Vec<String> =
        org["choices"].as_array().unwrap().iter().map(|c| c["label"].as_str().unwrap().to_string()).collect();
    assert!(keys.iter().any(|k| k.starts_with("Batch of ")), "{keys:?}");
    let (globex, _) = w.app.organization_with_owner("Globex", "owner@globex.example", PASSWORD).await;
    let theirs = w
        .app
        .scalar_i64("INSERT INTO teams (org_id, name, created_at) VALUES ($1, 'Theirs', 0) RETURNING id", globex)
        .await;
    let refused = w.owner.get("onboarding_funnel", &[("scope", &format!("team:{theirs}"))]).await;
    assert!(matches!(refused, Err((404, AppError::NotFound))), "{refused:?}");
    assert_eq!(
        w.funnel("team:twelve").await["scope_label"],
        "Whole organization",
        "an unreadable scope is the organization"
    );

    // Asked to accept a new version, e is Active with the agreement pending.
    w.owner.call("publish_eula", &[("body", "Be kinder."), ("reaccept", "on")]).await.unwrap();
    let second = w.app.scalar_i64("SELECT MAX(id) FROM eula_versions WHERE org_id = $1", w.org).await.to_string();
    w.owner.call("accept_agreement", &[("eula", second.as_str()), ("accept", "on")]).await.unwrap();
    assert_eq!(w.funnel(&format!("team:{team}")).await["agreement_pending"], 1);

    // The export says the same, in a file named after the scope.
    let res = w
        .owner
        .client
        .get(format!("{}/api/export_funnel", w.owner.base))
        .query(&[("scope", format!("team:{team}"))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.contains(&format!("onboarding-funnel-team-{team}.csv")), "{disposition}");
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "\u{feff}step,reached,conversion_percent,median_seconds");
    assert_eq!(lines[1], "invited,2,,");
    assert!(lines[2].starts_with("delivered,2,100.0,"), "{csv}");
    assert_eq!(lines[7], "active,1,100.0,0", "{csv}");
    assert_eq!(&lines[8..], ["link-opened-possible-scanner-only,0,,", "active-agreement-pending,1,,"]);
    w.app.stop().await;
}

crate::on_both_databases!(the_funnel_follows_invitees_step_by_step_and_keeps_possible_scanners_apart);
