//! Twilio (SMS and WhatsApp, signed form posts) and 360dialog (WhatsApp, its API key header).

use super::*;

fn twilio_signature(url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut data = url.to_string();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(TWILIO_TOKEN.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

async fn twilio_and_360dialog_webhooks_are_verified_and_answered(backend: Backend) {
    let w = world(backend).await;
    let (_, twilio) = connector(&w, "twilio").await;
    let params = [
        ("MessageSid", "SM100"),
        ("From", "whatsapp:+447911123456"),
        ("To", "whatsapp:+15005550006"),
        ("Body", "Hola & <hi>"),
        ("ProfileName", "Wanda Sapp"),
    ];
    let post = |signature: String, body: String| {
        let request = w
            .http
            .post(&twilio)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("X-Twilio-Signature", signature)
            .body(body);
        async move { request.send().await.unwrap() }
    };
    let form = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    assert_eq!(post("bm90IGl0".into(), form.clone()).await.status(), 401);
    let other_url = twilio_signature("https://elsewhere.example/webhooks/x", &params);
    assert_eq!(post(other_url, form.clone()).await.status(), 401);
    assert_eq!(post(twilio_signature(&twilio, &[]), "{\"json\":true}".into()).await.status(), 400);
    let answer = post(twilio_signature(&twilio, &params), form.clone()).await;
    assert_eq!(answer.status(), 200);
    assert!(answer.text().await.unwrap().contains("<Response>"));
    assert_eq!(post(twilio_signature(&twilio, &params), form).await.status(), 200);

    let (_, d360) = connector(&w, "d360").await;
    let notification = json!({ "object": "whatsapp_business_account", "entry": [{ "id": "1", "changes": [{ "field": "messages", "value": {
        "messaging_product": "whatsapp",
        "contacts": [{ "profile": { "name": "Dora Diallo" }, "wa_id": "447700900123" }],
        "messages": [
            { "from": "447700900123", "id": "wamid.1", "timestamp": "1700000000", "type": "text", "text": { "body": "first" } },
            { "from": "447700900123", "id": "wamid.2", "timestamp": "1700000001", "type": "text", "text": { "body": "second" } },
        ],
    }}]}]});
    let post360 = |secret: &str, body: String| {
        let request =
            w.http.post(&d360).header("content-type", "application/json").header("X-Onboard-Secret", secret).body(body);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post360("wrong-secret-wrong-secret", notification.to_string()).await, 401);
    assert_eq!(w.http.post(&d360).json(&notification).send().await.unwrap().status().as_u16(), 401);
    assert_eq!(post360(D360_SECRET, "[1,2".into()).await, 400);
    assert_eq!(post360(D360_SECRET, "{\"entry\":3}".into()).await, 400);
    assert_eq!(post360(D360_SECRET, notification.to_string()).await, 200);
    assert_eq!(post360(D360_SECRET, notification.to_string()).await, 200, "a redelivery is acknowledged");

    w.app.eventually("three replies are sent", || async { w.fake.sent().len() == 3 }).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(count(&w, "SELECT COUNT(*) FROM chat_messages WHERE org_id = $1 AND direction = 'in'").await, 3);
    let mut sent = w.fake.sent();
    sent.sort_by(|a, b| a.text.cmp(&b.text));
    assert_eq!(
        sent,
        [
            Sent {
                provider: "twilio",
                to: "whatsapp:+447911123456 from whatsapp:+15005550006".into(),
                text: "Echo: Hola & <hi>".into()
            },
            Sent { provider: "d360", to: "447700900123".into(), text: "Echo: first".into() },
            Sent { provider: "d360", to: "447700900123".into(), text: "Echo: second".into() },
        ]
    );
    let people: Vec<(String, String, String)> =
        sqlx::query_as("SELECT provider, platform_id, first_name FROM chat_users ORDER BY provider")
            .fetch_all(&w.app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(
        people,
        [
            ("d360".into(), "+447700900123".into(), "Dora".into()),
            ("twilio".into(), "+447911123456".into(), "Wanda".into())
        ]
    );
    w.app.stop().await;
}

crate::on_both_databases!(twilio_and_360dialog_webhooks_are_verified_and_answered,);
