//! Webhooks for onboarding events: endpoints subscribed to some events hear exactly those,
//! signed the Standard Webhooks way; failing endpoints are retried, turned off after days of
//! failure, and replayed; secrets rotate with an overlap; and an event is queued in the
//! transaction of its change, so a change that rolls back tells nobody.

use crate::common::webhook_receiver::{Delivery, Receiver};
use crate::common::{Acme, Backend, Visitor};
use onboard::domain::events::EventType;
use onboard::server::events::{self, About};
use onboard::AppError;
use serde_json::{json, Value};

const PASSWORD: &str = "a long enough passphrase";

async fn create(owner: &Visitor, url: &str, events: &[&str]) -> crate::common::Answer {
    let form = json!({ "form": { "url": url, "description": "CRM sync", "event_types": events } });
    owner.call_json("create_webhook_endpoint", &form).await
}

/// Creates an endpoint; returns (id, secret).
async fn endpoint(owner: &Visitor, url: &str, events: &[&str]) -> (i64, String) {
    let shown = create(owner, url, events).await.unwrap();
    (shown["endpoint_id"].as_i64().unwrap(), shown["secret"].as_str().unwrap().to_string())
}

async fn deliveries(owner: &Visitor, endpoint: i64) -> Vec<Value> {
    let log = owner.get("webhook_deliveries", &[("endpoint", &endpoint.to_string())]).await.unwrap();
    log.as_array().unwrap().clone()
}

async fn endpoint_row(owner: &Visitor, id: i64) -> Value {
    let list = owner.get("webhook_endpoints", &[]).await.unwrap();
    list.as_array().unwrap().iter().find(|e| e["id"] == id).cloned().expect("the endpoint is listed")
}

