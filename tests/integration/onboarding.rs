//! Tools › Onboarding: teams, derived statuses, messaging over Slack, Teams and email with the
//! fakes on loopback, identity mappings and match by email, and who may do what.

use crate::common::fakes::{self, FakeChat, Person};
use crate::common::{Backend, TestApp, Visitor};
use onboard::AppError;
use serde_json::Value;

const PASSWORD: &str = "a long enough passphrase";

struct World {
    app: TestApp,
    fake: FakeChat,
    owner: Visitor,
    org: i64,
    team: i64,
}

fn slack_people() -> Vec<Person> {
    vec![
        Person::new("U001", "Ada Lovelace", "ada@acme.example"),
        Person::new("U002", "Alan Turing", "alan@acme.example"),
        Person::new("U003", "Someone Else", "else@elsewhere.example"),
    ]
}

fn teams_people() -> Vec<Person> {
    vec![
        Person::new("aad-grace", "Grace Hopper", "grace@acme.example"),
        Person::new("aad-edsger", "Edsger Dijkstra", "edsger@acme.example"),
        Person::new("aad-other", "Other Person", "other@elsewhere.example"),
    ]
}

/// An organization with a team "Platform": an Active member, and four invited people.
async fn world(backend: Backend) -> World {
    let fake = FakeChat::start(slack_people(), teams_people()).await;
    let f = fake.clone();
    let app = TestApp::start_with(backend, move |s| f.configure(s)).await;
    let (org, _) = app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    app.add_member(org, "done@acme.example", PASSWORD, "Member").await;
    for email in ["ada@acme.example", "alan@acme.example", "grace@acme.example", "nobody@acme.example"] {
        app.add_membership(org, email, "Member", "pending").await;
    }
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    let team = owner.call("create_team", &[("name", "Platform")]).await.unwrap().as_i64().unwrap();
    let emails = "done@acme.example, ada@acme.example\nalan@acme.example; grace@acme.example, nobody@acme.example";
    let added = owner.call("add_team_members", &[("team", &team.to_string()), ("emails", emails)]).await.unwrap();
    assert_eq!(added[0], 5);
    World { app, fake, owner, org, team }
}

async fn membership_of(app: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar("SELECT m.id FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.email = $1")
        .bind(email)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

async fn statuses(owner: &Visitor, team: i64) -> Vec<(String, String)> {
    let page = owner.get("team_members", &[("team", &team.to_string()), ("page", "1")]).await.unwrap();
    page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let row: onboard::api::onboarding::types::TeamMemberRow = serde_json::from_value(r.clone()).unwrap();
            (row.email.clone(), row.status().label().to_string())
        })
        .collect()
}

async fn map(owner: &Visitor, provider: &str, member: i64, id: &str) {
    owner
        .call("set_identity_mapping", &[("provider", provider), ("member", &member.to_string()), ("external_id", id)])
        .await
        .unwrap();
}

async fn send(owner: &Visitor, key: &str, id: i64, custom: &str) -> Result<i64, (u16, AppError)> {
    owner
        .call("send_onboarding_message", &[(key, &id.to_string()), ("custom", custom)])
        .await
        .map(|v| v.as_i64().unwrap())
}

async fn progress(owner: &Visitor, send_id: i64) -> Value {
    owner.get("onboarding_send", &[("id", &send_id.to_string())]).await.unwrap()
}

async fn settled(app: &TestApp, owner: &Visitor, send_id: i64) -> Value {
    app.eventually("every recipient's message is settled", || async {
        progress(owner, send_id).await["recipients"].as_array().unwrap().iter().all(|r| r["status"] != "queued")
    })
    .await;
    progress(owner, send_id).await
}

fn outcome<'a>(progress: &'a Value, email: &str) -> &'a Value {
    progress["recipients"].as_array().unwrap().iter().find(|r| r["email"] == email).unwrap()
}

