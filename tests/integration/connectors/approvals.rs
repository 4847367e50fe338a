//! Approvals in chat: a connector's new requests posted as cards to the approvers' Slack channel
//! or Teams chat, decided there by approvers only (first click wins), or in the panel, each card
//! updated in place, and the requester told once approved.

use super::teams::bot_token;
use super::*;

/// Maps a member's chat identity, as Settings › Slack / Microsoft Teams mappings would.
async fn map_identity(w: &World, account: i64, provider: &str, external_id: &str) {
    let membership = w.app.scalar_i64("SELECT id FROM memberships WHERE account_id = $1", account).await;
    sqlx::query(
        "INSERT INTO identity_mappings (org_id, membership_id, provider, external_id, source, created_at)
         VALUES ($1, $2, $3, $4, 'manual', 0)",
    )
    .bind(w.org)
    .bind(membership)
    .bind(provider)
    .bind(external_id)
    .execute(&w.app.state.db.pool)
    .await
    .unwrap();
}

async fn approvals(w: &World, id: i64, via: &str, conversation: &str, message: &str) -> crate::common::Answer {
    let id = id.to_string();
    w.owner
        .call(
            "set_connector_approvals",
            &[("id", id.as_str()), ("via", via), ("conversation", conversation), ("message", message)],
        )
        .await
}

/// A click on a Slack card's button, signed as Slack signs interactivity requests.
async fn slack_click(w: &World, webhook: &str, user: &str, action: &str, request: i64) -> u16 {
    let payload = json!({
        "type": "block_actions", "user": { "id": user }, "channel": { "id": "C0APPROVERS" },
        "container": { "type": "message", "channel_id": "C0APPROVERS", "message_ts": "101.0" },
        "actions": [{ "action_id": action, "value": request.to_string(), "block_id": "b" }],
        "response_url": "https://hooks.slack.example/actions/1",
    });
    let body = format!("payload={}", percent(&payload.to_string()));
    let now = now_s();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SLACK_SIGNING.as_bytes()).unwrap();
    mac.update(format!("v0:{now}:{body}").as_bytes());
    let signature = format!("v0={}", hex::encode(mac.finalize().into_bytes()));
    w.http
        .post(webhook)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("X-Slack-Request-Timestamp", now.to_string())
        .header("X-Slack-Signature", signature)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn request_of(w: &World, platform_id: &str) -> (i64, String, Option<i64>) {
    sqlx::query_as(
        "SELECT r.id, r.status, r.decided_by FROM access_requests r JOIN chat_users u ON u.id = r.chat_user_id
         WHERE u.platform_id = $1",
    )
    .bind(platform_id)
    .fetch_one(&w.app.state.db.pool)
    .await
    .unwrap()
}

/// Waits until no card job is left to run: a card posted is also recorded as posted, so what
/// follows is an update of it.
async fn cards_settled(w: &World) {
    w.app
        .eventually("the card jobs are done", || async {
            count(w, "SELECT COUNT(*) FROM outbox_jobs WHERE org_id = $1 AND kind = 'card' AND status <> 'done'").await
                == 0
        })
        .await;
}

/// The latest update of a posted card (a Slack `ts`, or a Teams activity id), if any.
fn last_update(w: &World, posted: &str) -> Option<Value> {
    w.fake.with(|r| r.card_updates.iter().rev().find(|u| u["ts"] == posted || u["activity"] == posted).cloned())
}

/// Whether the latest update of a Slack card shows `text`.
fn slack_card_shows(w: &World, ts: &str, text: &str) -> bool {
    last_update(w, ts).is_some_and(|u| block_texts(&u["blocks"]).contains(text))
}

/// How many approval messages were logged for the chat user.
async fn approvals_told(w: &World, platform_id: &str) -> i64 {
    let sql = format!(
        "SELECT COUNT(*) FROM chat_messages m JOIN chat_users u ON u.id = m.chat_user_id
         WHERE m.org_id = $1 AND m.kind = 'approval' AND u.platform_id = '{platform_id}'"
    );
    w.app.scalar_i64(&sql, w.org).await
}

