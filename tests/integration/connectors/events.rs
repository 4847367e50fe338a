//! Access requests told to webhook endpoints: `access_request.created` when a chat user first
//! asks, `access_request.decided` on each decision, with who made it.

use super::*;
use crate::common::webhook_receiver::Receiver;

async fn access_requests_are_told_when_opened_and_decided(backend: Backend) {
    let w = world(backend).await;
    let r = Receiver::start().await;
    let events = ["access_request.created", "access_request.decided"];
    let form = json!({ "form": { "url": r.url("access"), "description": "", "event_types": events } });
    let shown = w.owner.call_json("create_webhook_endpoint", &form).await.unwrap();
    let secret = shown["secret"].as_str().unwrap().to_string();
    let (id, url) = connector(&w, "telegram").await;
    onboarding(&w, id, true, "We will review your request.").await.unwrap();
    assert_eq!(telegram(&w, &url, 1, 42, "hello there").await, 200);
    w.app.eventually("the request is told", || async { r.of("access", "access_request.created").len() == 1 }).await;
    let created = &r.of("access", "access_request.created")[0];
    assert!(created.signed_by(&secret));
    let data = created.json()["data"].clone();
    assert_eq!(
        (data["platform"].as_str(), data["platform_id"].as_str(), data["first_name"].as_str()),
        (Some("telegram"), Some("42"), Some("Tom"))
    );
    assert_eq!((data["first_message"].as_str(), data["status"].as_str()), (Some("hello there"), Some("pending")));
    assert!(data["decided_by"].is_null() && data["connector_id"] == id, "{data}");
    // A second message asks nothing new.
    assert_eq!(telegram(&w, &url, 2, 42, "still there?").await, 200);

    let request = data["access_request_id"].clone();
    for decision in ["Approve", "Undo"] {
        w.owner.call_json("decide_access", &json!({ "ids": [request], "decision": decision })).await.unwrap();
    }
    w.app.eventually("the decisions are told", || async { r.of("access", "access_request.decided").len() == 2 }).await;
    let decided: Vec<Value> =
        r.of("access", "access_request.decided").iter().map(|d| d.json()["data"].clone()).collect();
    assert_eq!(
        (decided[0]["status"].as_str(), decided[0]["decided_by"].as_str()),
        (Some("approved"), Some("owner@acme.example"))
    );
    assert_eq!((decided[1]["status"].as_str(), decided[1]["decided_by"].as_str()), (Some("pending"), None));
    assert_eq!(r.of("access", "access_request.created").len(), 1);
}

crate::on_both_databases!(access_requests_are_told_when_opened_and_decided);