fn fields(answer: &crate::common::Answer) -> Vec<String> {
    match answer {
        Err((422, AppError::Invalid { field, .. })) => vec![field.clone()],
        Err((422, AppError::InvalidFields(all))) => all.iter().map(|(f, _)| f.clone()).collect(),
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn checked(d: &Delivery, secret: &str) -> Value {
    assert!(d.signed_by(secret), "signed with the endpoint's secret: {d:?}");
    assert!(d.id.starts_with("msg_") && d.content_type == "application/json", "{d:?}");
    let body = d.json();
    assert!(body["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "{body}");
    body["data"].clone()
}

async fn endpoints_hear_the_events_they_subscribe_to_signed_the_standard_webhooks_way(backend: Backend) {
    let w = Acme::start(backend).await;
    let r = Receiver::start().await;
    w.owner.call("publish_eula", &[("body", "Be kind.")]).await.unwrap();

    // Bad input names each field, and saves nothing.
    assert_eq!(fields(&create(&w.owner, "http://hooks.example.com/in", &[]).await), ["url", "event_types"]);
    assert_eq!(fields(&create(&w.owner, "https://10.0.0.7/in", &["member.paused"]).await), ["url"]);
    assert_eq!(fields(&create(&w.owner, &r.url("x"), &["member.paused", "member.deleted"]).await), ["event_types"]);
    assert_eq!(w.app.scalar_i64("SELECT COUNT(*) FROM webhook_endpoints WHERE org_id = $1", w.org).await, 0);

    let everything = [
        "invitation.sent",
        "invitation.delivered",
        "invitation.failed",
        "member.registered",
        "member.activated",
        "member.paused",
        "member.resumed",
        "member.expired",
        "onboarding_message.delivered",
    ];
    let (all, secret) = endpoint(&w.owner, &r.url("all"), &everything).await;
    let (paused, paused_secret) = endpoint(&w.owner, &r.url("paused"), &["member.paused"]).await;
    assert!(secret.starts_with("whsec_") && secret != paused_secret);
    // The secret is shown once: no list carries it.
    let listed = w.owner.get("webhook_endpoints", &[]).await.unwrap().to_string();
    assert!(!listed.contains(&secret) && !listed.contains("whsec_"), "{listed}");

    // Invited: sent, then delivered once the mail server took it; a refused address fails.
    let form = [
        ("emails", "ada@acme.example, refused@acme.example"),
        ("area", &w.general.to_string()),
        ("role", &w.member_role.to_string()),
    ];
    w.owner.call("send_invites", &form).await.unwrap();
    w.app
        .eventually("the invitations are told", || async {
            r.of("all", "invitation.sent").len() == 2
                && r.of("all", "invitation.delivered").len() == 1
                && r.of("all", "invitation.failed").len() == 1
        })
        .await;
    let sent: Vec<Value> = r.of("all", "invitation.sent").iter().map(|d| checked(d, &secret)).collect();
    let ada = sent.iter().find(|d| d["email"] == "ada@acme.example").expect("Ada's invitation");
    assert_eq!((ada["role"].as_str(), ada["service_area"].as_str()), (Some("Member"), Some("General")));
    let delivered = checked(&r.of("all", "invitation.delivered")[0], &secret);
    assert_eq!(
        (delivered["email"].as_str(), delivered["invitation_id"].clone()),
        (Some("ada@acme.example"), ada["invitation_id"].clone())
    );
    let failed = checked(&r.of("all", "invitation.failed")[0], &secret);
    assert_eq!(failed["email"], "refused@acme.example");
    assert!(failed["error"].as_str().is_some_and(|e| e.contains("550")), "{failed}");

    // Ada registers: registered, then activated.
    let token = w.sink.to("ada@acme.example")[0].registration_token().unwrap();
    let phone = w.app.visitor();
    let details = [
        ("token", token.as_str()),
        ("first_name", "Ada"),
        ("last_name", "Lovelace"),
        ("mobile", "+44 7911 123456"),
        ("password", PASSWORD),
    ];
    phone.call("register_details", &details).await.unwrap();
    let eula = w.app.scalar_i64("SELECT id FROM eula_versions WHERE org_id = $1", w.org).await.to_string();
    phone.call("complete_registration", &[("token", &token), ("eula", &eula), ("accept", "on")]).await.unwrap();
    w.app.eventually("the registration is told", || async { r.of("all", "member.activated").len() == 1 }).await;
    // Queued in the order they happened (deliveries may arrive in any order, as the specification allows).
    let log = deliveries(&w.owner, all).await;
    let queued = |kind: &str| log.iter().find(|row| row["event_type"] == kind).map(|row| row["id"].as_i64().unwrap());
    assert!(queued("member.registered").unwrap() < queued("member.activated").unwrap(), "{log:?}");
    assert_eq!(r.of("all", "member.registered").len(), 1);
    let activated = checked(&r.of("all", "member.activated")[0], &secret);
    assert_eq!(
        (activated["first_name"].as_str(), activated["status"].as_str(), activated["email"].as_str()),
        (Some("Ada"), Some("active"), Some("ada@acme.example"))
    );

    // Paused and resumed: the second endpoint hears only the pause.
    let member = w.app.scalar_i64("SELECT m.id FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.org_id = $1 AND a.email = 'ada@acme.example'", w.org).await;
    w.owner.call("pause_member", &[("id", &member.to_string())]).await.unwrap();
    w.owner.call("resume_member", &[("id", &member.to_string())]).await.unwrap();
    w.app
        .eventually("the pause and resume are told", || async {
            r.of("all", "member.resumed").len() == 1 && r.of("paused", "member.paused").len() == 1
        })
        .await;
    assert_eq!(checked(&r.of("all", "member.paused")[0], &secret)["status"], "inactive");
    let paused_delivery = &r.of("paused", "member.paused")[0];
    assert!(paused_delivery.signed_by(&paused_secret) && !paused_delivery.signed_by(&secret));
    // One event, one webhook-id, whichever endpoint hears it.
    assert_eq!(paused_delivery.id, r.of("all", "member.paused")[0].id);

    // Someone with an account already joins: activated, not registered.
    w.app.organization_with_owner("Globex", "gus@globex.example", PASSWORD).await;
    let invite_gus =
        [("emails", "gus@globex.example"), ("area", &w.general.to_string()), ("role", &w.member_role.to_string())];
    w.owner.call("send_invites", &invite_gus).await.unwrap();
    w.app.eventually("Gus's invitation arrives", || async { !w.sink.to("gus@globex.example").is_empty() }).await;
    let gus_token = w.sink.to("gus@globex.example")[0].registration_token().unwrap();
    let gus = w.app.visitor();
    gus.sign_in("gus@globex.example", PASSWORD).await.unwrap();
    let joined = gus.call("join_organization", &[("token", &gus_token), ("eula", &eula), ("accept", "on")]).await;
    assert_eq!(joined.unwrap(), "SignedIn");
    w.app.eventually("the join is told", || async { r.of("all", "member.activated").len() == 2 }).await;
    assert_eq!(checked(&r.of("all", "member.activated")[1], &secret)["email"], "gus@globex.example");
    assert_eq!(r.of("all", "member.registered").len(), 1, "joining is no registration");

    // An onboarding message reaches Bo, whose invitation is then revoked: delivered, expired.
    w.owner
        .call(
            "send_invites",
            &[("emails", "bo@acme.example"), ("area", &w.general.to_string()), ("role", &w.member_role.to_string())],
        )
        .await
        .unwrap();
    let bo = w.app.scalar_i64("SELECT m.id FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.org_id = $1 AND a.email = 'bo@acme.example'", w.org).await;
    w.owner.call("send_onboarding_message", &[("member", &bo.to_string()), ("custom", "")]).await.unwrap();
    w.owner.call("revoke_invitation", &[("id", &bo.to_string())]).await.unwrap();
    w.app
        .eventually("the message and the revocation are told", || async {
            r.of("all", "onboarding_message.delivered").len() == 1 && r.of("all", "member.expired").len() == 1
        })
        .await;
    let message = checked(&r.of("all", "onboarding_message.delivered")[0], &secret);
    assert_eq!((message["email"].as_str(), message["channel"].as_str()), (Some("bo@acme.example"), Some("email")));
    assert_eq!(checked(&r.of("all", "member.expired")[0], &secret)["membership_id"], bo);

    // The second endpoint heard nothing else; each delivery is logged once, delivered first time.
    w.app
        .eventually("every delivery is done", || async {
            deliveries(&w.owner, all).await.iter().all(|row| row["status"] == "delivered")
        })
        .await;
    assert!(r.received().iter().filter(|d| d.path == "paused").all(|d| d.event_type() == "member.paused"));
    assert_eq!(r.received().iter().filter(|d| d.path == "paused").count(), 1);
    let log = deliveries(&w.owner, all).await;
    assert_eq!(log.len(), r.received().iter().filter(|d| d.path == "all").count());
    for row in &log {
        assert_eq!(
            (row["status"].as_str(), row["attempts"].as_i64(), row["response_status"].as_i64()),
            (Some("delivered"), Some(1), Some(204))
        );
        assert!(row["latency_ms"].as_i64().is_some(), "{row}");
    }
    assert_eq!(deliveries(&w.owner, paused).await.len(), 1);
    let audited = "SELECT COUNT(*) FROM audit_log WHERE org_id = $1 AND action = 'webhook.create'";
    assert_eq!(w.app.scalar_i64(audited, w.org).await, 2);
}

async fn a_failing_endpoint_is_retried_turned_off_after_days_of_failure_and_replayed(backend: Backend) {
    let w = Acme::start(backend).await;
    let r = Receiver::start().await;
    let (id, secret) = endpoint(&w.owner, &r.url("flaky"), &["member.paused"]).await;
    r.answer(500);
    w.owner.call("send_test_webhook", &[("id", &id.to_string())]).await.unwrap();
    w.app
        .eventually("the first attempt", || async { !deliveries(&w.owner, id).await[0]["last_error"].is_null() })
        .await;
    let first = deliveries(&w.owner, id).await[0].clone();
    assert_eq!(
        (first["status"].as_str(), first["attempts"].as_i64(), first["response_status"].as_i64()),
        (Some("pending"), Some(1), Some(500))
    );
    assert!(first["last_error"].as_str().unwrap().contains("500"), "{first}");
    assert!(endpoint_row(&w.owner, id).await["failing_since"].is_i64());

    // The retry, brought forward, succeeds with the same webhook-id and a fresh signature.
    r.answer(200);
    sqlx::query("UPDATE outbox_jobs SET run_at = 0 WHERE kind = 'webhook' AND status = 'queued'")
        .execute(&w.app.state.db.pool)
        .await
        .unwrap();
    w.app.eventually("the retry", || async { deliveries(&w.owner, id).await[0]["status"] == "delivered" }).await;
    let tests = r.of("flaky", "webhook.test");
    assert_eq!(tests.len(), 2);
    assert!(tests[0].id == tests[1].id && tests.iter().all(|d| d.signed_by(&secret)));
    assert_eq!(tests[1].json()["data"]["endpoint_id"], id);
    let delivered = deliveries(&w.owner, id).await[0].clone();
    assert_eq!((delivered["attempts"].as_i64(), delivered["response_status"].as_i64()), (Some(2), Some(200)));
    assert!(endpoint_row(&w.owner, id).await["failing_since"].is_null());

    // Replay sends it once more, as it was; a delivery that is not the organization's is not found.
    let delivery = delivered["id"].as_i64().unwrap();
    w.owner.call("replay_webhook_delivery", &[("id", &delivery.to_string())]).await.unwrap();
    w.app.eventually("the replay", || async { r.of("flaky", "webhook.test").len() == 3 }).await;
    assert_eq!(r.of("flaky", "webhook.test")[2].id, tests[0].id);
    assert_eq!(r.of("flaky", "webhook.test")[2].body, tests[0].body);
    let unknown = w.owner.call("replay_webhook_delivery", &[("id", "999999")]).await;
    assert!(matches!(unknown, Err((404, AppError::NotFound))), "{unknown:?}");

    // Failing for more than 5 days turns the endpoint off at its next failure.
    r.answer(503);
    sqlx::query("UPDATE webhook_endpoints SET failing_since = $1 WHERE id = $2")
        .bind(onboard::server::db::now_ms() - 6 * 86_400_000)
        .bind(id)
        .execute(&w.app.state.db.pool)
        .await
        .unwrap();
    w.owner.call("send_test_webhook", &[("id", &id.to_string())]).await.unwrap();
    w.app
        .eventually("the endpoint is turned off", || async { endpoint_row(&w.owner, id).await["disabled_at"].is_i64() })
        .await;
    let off = endpoint_row(&w.owner, id).await;
    assert!(off["disabled_reason"].as_str().unwrap().contains("5 days"), "{off}");
    w.app
        .eventually("the delivery failed for good", || async {
            deliveries(&w.owner, id).await[0]["status"] == "failed"
        })
        .await;
    let failed_jobs = "SELECT COUNT(*) FROM outbox_jobs WHERE org_id = $1 AND kind = 'webhook' AND status = 'failed'";
    assert_eq!(w.app.scalar_i64(failed_jobs, w.org).await, 1);
    // While off it hears nothing, and a test event is refused.
    let member = w.app.add_member(w.org, "grace@acme.example", PASSWORD, "Member").await;
    let membership = w.app.scalar_i64("SELECT id FROM memberships WHERE account_id = $1", member).await;
    w.owner.call("pause_member", &[("id", &membership.to_string())]).await.unwrap();
    let paused = "SELECT COUNT(*) FROM webhook_deliveries WHERE org_id = $1 AND event_type = 'member.paused'";
    assert_eq!(w.app.scalar_i64(paused, w.org).await, 0);
    let refused = w.owner.call("send_test_webhook", &[("id", &id.to_string())]).await;
    assert!(matches!(refused, Err((409, AppError::Conflict(_)))), "{refused:?}");
    // Turned on again, it starts afresh.
    w.owner.call("set_webhook_endpoint_enabled", &[("id", &id.to_string()), ("enabled", "true")]).await.unwrap();
    let on = endpoint_row(&w.owner, id).await;
    assert!(on["disabled_at"].is_null() && on["failing_since"].is_null() && on["disabled_reason"].is_null(), "{on}");
}

async fn a_rotated_secret_signs_beside_the_new_one_for_a_day(backend: Backend) {
    let w = Acme::start(backend).await;
    let r = Receiver::start().await;
    let (id, old) = endpoint(&w.owner, &r.url("rotating"), &["member.paused"]).await;
    let rotated = w.owner.call("rotate_webhook_secret", &[("id", &id.to_string())]).await.unwrap();
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert!(new.starts_with("whsec_") && new != old);
    let until = endpoint_row(&w.owner, id).await["previous_secret_until"].as_i64().unwrap();
    let in_a_day = onboard::server::db::now_ms() + 86_400_000;
    assert!((in_a_day - 60_000..=in_a_day).contains(&until), "{until}");
    w.owner.call("send_test_webhook", &[("id", &id.to_string())]).await.unwrap();
    w.app.eventually("the test event", || async { r.of("rotating", "webhook.test").len() == 1 }).await;
    let both = &r.of("rotating", "webhook.test")[0];
    assert_eq!(both.signatures.len(), 2, "{both:?}");
    assert!(both.signed_by(&old) && both.signed_by(&new));
    // Once the overlap is over, only the new secret signs.
    sqlx::query("UPDATE webhook_endpoints SET previous_until = 1 WHERE id = $1")
        .bind(id)
        .execute(&w.app.state.db.pool)
        .await
        .unwrap();
    w.owner.call("send_test_webhook", &[("id", &id.to_string())]).await.unwrap();
    w.app.eventually("the second test event", || async { r.of("rotating", "webhook.test").len() == 2 }).await;
    let only_new = &r.of("rotating", "webhook.test")[1];
    assert!(only_new.signatures.len() == 1 && only_new.signed_by(&new) && !only_new.signed_by(&old));

    // Editing keeps the secret; a bad edit changes nothing; deleting takes the log with it.
    let edit =
        json!({ "id": id, "form": { "url": r.url("moved"), "description": "", "event_types": ["member.resumed"] } });
    w.owner.call_json("update_webhook_endpoint", &edit).await.unwrap();
    let bad = json!({ "id": id, "form": { "url": "ftp://x", "description": "", "event_types": ["member.resumed"] } });
    assert_eq!(fields(&w.owner.call_json("update_webhook_endpoint", &bad).await), ["url"]);
    let row = endpoint_row(&w.owner, id).await;
    assert_eq!(
        (row["url"].as_str(), row["event_types"].clone()),
        (Some(r.url("moved").as_str()), json!(["member.resumed"]))
    );
    w.owner.call("send_test_webhook", &[("id", &id.to_string())]).await.unwrap();
    w.app.eventually("the moved test event", || async { r.of("moved", "webhook.test").len() == 1 }).await;
    assert!(r.of("moved", "webhook.test")[0].signed_by(&new));
    w.owner.call("delete_webhook_endpoint", &[("id", &id.to_string())]).await.unwrap();
    assert_eq!(w.owner.get("webhook_endpoints", &[]).await.unwrap(), json!([]));
    assert_eq!(w.app.scalar_i64("SELECT COUNT(*) FROM webhook_deliveries WHERE org_id = $1", w.org).await, 0);
}

async fn an_event_is_queued_only_if_its_change_commits_and_endpoints_are_limited(backend: Backend) {
    let w = Acme::start(backend).await;
    let r = Receiver::start().await;
    endpoint(&w.owner, &r.url("a"), &["member.paused"]).await;
    let member = w.app.add_member(w.org, "grace@acme.example", PASSWORD, "Member").await;
    let membership = w.app.scalar_i64("SELECT id FROM memberships WHERE account_id = $1", member).await;
    let db = &w.app.state.db;
    let paused = EventType::MemberPaused;
    let mut rolled_back = db.begin().await.unwrap();
    events::emit(&mut rolled_back, &db.key, w.org, paused, About::Member(membership)).await.unwrap();
    rolled_back.rollback().await.unwrap();
    let queued = "SELECT COUNT(*) FROM webhook_deliveries WHERE org_id = $1";
    let jobs = "SELECT COUNT(*) FROM outbox_jobs WHERE org_id = $1 AND kind = 'webhook'";
    assert_eq!((w.app.scalar_i64(queued, w.org).await, w.app.scalar_i64(jobs, w.org).await), (0, 0));
    let mut committed = db.begin().await.unwrap();
    events::emit(&mut committed, &db.key, w.org, paused, About::Member(membership)).await.unwrap();
    committed.commit().await.unwrap();
    assert_eq!((w.app.scalar_i64(queued, w.org).await, w.app.scalar_i64(jobs, w.org).await), (1, 1));
    w.app.eventually("the committed event is delivered", || async { r.of("a", "member.paused").len() == 1 }).await;

    // A pause refused (the last Owner) tells nobody.
    let owner_membership =
        w.app.scalar_i64("SELECT m.id FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.org_id = $1 AND a.email = 'owner@acme.example'", w.org).await;
    let other = w.app.visitor();
    let admin = w.app.add_member(w.org, "admin@acme.example", PASSWORD, "Admin").await;
    assert!(admin > 0);
    other.sign_in("admin@acme.example", PASSWORD).await.unwrap();
    let refused = other.call("pause_member", &[("id", &owner_membership.to_string())]).await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(w.app.scalar_i64(queued, w.org).await, 1);

    // Twenty endpoints at most, counted by the insert itself.
    for n in 1..20 {
        endpoint(&w.owner, &r.url(&format!("e{n}")), &["member.paused"]).await;
    }
    let one_more = create(&w.owner, &r.url("e20"), &["member.paused"]).await;
    assert!(matches!(one_more, Err((409, AppError::Conflict(ref m))) if m.contains("at most 20")), "{one_more:?}");
}

crate::on_both_databases!(
    endpoints_hear_the_events_they_subscribe_to_signed_the_standard_webhooks_way,
    a_failing_endpoint_is_retried_turned_off_after_days_of_failure_and_replayed,
    a_rotated_secret_signs_beside_the_new_one_for_a_day,
    an_event_is_queued_only_if_its_change_commits_and_endpoints_are_limited,
);