/// Every text in a card's blocks, joined: what a reader sees.
fn block_texts(blocks: &Value) -> String {
    let mut texts = Vec::new();
    for block in blocks.as_array().into_iter().flatten() {
        texts.extend(block["text"]["text"].as_str().map(String::from));
        for element in block["elements"].as_array().into_iter().flatten() {
            texts.extend(element["text"].as_str().map(String::from));
            texts.extend(element["text"]["text"].as_str().map(String::from));
        }
    }
    texts.join(" | ")
}

/// A Telegram connector's requests go to a Slack channel through the organization's Slack
/// connector: a member without access.review is refused privately, an approver's click decides
/// (audited, the card updated, the requester told), a second click changes nothing and says who
/// decided; panel decisions update the card too.
async fn requests_are_decided_on_a_slack_card(backend: Backend) {
    let w = world(backend).await;
    let (slack, slack_webhook) = connector(&w, "slack").await;
    let (telegram_id, telegram_webhook) = connector(&w, "telegram").await;
    onboarding(&w, telegram_id, true, "Your request is being reviewed.").await.unwrap();
    let (slack, telegram_connector) = (slack.to_string(), telegram_id.to_string());

    // Bad settings are refused, each naming its field, and nothing is saved.
    let field_of = |answer: crate::common::Answer, field: &str| match answer {
        Err((422, e)) => e.for_field(field).is_some(),
        other => panic!("{field}: {other:?}"),
    };
    assert!(field_of(approvals(&w, telegram_id, &slack, "D0DIRECT1", "Welcome in.").await, "conversation"));
    assert!(field_of(approvals(&w, telegram_id, &slack, "", "Welcome in.").await, "conversation"));
    assert!(field_of(approvals(&w, telegram_id, &telegram_connector, "C0APPROVERS", "Welcome in.").await, "via"));
    assert!(field_of(approvals(&w, telegram_id, "999999", "C0APPROVERS", "Welcome in.").await, "via"));
    assert!(field_of(approvals(&w, telegram_id, &slack, "C0APPROVERS", "  ").await, "approval_message"));
    let card = |id: i64| {
        let cards = &w.owner;
        async move {
            let all = cards.get("connectors", &[]).await.unwrap();
            all.as_array().unwrap().iter().find(|c| c["id"] == id).unwrap().clone()
        }
    };
    assert_eq!(card(telegram_id).await["approvals_via"], Value::Null);
    approvals(&w, telegram_id, &slack, " c0approvers ", "You're in! Ask away.").await.unwrap();
    let stored = card(telegram_id).await;
    assert_eq!(
        (stored["approvals_via"].as_i64(), stored["approvers_conversation"].as_str()),
        (Some(slack.parse().unwrap()), Some("C0APPROVERS"))
    );
    assert_eq!(stored["approval_message"], "You're in! Ask away.");

    // The owner (access.review) and Eve (a member without it) are mapped to their Slack ids.
    let owner_account = w.owner_account;
    map_identity(&w, owner_account, "slack", "U0OWNER").await;
    let eve = w.app.add_member(w.org, "eve@acme.example", PASSWORD, "Member").await;
    map_identity(&w, eve, "slack", "U0EVE").await;
    // Ann is an Admin, but paused: she decides nothing until she is Active again.
    let ann = w.app.add_membership(w.org, "ann@acme.example", "Admin", "inactive").await;
    let ann = w.app.scalar_i64("SELECT account_id FROM memberships WHERE id = $1", ann).await;
    map_identity(&w, ann, "slack", "U0ANN").await;

    // Tom writes on Telegram: the onboarding message goes to him, the card to the approvers.
    assert_eq!(telegram(&w, &telegram_webhook, 1, 501, "hi, <b>let</b> me in @channel").await, 200);
    w.app.eventually("the card is posted", || async { w.fake.with(|r| r.cards.len()) == 1 }).await;
    cards_settled(&w).await;
    let (tom, status, _) = request_of(&w, "501").await;
    assert_eq!(status, "pending");
    let posted = w.fake.with(|r| r.cards[0].clone());
    assert_eq!(posted["channel"], "C0APPROVERS");
    let shown = block_texts(&posted["blocks"]);
    for part in [
        "Tom Gram\nwants to talk to the agent · telegram bot · Telegram · 501",
        "hi, <b>let</b> me in @channel",
        "Approve",
        "Reject",
    ] {
        assert!(shown.contains(part), "{part} in {shown}");
    }
    let buttons = &posted["blocks"][2]["elements"];
    assert_eq!(
        (buttons[0]["value"].as_str(), buttons[1]["value"].as_str()),
        (Some(&*tom.to_string()), Some(&*tom.to_string()))
    );

    // Eve may not decide: she alone is told, and nothing changes.
    assert_eq!(slack_click(&w, &slack_webhook, "U0EVE", "access_request.approve", tom).await, 200);
    // Nor may someone nobody mapped, nor a paused admin.
    assert_eq!(slack_click(&w, &slack_webhook, "U0STRANGER", "access_request.reject", tom).await, 200);
    assert_eq!(slack_click(&w, &slack_webhook, "U0ANN", "access_request.reject", tom).await, 200);
    w.app.eventually("all three are told", || async { w.fake.with(|r| r.ephemeral.len()) == 3 }).await;
    let mut told = w.fake.with(|r| r.ephemeral.clone());
    told.sort();
    assert_eq!(told.iter().map(|(to, _)| to.as_str()).collect::<Vec<_>>(), ["U0ANN", "U0EVE", "U0STRANGER"]);
    assert!(told.iter().all(|(_, text)| text.starts_with("Only approvers can decide")), "{told:?}");
    assert_eq!(request_of(&w, "501").await.1, "pending");

    // A forged click is refused before anything is read.
    let payload = format!(
        "payload={}",
        percent(
            &json!({ "type": "block_actions", "user": { "id": "U0OWNER" }, "channel": { "id": "C0APPROVERS" },
            "actions": [{ "action_id": "access_request.approve", "value": tom.to_string() }] })
            .to_string()
        )
    );
    let forged = w
        .http
        .post(&slack_webhook)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("X-Slack-Request-Timestamp", now_s().to_string())
        .header("X-Slack-Signature", "v0=00")
        .body(payload)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);

    // The owner approves in Slack: decided by them, audited, the card updated, Tom told.
    assert_eq!(slack_click(&w, &slack_webhook, "U0OWNER", "access_request.approve", tom).await, 200);
    assert_eq!(request_of(&w, "501").await, (tom, "approved".into(), Some(owner_account)));
    let audit: (i64, String) =
        sqlx::query_as("SELECT actor_account_id, detail FROM audit_log WHERE action = 'access.approve'")
            .fetch_one(&w.app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(audit, (owner_account, "Tom Gram on telegram bot (in Slack, as U0OWNER)".into()));
    w.app
        .eventually("the card says who approved", || async {
            slack_card_shows(&w, "101.0", "Approved by owner@acme.example, <!date^")
        })
        .await;
    let update = last_update(&w, "101.0").unwrap();
    assert_eq!(update["channel"], "C0APPROVERS");
    let shown = block_texts(&update["blocks"]);
    assert!(!shown.contains("Reject"), "the buttons are gone: {shown}");
    w.app
        .eventually("Tom is told", || async {
            w.fake.sent().iter().any(|s| s.provider == "telegram" && s.text == "You're in! Ask away.")
        })
        .await;

    // A second click changes nothing and says who decided first.
    assert_eq!(slack_click(&w, &slack_webhook, "U0OWNER", "access_request.reject", tom).await, 200);
    w.app.eventually("the owner is told", || async { w.fake.with(|r| r.ephemeral.len()) == 4 }).await;
    let (to, text) = w.fake.with(|r| r.ephemeral[3].clone());
    assert_eq!(to, "U0OWNER");
    assert!(
        text.starts_with("Already approved by owner@acme.example, <!date^") && text.ends_with(". Nothing changed."),
        "{text}"
    );
    assert_eq!(request_of(&w, "501").await.1, "approved");
    // The panel keeps the first decision too: only Undo takes it back.
    let late = w.owner.call_json("decide_access", &json!({ "ids": [tom], "decision": "Reject" })).await.unwrap();
    assert_eq!(late, 0);
    // A click on a request that is not this organization's (or no longer exists) is answered so.
    assert_eq!(slack_click(&w, &slack_webhook, "U0OWNER", "access_request.approve", 999_999).await, 200);
    w.app.eventually("the owner is told again", || async { w.fake.with(|r| r.ephemeral.len()) == 5 }).await;
    assert_eq!(w.fake.with(|r| r.ephemeral[4].1.clone()), "This access request no longer exists.");

    // Tom's messages now reach the agent, as any approved person's.
    assert_eq!(telegram(&w, &telegram_webhook, 2, 501, "what is the rota?").await, 200);
    w.app.eventually("the agent hears Tom", || async { w.fake.agent_texts() == ["what is the rota?"] }).await;

    // Uma's request is rejected in the panel: her card says so and she is not told she is in.
    assert_eq!(telegram(&w, &telegram_webhook, 3, 502, "me too").await, 200);
    w.app.eventually("Uma's card is posted", || async { w.fake.with(|r| r.cards.len()) == 2 }).await;
    cards_settled(&w).await;
    let (uma, ..) = request_of(&w, "502").await;
    let decide = |decision: &'static str| {
        let owner = &w.owner;
        async move { owner.call_json("decide_access", &json!({ "ids": [uma], "decision": decision })).await.unwrap() }
    };
    decide("Reject").await;
    w.app
        .eventually("Uma's card says rejected", || async {
            slack_card_shows(&w, "102.0", "Rejected by owner@acme.example")
        })
        .await;
    // Undone, the card offers its buttons again; approved, Uma is told.
    decide("Undo").await;
    w.app.eventually("Uma's card is pending again", || async { slack_card_shows(&w, "102.0", "Approve") }).await;
    decide("Approve").await;
    w.app
        .eventually("Uma is told", || async {
            w.fake.sent().iter().any(|s| s.to == "502" && s.text == "You're in! Ask away.")
        })
        .await;
    assert_eq!((approvals_told(&w, "501").await, approvals_told(&w, "502").await), (1, 1), "each is told once");

    // Turned off, new requests are decided in the panel only.
    approvals(&w, telegram_id, "", "", "You're in! Ask away.").await.unwrap();
    let card_jobs = "SELECT COUNT(*) FROM outbox_jobs WHERE org_id = $1 AND kind = 'card'";
    let before = count(&w, card_jobs).await;
    assert_eq!(telegram(&w, &telegram_webhook, 4, 503, "hello").await, 200);
    // The onboarding message is queued in the same transaction a card would be.
    assert_eq!(request_of(&w, "503").await.1, "pending");
    assert_eq!(count(&w, card_jobs).await, before);
    w.app.stop().await;
}

