//! Microsoft Teams: Bot Framework tokens (issuer, audience, expiry, service URL) and group chats.

use super::*;

#[derive(serde::Serialize)]
struct BotClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    exp: i64,
    nbf: i64,
    #[serde(rename = "serviceUrl")]
    service_url: &'a str,
}

pub(super) fn bot_token(aud: &str, exp: i64, service_url: &str) -> String {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(include_bytes!("../fixtures/botframework-test-key.pem")).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(KEY_ID.into());
    let claims = BotClaims { iss: "https://api.botframework.com", aud, exp, nbf: now_s() - 60, service_url };
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

async fn teams_activities_need_a_valid_bot_framework_token(backend: Backend) {
    let w = world(backend).await;
    let (_, webhook) = connector(&w, "teams").await;
    let service = w.fake.teams_service_url();
    let activity = json!({
        "type": "message", "id": "act-1", "serviceUrl": service, "channelId": "msteams", "text": "Hello from Teams",
        "from": { "id": "29:abc", "name": "Grace Hopper", "aadObjectId": "aad-grace" },
        "conversation": { "id": "a:conv-1" }, "recipient": { "id": "28:bot-app-id" },
    });
    let post = |token: Option<String>| {
        let mut request = w.http.post(&webhook).json(&activity);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let hour = now_s() + 3_600;
    assert_eq!(post(None).await, 401);
    assert_eq!(post(Some("not.a.jwt".into())).await, 401);
    assert_eq!(post(Some(bot_token("another-app", hour, &service))).await, 401);
    assert_eq!(post(Some(bot_token(TEAMS_APP, now_s() - 3_600, &service))).await, 401);
    assert_eq!(post(Some(bot_token(TEAMS_APP, hour, "https://evil.example"))).await, 401);
    // One character in the middle of the signature changed.
    let genuine = bot_token(TEAMS_APP, hour, &service);
    let at = genuine.rfind('.').unwrap() + 40;
    let swapped = if &genuine[at..=at] == "A" { "B" } else { "A" };
    let forged = format!("{}{swapped}{}", &genuine[..at], &genuine[at + 1..]);
    assert_eq!(post(Some(forged)).await, 401);
    assert_eq!(count(&w, "SELECT COUNT(*) FROM chat_messages WHERE org_id = $1").await, 0);

    assert_eq!(post(Some(bot_token(TEAMS_APP, hour, &service))).await, 200);
    // The same activity again (Bot Framework retries): acknowledged, answered once.
    assert_eq!(post(Some(bot_token(TEAMS_APP, hour, &service))).await, 200);
    w.app.eventually("the reply is sent", || async { !w.fake.sent().is_empty() }).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        w.fake.sent(),
        [Sent { provider: "teams", to: "a:conv-1".into(), text: "Echo: Hello from Teams".into() }]
    );
    let user: (String, String, String) =
        sqlx::query_as("SELECT platform_id, first_name, last_name FROM chat_users WHERE provider = 'teams'")
            .fetch_one(&w.app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(user, ("aad-grace".into(), "Grace".into(), "Hopper".into()));
    w.app.stop().await;
}

/// In a Teams group chat a new person opens no request and nothing is posted there; once let
/// in, the agent reads their words without the bot's `<at>` mention and answers in the chat.
async fn teams_group_chats_never_see_onboarding_and_the_agent_reads_no_mention_markup(backend: Backend) {
    let w = world(backend).await;
    let (id, webhook) = connector(&w, "teams").await;
    onboarding(&w, id, true, "Welcome! Your request is being reviewed.").await.unwrap();
    let service = w.fake.teams_service_url();
    let activity = |activity_id: &str| {
        json!({
            "type": "message", "id": activity_id, "serviceUrl": service, "channelId": "msteams",
            "text": "<at>Onboard</at> what is the <at>Ada Lovelace</at> rota?",
            "from": { "id": "29:abc", "name": "Grace Hopper", "aadObjectId": "aad-grace" },
            "conversation": { "id": "19:group-chat", "conversationType": "groupChat", "isGroup": true },
            "recipient": { "id": "28:bot-app-id", "name": "Onboard" },
            "entities": [
                { "type": "mention", "mentioned": { "id": "28:bot-app-id", "name": "Onboard" }, "text": "<at>Onboard</at>" },
                { "type": "mention", "mentioned": { "id": "29:ada", "name": "Ada Lovelace" }, "text": "<at>Ada Lovelace</at>" },
            ],
        })
    };
    let post = |body: Value| {
        let request = w.http.post(&webhook).bearer_auth(bot_token(TEAMS_APP, now_s() + 3_600, &service)).json(&body);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post(activity("g-1")).await, 200);
    logged_and_nothing_said(&w).await;

    onboarding(&w, id, false, "").await.unwrap();
    assert_eq!(post(activity("g-2")).await, 200);
    w.app.eventually("the agent answers in the group chat", || async { !w.fake.sent().is_empty() }).await;
    assert_eq!(w.fake.agent_texts(), ["what is the Ada Lovelace rota?"]);
    assert_eq!(w.fake.sent()[0].to, "19:group-chat");
    assert_eq!(w.fake.with(|r| r.agent_calls[0]["shared"].clone()), true);
    w.app.stop().await;
}

crate::on_both_databases!(
    teams_activities_need_a_valid_bot_framework_token,
    teams_group_chats_never_see_onboarding_and_the_agent_reads_no_mention_markup,
);