async fn the_dashboard_derives_each_status_and_counts_teams_and_the_organization(backend: Backend) {
    let w = world(backend).await;
    let ada = membership_of(&w.app, "ada@acme.example").await;
    let grace = membership_of(&w.app, "grace@acme.example").await;
    map(&w.owner, "slack", ada, "U001").await;
    map(&w.owner, "teams", grace, "aad-grace").await;
    let alan = membership_of(&w.app, "alan@acme.example").await;
    let sent = send(&w.owner, "member", alan, "").await.unwrap();
    assert_eq!(outcome(&settled(&w.app, &w.owner, sent).await, "alan@acme.example")["status"], "delivered");

    let mut seen = statuses(&w.owner, w.team).await;
    seen.sort();
    let expected = [
        ("ada@acme.example", "Connected"),
        ("alan@acme.example", "Notified"),
        ("done@acme.example", "Onboarded"),
        ("grace@acme.example", "Connected"),
        ("nobody@acme.example", "Not connected"),
    ];
    assert_eq!(seen, expected.map(|(e, s)| (e.to_string(), s.to_string())));

    let overview = w.owner.get("load_onboarding", &[]).await.unwrap();
    assert_eq!(overview["teams"][0]["name"], "Platform");
    assert_eq!(
        (overview["teams"][0]["members"].as_i64(), overview["teams"][0]["onboarded"].as_i64()),
        (Some(5), Some(1))
    );
    // The owner is onboarded too but on no team: the organization counts everyone.
    let overall = &overview["overall"];
    assert_eq!(
        [&overall["total"], &overall["onboarded"], &overall["notified"], &overall["connected"]]
            .map(|v| v.as_i64().unwrap()),
        [6, 2, 1, 2]
    );

    // The page renders complete on the server, bars included.
    let html = w.owner.page("/onboarding").await.text().await.unwrap();
    assert!(html.contains("33%") && html.contains("Platform") && html.contains("1 / 5"), "{html}");
    let html = w.owner.page(&format!("/onboarding?team={}", w.team)).await.text().await.unwrap();
    assert!(html.contains("nobody@acme.example") && html.contains("Not connected") && html.contains("Notified"));
    w.app.stop().await;
}

