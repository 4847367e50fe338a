//! The agent endpoint: every message relayed and its reply sent back, retries that answer once,
//! and agent addresses on private or local networks refused.

use super::*;

async fn allow_all_sends_every_message_to_the_agent_and_relays_its_reply(backend: Backend) {
    let w = world(backend).await;
    let (id, webhook) = connector(&w, "telegram").await;
    assert_eq!(telegram(&w, &webhook, 100, 42, "What is <b>up</b>?").await, 200);
    let fake = w.fake.clone();
    w.app
        .eventually("the reply is sent", || {
            let f = fake.clone();
            async move { !f.sent().is_empty() }
        })
        .await;
    let call = w.fake.with(|r| r.agent_calls[0].clone());
    assert_eq!(call["connector"], id);
    assert_eq!(call["provider"], "telegram");
    assert_eq!(call["chat_user"]["platform_id"], "42");
    assert_eq!(call["chat_user"]["first_name"], "Tom");
    assert_eq!(call["chat_user"]["last_name"], "Gram");
    assert_eq!(call["conversation_id"], "42");
    assert_eq!(call["message_id"], "100");
    assert_eq!(call["text"], "What is <b>up</b>?");
    assert_eq!(
        w.fake.sent(),
        [Sent { provider: "telegram", to: "42".into(), text: "Echo: What is <b>up</b>?".into() }]
    );
    // The picture is fetched once and kept as an image, never as a link carrying the bot token.
    let app = &w.app;
    app.eventually("the avatar is stored", || async {
        count(&w, "SELECT COUNT(*) FROM chat_users WHERE org_id = $1 AND avatar_url LIKE 'data:image/jpeg;base64,%'")
            .await
            == 1
    })
    .await;
    // The agent may stay silent.
    w.fake.with(|r| r.agent_mode = AgentMode::Silent);
    assert_eq!(telegram(&w, &webhook, 101, 42, "thanks").await, 200);
    app.eventually("the agent was called twice", || async { w.fake.agent_texts().len() == 2 }).await;
    app.eventually("the log shows both answered", || async {
        count(&w, "SELECT COUNT(*) FROM chat_messages WHERE org_id = $1 AND direction = 'in' AND status = 'answered'")
            .await
            == 2
    })
    .await;
    assert_eq!(w.fake.sent().len(), 1);
    assert_eq!(w.fake.with(|r| r.profile_lookups), 1);
    let users = w.owner.get("chat_users", &[("provider", ""), ("search", "tom"), ("page", "1")]).await.unwrap();
    assert_eq!(users["total"], 1);
    let user = users["rows"][0]["id"].as_i64().unwrap();
    let detail = w.owner.get("chat_user", &[("id", &user.to_string())]).await.unwrap();
    let kinds: Vec<(String, String)> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["direction"].as_str().unwrap().into(), m["kind"].as_str().unwrap().into()))
        .collect();
    let expected = [("in", "user"), ("out", "agent"), ("in", "user")].map(|(d, k)| (d.to_string(), k.to_string()));
    assert_eq!(kinds, expected);
    w.app.stop().await;
}

async fn an_unavailable_agent_is_retried_and_answers_once(backend: Backend) {
    let w = world(backend).await;
    let (_, webhook) = connector(&w, "telegram").await;
    w.fake.with(|r| r.agent_mode = AgentMode::Unavailable(1));
    assert_eq!(telegram(&w, &webhook, 1, 6, "are you there?").await, 200);
    w.app.eventually("the retried call is answered", || async { !w.fake.sent().is_empty() }).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(w.fake.agent_texts(), ["are you there?"]);
    assert_eq!(w.fake.sent().len(), 1);
    let attempts = count(&w, "SELECT MAX(attempts) FROM outbox_jobs WHERE org_id = $1 AND kind = 'agent'").await;
    assert_eq!(attempts, 2);
    w.app.stop().await;
}

/// The agent's reply was recorded but the job's completion was lost (a crash): the job runs
/// again, and neither asks the agent nor answers the person a second time.
async fn an_agent_call_run_again_after_a_lost_completion_asks_the_agent_once(backend: Backend) {
    let w = world(backend).await;
    let (_, webhook) = connector(&w, "telegram").await;
    assert_eq!(telegram(&w, &webhook, 1, 6, "hello?").await, 200);
    w.app.eventually("the reply is sent", || async { w.fake.sent().len() == 1 }).await;
    let done = "SELECT COUNT(*) FROM outbox_jobs WHERE org_id = $1 AND kind = 'agent' AND status = 'done'";
    w.app.eventually("the agent call is done", || async { count(&w, done).await == 1 }).await;
    sqlx::query(
        "UPDATE outbox_jobs SET status = 'queued', run_at = 0, done_at = NULL WHERE org_id = $1 AND kind = 'agent'",
    )
    .bind(w.org)
    .execute(&w.app.state.db.pool)
    .await
    .unwrap();
    w.app.state.outbox_wake.notify_waiters();
    w.app.eventually("the agent call is done again", || async { count(&w, done).await == 1 }).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(w.fake.agent_texts(), ["hello?"]);
    assert_eq!(w.fake.sent().len(), 1);
    let attempts = count(&w, "SELECT MAX(attempts) FROM outbox_jobs WHERE org_id = $1 AND kind = 'agent'").await;
    assert_eq!(attempts, 2, "the job did run again");
    w.app.stop().await;
}

async fn agent_endpoints_on_private_or_local_addresses_are_refused(backend: Backend) {
    let w = world_with(backend, |s| s.chat.allowed_private_agent_hosts.clear()).await;
    for url in [
        "https://169.254.169.254/latest/",
        "https://10.0.0.1/",
        "http://127.0.0.1:5432/",
        "http://localhost:6379/",
        "https://[::1]/agent",
        "https://[fd00::1]/agent",
        "https://100.64.0.1/agent",
    ] {
        let body = draft(None, "telegram", "Probe", url, AGENT_SECRET, &credentials("telegram"));
        let answer = w.owner.call_json("save_connector", &body).await;
        assert!(
            matches!(&answer, Err((422, AppError::Invalid { field, .. })) if field == "agent_url"),
            "{url}: {answer:?}"
        );
    }
    assert_eq!(count(&w, "SELECT COUNT(*) FROM connectors WHERE org_id = $1").await, 0);
    w.app.stop().await;
}

crate::on_both_databases!(
    allow_all_sends_every_message_to_the_agent_and_relays_its_reply,
    an_unavailable_agent_is_retried_and_answers_once,
    an_agent_call_run_again_after_a_lost_completion_asks_the_agent_once,
    agent_endpoints_on_private_or_local_addresses_are_refused,
);