/// A Teams connector posts its own requests to a Teams channel as Adaptive Cards; an approver's
/// Action.Submit decides, the card is replaced in place, and the requester is told; someone else's
/// click is answered in a one-to-one chat.
async fn requests_are_decided_on_a_teams_card(backend: Backend) {
    let w = world(backend).await;
    let (id, webhook) = connector(&w, "teams").await;
    onboarding(&w, id, true, "Your request is being reviewed.").await.unwrap();
    approvals(&w, id, &id.to_string(), "19:approvers@thread.tacv2", "Welcome aboard.").await.unwrap();
    let owner_account = w.owner_account;
    map_identity(&w, owner_account, "teams", "aad-owner").await;
    let service = w.fake.teams_service_url();
    let post = |activity: Value| {
        let request =
            w.http.post(&webhook).bearer_auth(bot_token(TEAMS_APP, now_s() + 3_600, &service)).json(&activity);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let from_grace = json!({
        "type": "message", "id": "g-1", "serviceUrl": service, "channelId": "msteams", "text": "May I use the bot?",
        "from": { "id": "29:grace", "name": "Grace Hopper", "aadObjectId": "aad-grace" },
        "conversation": { "id": "a:conv-grace", "conversationType": "personal" }, "recipient": { "id": "28:bot-app-id" },
    });
    assert_eq!(post(from_grace).await, 200);
    w.app.eventually("the card is posted", || async { w.fake.with(|r| r.cards.len()) == 1 }).await;
    cards_settled(&w).await;
    let posted = w.fake.with(|r| r.cards[0].clone());
    assert_eq!(posted["conversation"], "19:approvers@thread.tacv2");
    let card = &posted["attachments"][0];
    assert_eq!(card["contentType"], "application/vnd.microsoft.card.adaptive");
    let text = card["content"]["body"].to_string();
    assert!(text.contains("Grace Hopper") && text.contains("May I use the bot?"), "{text}");
    assert!(text.contains(r#""type":"TextRun""#), "what people wrote is shown as typed: {text}");
    let (grace, ..) = request_of(&w, "aad-grace").await;
    let actions = &card["content"]["actions"];
    assert_eq!(actions[0]["data"], json!({ "onboard": "access_request", "decision": "approve", "request": grace }));

    let click = |activity_id: &str, who: &str, aad: &str, decision: &str| {
        json!({
            "type": "message", "id": activity_id, "serviceUrl": service, "channelId": "msteams",
            "replyToId": "card-1", "value": { "onboard": "access_request", "decision": decision, "request": grace },
            "from": { "id": who, "name": "Someone", "aadObjectId": aad },
            "conversation": { "id": "19:approvers@thread.tacv2", "conversationType": "channel" },
            "recipient": { "id": "28:bot-app-id" },
        })
    };
    // Someone who is not an approver is answered in a one-to-one chat; nothing changes.
    assert_eq!(post(click("c-1", "29:x", "aad-x", "approve")).await, 200);
    w.app.eventually("they are told privately", || async { w.fake.sent().iter().any(|s| s.to == "a:1on1-29:x") }).await;
    let told = w.fake.sent().into_iter().find(|s| s.to == "a:1on1-29:x").unwrap();
    assert!(told.text.starts_with("Only approvers can decide"), "{told:?}");
    assert_eq!(request_of(&w, "aad-grace").await.1, "pending");
    assert!(w.fake.agent_texts().is_empty(), "a click is not a message for the agent");

    // The owner approves: the card is replaced in place and Grace is told where she wrote.
    assert_eq!(post(click("c-2", "29:owner", "aad-owner", "approve")).await, 200);
    assert_eq!(request_of(&w, "aad-grace").await, (grace, "approved".into(), Some(owner_account)));
    w.app
        .eventually("the card is replaced", || async {
            last_update(&w, "card-1").is_some_and(|u| u["attachments"][0]["content"]["actions"] == json!([]))
        })
        .await;
    let update = last_update(&w, "card-1").unwrap();
    assert_eq!(update["conversation"], "19:approvers@thread.tacv2");
    let text = update["attachments"][0]["content"]["body"].to_string();
    assert!(text.contains("Approved by owner@acme.example, {{TIME("), "{text}");
    w.app
        .eventually("Grace is told", || async {
            w.fake.sent().iter().any(|s| s.to == "a:conv-grace" && s.text == "Welcome aboard.")
        })
        .await;
    // A second click says who decided first.
    assert_eq!(post(click("c-3", "29:owner", "aad-owner", "reject")).await, 200);
    w.app.eventually("the owner is told", || async { w.fake.sent().iter().any(|s| s.to == "a:1on1-29:owner") }).await;
    let told = w.fake.sent().into_iter().find(|s| s.to == "a:1on1-29:owner").unwrap();
    assert!(
        told.text.starts_with("Already approved by owner@acme.example, ")
            && told.text.ends_with(" UTC. Nothing changed."),
        "{told:?}"
    );
    assert_eq!(request_of(&w, "aad-grace").await.1, "approved");
    w.app.stop().await;
}

/// A person who asked before becoming a member is let in by the connector's rule: their card
/// says so, and they are not told "approved" on top of the agent's answer. Paused, they ask
/// again on the same card, which offers its buttons once more.
async fn a_card_follows_the_rule_for_members(backend: Backend) {
    let w = world(backend).await;
    let (id, webhook) = connector(&w, "slack").await;
    onboarding(&w, id, true, "Your request is being reviewed.").await.unwrap();
    approvals(&w, id, &id.to_string(), "C0APPROVERS", "You're in.").await.unwrap();
    let dm = |event: &'static str, text: &'static str| {
        let body = json!({ "type": "event_callback", "event_id": event, "event": {
            "type": "message", "channel_type": "im", "user": "U0BEA", "channel": "DU0BEA", "ts": "1.1", "text": text,
        }})
        .to_string();
        let (w, webhook) = (&w, &webhook);
        async move {
            let now = now_s();
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SLACK_SIGNING.as_bytes()).unwrap();
            mac.update(format!("v0:{now}:{body}").as_bytes());
            let signature = format!("v0={}", hex::encode(mac.finalize().into_bytes()));
            let request = w
                .http
                .post(webhook)
                .header("content-type", "application/json")
                .header("X-Slack-Request-Timestamp", now.to_string())
                .header("X-Slack-Signature", signature)
                .body(body);
            assert_eq!(request.send().await.unwrap().status(), 200);
        }
    };
    dm("EvA1", "may I?").await;
    w.app.eventually("the card is posted", || async { w.fake.with(|r| r.cards.len()) == 1 }).await;
    cards_settled(&w).await;

    let bea = w.app.add_member(w.org, "bea@acme.example", PASSWORD, "Member").await;
    map_identity(&w, bea, "slack", "U0BEA").await;
    let rules = [("id", id.to_string()), ("members", "on".to_string()), ("blocked", String::new())];
    let form: Vec<(&str, &str)> = rules.iter().map(|(k, v)| (*k, v.as_str())).collect();
    w.owner.call("set_connector_rules", &form).await.unwrap();
    dm("EvA2", "now?").await;
    w.app.eventually("the agent hears Bea", || async { w.fake.agent_texts() == ["now?"] }).await;
    w.app
        .eventually("the card says she was let in", || async {
            slack_card_shows(&w, "101.0", "Approved automatically, as a member")
        })
        .await;
    assert_eq!(approvals_told(&w, "U0BEA").await, 0, "the agent's answer is all she needs");

    sqlx::query("UPDATE memberships SET status = 'inactive' WHERE account_id = $1")
        .bind(bea)
        .execute(&w.app.state.db.pool)
        .await
        .unwrap();
    dm("EvA3", "still there?").await;
    w.app.eventually("the card offers its buttons again", || async { slack_card_shows(&w, "101.0", "Reject") }).await;
    assert_eq!(request_of(&w, "U0BEA").await.1, "pending");
    assert_eq!(w.fake.with(|r| r.cards.len()), 1, "the same card, not a second one");
    assert_eq!(w.fake.agent_texts(), ["now?"], "held while she waits");
    w.app.stop().await;
}

crate::on_both_databases!(
    requests_are_decided_on_a_slack_card,
    requests_are_decided_on_a_teams_card,
    a_card_follows_the_rule_for_members,
);