async fn teams_are_created_renamed_and_filled_with_clear_errors(backend: Backend) {
    let w = world(backend).await;
    let (status, error) = w.owner.call("create_team", &[("name", "  ")]).await.unwrap_err();
    assert_eq!((status, error.for_field("name").is_some()), (422, true));
    let (_, error) = w.owner.call("create_team", &[("name", "Platform")]).await.unwrap_err();
    assert_eq!(error.for_field("name").as_deref(), Some("There is already a team with that name."));
    let design = w.owner.call("create_team", &[("name", "Design")]).await.unwrap().as_i64().unwrap();
    let (_, error) =
        w.owner.call("rename_team", &[("id", &design.to_string()), ("name", "Platform")]).await.unwrap_err();
    assert!(error.for_field("name").is_some());
    w.owner.call("rename_team", &[("id", &design.to_string()), ("name", "Product design")]).await.unwrap();
    // A person can be on several teams; strangers are reported, not added.
    let added = w
        .owner
        .call(
            "add_team_members",
            &[("team", &design.to_string()), ("emails", "Ada <ada@acme.example>, stranger@x.example")],
        )
        .await
        .unwrap();
    assert_eq!(added, serde_json::json!([1, ["stranger@x.example"]]));
    let (_, error) = w
        .owner
        .call("add_team_members", &[("team", &design.to_string()), ("emails", "stranger@x.example")])
        .await
        .unwrap_err();
    assert!(error.for_field("emails").unwrap().contains("Invite them first"));
    let overview = w.owner.get("load_onboarding", &[]).await.unwrap();
    let names: Vec<&str> = overview["teams"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Platform", "Product design"]);
    let ada = membership_of(&w.app, "ada@acme.example").await;
    w.owner.call("remove_team_member", &[("team", &design.to_string()), ("member", &ada.to_string())]).await.unwrap();
    w.owner.call("delete_team", &[("id", &design.to_string())]).await.unwrap();
    assert_eq!(w.owner.get("load_onboarding", &[]).await.unwrap()["teams"].as_array().unwrap().len(), 1);

    // Many teams: a page of 50 at a time by name, and "find" by part of the name, in any case.
    for i in 0..120 {
        w.owner.call("create_team", &[("name", &format!("Squad {i:03}"))]).await.unwrap();
    }
    let page = |query: &'static [(&'static str, &'static str)]| w.owner.get("load_onboarding", query);
    let names = |overview: &serde_json::Value| -> Vec<String> {
        overview["teams"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect()
    };
    let first = page(&[]).await.unwrap();
    assert_eq!((names(&first).len(), first["teams_total"].as_i64()), (50, Some(121)));
    assert_eq!(names(&first)[0], "Platform");
    let third = page(&[("teams[page]", "3")]).await.unwrap();
    assert_eq!(names(&third).len(), 21);
    assert_eq!(names(&third).last().unwrap(), "Squad 119");
    let found = page(&[("teams[find]", "SQUAD 11")]).await.unwrap();
    assert_eq!((names(&found).len(), found["teams_total"].as_i64()), (10, Some(10)));
    let none = page(&[("teams[find]", "100%")]).await.unwrap();
    assert_eq!(none["teams_total"].as_i64(), Some(0), "a typed % is not a wildcard");
    w.app.stop().await;
}

async fn message_team_reaches_each_member_not_onboarded_over_their_channel(backend: Backend) {
    let w = world(backend).await;
    let ada = membership_of(&w.app, "ada@acme.example").await;
    let grace = membership_of(&w.app, "grace@acme.example").await;
    map(&w.owner, "slack", ada, "U001").await;
    map(&w.owner, "teams", grace, "aad-grace").await;

    let plan = w.owner.get("plan_message", &[("team", &w.team.to_string())]).await.unwrap();
    let channels: Vec<(String, String)> = plan["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["email"].as_str().unwrap().to_string(), r["channel"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        channels,
        [
            ("ada@acme.example", "slack"),
            ("alan@acme.example", "email"),
            ("grace@acme.example", "teams"),
            ("nobody@acme.example", "email")
        ]
        .map(|(e, c)| (e.to_string(), c.to_string()))
    );
    assert_eq!(plan["already_onboarded"], 1);

    let custom = "Please **finish** today. <script>x</script> <!channel>";
    let sent = send(&w.owner, "team", w.team, custom).await.unwrap();
    let progress = settled(&w.app, &w.owner, sent).await;
    for email in ["ada@acme.example", "alan@acme.example", "grace@acme.example", "nobody@acme.example"] {
        assert_eq!(outcome(&progress, email)["status"], "delivered", "{progress}");
    }
    let (slack, teams) = w.fake.with(|r| (r.slack_messages.clone(), r.teams_messages.clone()));
    assert_eq!(slack.len(), 1);
    let (user, text) = &slack[0];
    assert_eq!(user, "U001");
    assert!(text.starts_with("Hello,"), "{text}");
    assert!(
        text.contains("*finish*") && text.contains("&lt;script&gt;") && text.contains("&lt;!channel&gt;"),
        "{text}"
    );
    assert!(!text.contains("<!channel>") && !text.contains("<script>"));
    assert_eq!(teams.len(), 1);
    assert_eq!(teams[0].0, "aad-grace");
    assert!(teams[0].1.contains("<strong>finish</strong>") && teams[0].1.contains("&lt;script&gt;"), "{}", teams[0].1);
    assert!(w.fake.with(|r| r.refused.is_empty()), "{:?}", w.fake.with(|r| r.refused.clone()));

    // The Slack message carries a working registration link; the person is Notified.
    let link = text.split('<').find_map(|part| part.split('|').next().filter(|u| u.contains("/register/"))).unwrap();
    let token = link.rsplit('/').next().unwrap();
    let visitor = w.app.visitor();
    let info = visitor.get("registration", &[("token", token)]).await.unwrap();
    assert_eq!(info["email"], "ada@acme.example");
    let notified: Vec<String> =
        statuses(&w.owner, w.team).await.into_iter().filter(|(_, s)| s == "Notified").map(|(e, _)| e).collect();
    assert_eq!(notified.len(), 4);
    // The emailed ones went out as email, escaped in HTML.
    let body: String = sqlx::query_scalar("SELECT payload FROM outbox_jobs WHERE kind = 'email' AND recipient = $1")
        .bind("nobody@acme.example")
        .fetch_one(&w.app.state.db.pool)
        .await
        .unwrap();
    let body = w.app.state.db.key.open(onboard::server::sealing::OUTBOX_PAYLOAD, &body).unwrap();
    assert!(body.contains("Please **finish** today"));
    let jobs = w.owner.get("load_outbox", &[]).await.unwrap();
    let email_job = jobs["jobs"].as_array().unwrap().iter().find(|j| j["recipient"] == "nobody@acme.example").unwrap();
    assert_eq!(email_job["subject"], "Reminder: finish joining Acme on Onboard");
    assert!(email_job["body"].as_str().unwrap().contains("Please finish today. <script>x</script>"));

    // Everyone on the team is messaged now; a second message to one person is still allowed,
    // and an onboarded member cannot be messaged.
    let done = membership_of(&w.app, "done@acme.example").await;
    let (status, error) = send(&w.owner, "member", done, "").await.unwrap_err();
    assert_eq!(status, 409, "{error:?}");
    w.app.stop().await;
}

async fn custom_messages_that_are_blank_or_too_long_are_refused_and_nothing_is_sent(backend: Backend) {
    let w = world(backend).await;
    let (status, error) = send(&w.owner, "team", w.team, "   \n  ").await.unwrap_err();
    assert_eq!(status, 422);
    assert!(error.for_field("custom").unwrap().contains("blank"));
    let (_, error) = send(&w.owner, "team", w.team, &"x".repeat(2_001)).await.unwrap_err();
    assert!(error.for_field("custom").unwrap().contains("2001 characters"));
    let sends = w.app.scalar_i64("SELECT COUNT(*) FROM onboarding_sends WHERE org_id = $1", w.org).await;
    assert_eq!(sends, 0);
    w.app.stop().await;
}

async fn provider_errors_are_recorded_and_retried_as_they_should_be(backend: Backend) {
    let w = world(backend).await;
    let (ada, alan, grace) = (
        membership_of(&w.app, "ada@acme.example").await,
        membership_of(&w.app, "alan@acme.example").await,
        membership_of(&w.app, "grace@acme.example").await,
    );
    map(&w.owner, "slack", ada, "U001").await;
    map(&w.owner, "slack", alan, "U002").await;
    map(&w.owner, "teams", grace, "aad-grace").await;
    w.fake.with(|r| {
        r.slack_errors.insert("U002".into(), "user_not_found".into());
        r.slack_rate_limited = 1;
        r.teams_blocked.insert("aad-grace".into());
    });
    let sent = send(&w.owner, "team", w.team, "").await.unwrap();
    let progress = settled(&w.app, &w.owner, sent).await;
    // 429 with Retry-After: 1 waited a second, then went through.
    assert_eq!(outcome(&progress, "ada@acme.example")["status"], "delivered", "{progress}");
    let ada_job: (i64, String) =
        sqlx::query_as("SELECT attempts, status FROM outbox_jobs WHERE kind = 'slack' AND recipient = 'U001'")
            .fetch_one(&w.app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(ada_job, (2, "done".to_string()));
    // Slack's ok:false and Teams' 403 cannot pass by retrying: failed at once, with the reason.
    let alan = outcome(&progress, "alan@acme.example");
    assert_eq!(alan["status"], "failed");
    assert!(alan["error"].as_str().unwrap().contains("user_not_found"));
    let grace = outcome(&progress, "grace@acme.example");
    assert_eq!(grace["status"], "failed");
    assert!(grace["error"].as_str().unwrap().contains("403"), "{grace}");
    let failed_attempts: i64 =
        sqlx::query_scalar("SELECT MAX(attempts) FROM outbox_jobs WHERE kind IN ('teams') OR recipient = 'U002'")
            .fetch_one(&w.app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(failed_attempts, 1);
    // The failures are shown on the member rows and they stay unnotified.
    let rows = statuses(&w.owner, w.team).await;
    assert!(rows.contains(&("alan@acme.example".into(), "Connected".into())));
    w.app.stop().await;
}

async fn match_by_email_maps_the_known_and_reports_the_rest(backend: Backend) {
    let w = world(backend).await;
    let report = w.owner.call("match_identities_by_email", &[("provider", "slack")]).await.unwrap();
    assert_eq!(report["matched"], 2, "{report}");
    let unmatched: Vec<&str> = report["unmatched"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
    assert_eq!(unmatched, ["done@acme.example", "grace@acme.example", "nobody@acme.example", "owner@acme.example"]);
    assert_eq!(w.fake.with(|r| r.lookups_by_email), 6);
    let report = w.owner.call("match_identities_by_email", &[("provider", "teams")]).await.unwrap();
    assert_eq!(report["matched"], 1);
    let page = w.owner.get("identity_mappings", &[("provider", "slack"), ("page", "1")]).await.unwrap();
    let ada = page["rows"].as_array().unwrap().iter().find(|r| r["email"] == "ada@acme.example").unwrap();
    assert_eq!((ada["external_id"].as_str(), ada["source"].as_str()), (Some("U001"), Some("email")));
    // The dropdown lists the workspace's people across pages, without bots.
    let ids: Vec<&str> = page["directory"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["U001", "U002", "U003"]);
    let teams = w.owner.get("identity_mappings", &[("provider", "teams"), ("page", "1")]).await.unwrap();
    assert_eq!(teams["directory"].as_array().unwrap().len(), 3);
    // A mapping can be changed by hand and removed; an unknown account is refused.
    let alan = membership_of(&w.app, "alan@acme.example").await;
    let (status, _) = w
        .owner
        .call("set_identity_mapping", &[("provider", "slack"), ("member", &alan.to_string()), ("external_id", "U999")])
        .await
        .unwrap_err();
    assert_eq!(status, 422);
    map(&w.owner, "slack", alan, "U003").await;
    map(&w.owner, "slack", alan, "").await;
    let mapped = w.app.scalar_i64("SELECT COUNT(*) FROM identity_mappings WHERE membership_id = $1", alan).await;
    assert_eq!(mapped, 0);
    assert!(w.fake.with(|r| r.refused.is_empty()));
    w.app.stop().await;
}

async fn each_permission_is_checked_on_the_server(backend: Backend) {
    let w = world(backend).await;
    w.app.add_member(w.org, "manager@acme.example", PASSWORD, "Manager").await;
    w.app.add_member(w.org, "member@acme.example", PASSWORD, "Member").await;
    let team = w.team.to_string();
    let ada = membership_of(&w.app, "ada@acme.example").await.to_string();

    let member = w.app.visitor();
    member.sign_in("member@acme.example", PASSWORD).await.unwrap();
    assert_eq!(member.get("load_onboarding", &[]).await.unwrap_err().0, 403);
    assert_eq!(member.get("team_members", &[("team", &team), ("page", "1")]).await.unwrap_err().0, 403);
    assert_eq!(member.get("plan_message", &[("team", &team)]).await.unwrap_err().0, 403);
    assert_eq!(member.call("send_onboarding_message", &[("team", &team), ("custom", "")]).await.unwrap_err().0, 403);
    assert_eq!(member.get("identity_mappings", &[("provider", "slack"), ("page", "1")]).await.unwrap_err().0, 403);
    assert_eq!(member.call("match_identities_by_email", &[("provider", "slack")]).await.unwrap_err().0, 403);
    assert!(member.page("/onboarding").await.text().await.unwrap().contains("Not available"));

    // A Manager views and messages, but neither maps identities nor edits teams.
    let manager = w.app.visitor();
    manager.sign_in("manager@acme.example", PASSWORD).await.unwrap();
    let overview = manager.get("load_onboarding", &[]).await.unwrap();
    assert_eq!((overview["can_message"].as_bool(), overview["can_edit_teams"].as_bool()), (Some(true), Some(false)));
    manager.get("plan_message", &[("member", &ada)]).await.unwrap();
    send(&manager, "member", ada.parse().unwrap(), "From your manager").await.unwrap();
    assert_eq!(manager.get("identity_mappings", &[("provider", "teams"), ("page", "1")]).await.unwrap_err().0, 403);
    assert_eq!(
        manager
            .call("set_identity_mapping", &[("provider", "slack"), ("member", &ada), ("external_id", "U001")])
            .await
            .unwrap_err()
            .0,
        403
    );
    assert_eq!(manager.call("create_team", &[("name", "Mine")]).await.unwrap_err().0, 403);

    // Nobody reaches into another organization.
    let (other_org, _) = w.app.organization_with_owner("Other", "owner@other.example", PASSWORD).await;
    let stranger = w.app.add_membership(other_org, "x@other.example", "Member", "pending").await;
    assert_eq!(w.owner.get("plan_message", &[("member", &stranger.to_string())]).await.unwrap_err().0, 404);
    let other = w.app.visitor();
    other.sign_in("owner@other.example", PASSWORD).await.unwrap();
    assert_eq!(other.get("team_members", &[("team", &team), ("page", "1")]).await.unwrap_err().0, 404);
    assert_eq!(other.call("rename_team", &[("id", &team), ("name", "Taken")]).await.unwrap_err().0, 404);
    w.app.stop().await;
}

/// Follows one OAuth round trip: Onboard → the provider (which approves) → back to Onboard.
async fn connect(w: &World, member: &Visitor, provider: &str) -> String {
    let start = member.client.get(format!("{}/oauth/{provider}/start", member.base)).send().await.unwrap();
    assert_eq!(start.status(), 303);
    let to_provider = start.headers()["location"].to_str().unwrap().to_string();
    assert!(to_provider.starts_with(&w.fake.base), "{to_provider}");
    assert!(to_provider.contains("code_challenge_method=S256") && to_provider.contains("state="), "{to_provider}");
    let redirect = format!("redirect_uri={}", urlencode(&format!("{}/oauth/{provider}/callback", member.base)));
    assert!(to_provider.contains(&redirect), "{to_provider}");
    let at_provider = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let approved = at_provider.get(&to_provider).send().await.unwrap();
    approved.headers()["location"].to_str().unwrap().to_string()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn back_to_onboard(member: &Visitor, callback: &str) -> String {
    let back = member.client.get(callback).send().await.unwrap();
    assert_eq!(back.status(), 303);
    back.headers()["location"].to_str().unwrap().to_string()
}

async fn members_connect_their_own_slack_and_teams_accounts_with_pkce(backend: Backend) {
    let w = world(backend).await;
    let member = w.app.visitor();
    member.sign_in("done@acme.example", PASSWORD).await.unwrap();

    w.fake.with(|r| r.signing_in = "U002".into());
    let callback = connect(&w, &member, "slack").await;
    assert_eq!(back_to_onboard(&member, &callback).await, "/profile?connected=slack");
    let profile = member.get("my_profile", &[]).await.unwrap();
    assert_eq!(profile["connections"][0]["account"], serde_json::json!(["Alan Turing", "oauth"]));
    assert!(member.page("/profile?connected=slack").await.text().await.unwrap().contains("Slack is connected."));
    // The top bar shows the connected account's picture instead of the initials.
    assert_eq!(member.whoami().await["picture"], "https://avatars.example/U002_72.png");
    let page = member.page("/").await.text().await.unwrap();
    assert!(page.contains(r#"<img src="https://avatars.example/U002_72.png" alt="""#), "{page}");
    // The same return cannot be replayed, and a state that did not start here is refused.
    assert_eq!(back_to_onboard(&member, &callback).await, "/profile?provider=slack&problem=expired");
    let callback = connect(&w, &member, "slack").await;
    let forged = callback.replace("state=", "state=x");
    assert_eq!(back_to_onboard(&member, &forged).await, "/profile?provider=slack&problem=expired");
    // Cancelled at the provider.
    let cancelled = format!("{}/oauth/slack/callback?error=access_denied", member.base);
    assert_eq!(back_to_onboard(&member, &cancelled).await, "/profile?provider=slack&problem=cancelled");

    // A photo that is no JPEG, PNG or GIF is not kept, and connecting still works.
    w.fake.with(|r| (r.signing_in, r.photo_type) = ("aad-edsger".into(), Some("image/svg+xml")));
    let callback = connect(&w, &member, "teams").await;
    assert_eq!(back_to_onboard(&member, &callback).await, "/profile?connected=teams");
    assert_eq!(member.whoami().await["picture"], "https://avatars.example/U002_72.png");
    w.fake.with(|r| r.photo_type = Some("image/png"));
    let callback = connect(&w, &member, "teams").await;
    assert_eq!(back_to_onboard(&member, &callback).await, "/profile?connected=teams");
    let profile = member.get("my_profile", &[]).await.unwrap();
    assert_eq!(profile["connections"][1]["account"], serde_json::json!(["Edsger Dijkstra", "oauth"]));
    use base64::Engine as _;
    let photo =
        format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(fakes::GRAPH_PHOTO));
    assert_eq!(member.whoami().await["picture"], photo.as_str(), "the newest connection's picture");
    let done = membership_of(&w.app, "done@acme.example").await;
    let page = w.owner.get("identity_mappings", &[("provider", "teams"), ("page", "1")]).await.unwrap();
    let row = page["rows"].as_array().unwrap().iter().find(|r| r["membership_id"] == done).unwrap();
    assert_eq!((row["external_id"].as_str(), row["source"].as_str()), (Some("aad-edsger"), Some("oauth")));
    assert!(w.fake.with(|r| r.refused.is_empty()), "{:?}", w.fake.with(|r| r.refused.clone()));

    // An admin's mapping to another account drops the picture of the one the member connected.
    let remap = [("provider", "teams"), ("member", &done.to_string()), ("external_id", "aad-grace")];
    w.owner.call("set_identity_mapping", &remap).await.unwrap();
    assert_eq!(member.whoami().await["picture"], "https://avatars.example/U002_72.png");
    member.call("disconnect_identity", &[("provider", "slack")]).await.unwrap();
    assert_eq!(member.get("my_profile", &[]).await.unwrap()["connections"][0]["account"], Value::Null);
    assert_eq!(member.whoami().await["picture"], Value::Null, "initials again");
    let stranger = w.app.visitor();
    let start = stranger.client.get(format!("{}/oauth/slack/start", stranger.base)).send().await.unwrap();
    assert_eq!(start.headers()["location"], "/sign-in");
    w.app.stop().await;
}

async fn a_team_lists_its_members_by_address_as_addresses_change(backend: Backend) {
    let w = world(backend).await;
    let addresses = |rows: Vec<(String, String)>| rows.into_iter().map(|(email, _)| email).collect::<Vec<_>>();
    let before = addresses(statuses(&w.owner, w.team).await);
    assert_eq!(
        before,
        ["ada@acme.example", "alan@acme.example", "done@acme.example", "grace@acme.example", "nobody@acme.example"]
    );
    // An address rewritten (as the international-domain rewrite at start-up does) moves in the list.
    sqlx::query("UPDATE accounts SET email = 'zoe@acme.example' WHERE email = 'ada@acme.example'")
        .execute(&w.app.state.db.pool)
        .await
        .unwrap();
    w.app.add_membership(w.org, "bea@acme.example", "Member", "pending").await;
    let team = w.team.to_string();
    w.owner.call("add_team_members", &[("team", &team), ("emails", "bea@acme.example")]).await.unwrap();
    let after = addresses(statuses(&w.owner, w.team).await);
    let expected = ["alan", "bea", "done", "grace", "nobody", "zoe"].map(|n| format!("{n}@acme.example"));
    assert_eq!(after, expected);
    w.app.stop().await;
}

crate::on_both_databases!(
    a_team_lists_its_members_by_address_as_addresses_change,
    members_connect_their_own_slack_and_teams_accounts_with_pkce,
    the_dashboard_derives_each_status_and_counts_teams_and_the_organization,
    teams_are_created_renamed_and_filled_with_clear_errors,
    message_team_reaches_each_member_not_onboarded_over_their_channel,
    custom_messages_that_are_blank_or_too_long_are_refused_and_nothing_is_sent,
    provider_errors_are_recorded_and_retried_as_they_should_be,
    match_by_email_maps_the_known_and_reports_the_rest,
    each_permission_is_checked_on_the_server,
);
