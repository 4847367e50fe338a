//! Issue 11, §7: secrets at rest are sealed under the server key, a start with the wrong key
//! changes nothing, and `onboard keys rotate` moves every secret to a new key.

use crate::common::chat_fakes::FakeProviders;
use crate::common::smtp::SmtpSink;
use crate::common::{captured_logs, fresh_database_url, test_settings, Backend, TestApp};
use onboard::server::{keys, sealing, AppState, Settings};
use serde_json::json;

const PASSWORD: &str = "sealed scenario passphrase";
const BOT_TOKEN: &str = "4242424:SealedScenarioBotToken_q8";
const HEADER_SECRET: &str = "sealed-scenario-telegram-header-secret-0042";
const AGENT_SECRET: &str = "sealed-scenario-agent-secret-7";

/// Every value stored in the database, as text: the SQLite file and its write-ahead log byte for
/// byte, or every row of every PostgreSQL table.
async fn everything_stored(app: &TestApp) -> String {
    let url = app.state.settings.database.url.expose().to_string();
    if let Some(rest) = url.strip_prefix("sqlite://") {
        let path = rest.split('?').next().unwrap();
        let mut bytes = std::fs::read(path).unwrap();
        bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    let pool = &app.state.db.pool;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut text = String::new();
    for table in tables {
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("SELECT CAST(t AS TEXT) FROM \"{table}\" t")).fetch_all(pool).await.unwrap();
        text.push_str(&rows.join("\n"));
    }
    text
}

async fn no_secret_is_stored_or_logged_in_the_clear(backend: Backend) {
    let sink = SmtpSink::start().await;
    let fake = FakeProviders::start().await;
    let (smtp, f) = (sink.url(), fake.clone());
    let app = TestApp::start_with(backend, move |s| {
        f.configure(s);
        s.mail.smtp_url = onboard::server::secret::Secret::new(&smtp);
        // The failing provider: Telegram refuses connections, and its API URL holds the bot token.
        s.chat.telegram_base_url = "http://127.0.0.1:9/telegram".into();
    })
    .await;
    let (org, _) = app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    let settings = [("name", "Acme"), ("sender_name", "Acme"), ("invite_lifetime_days", "7"), ("require_2fa", "true")];
    owner.call("update_general_settings", &settings).await.unwrap();

    // A registration with an authenticator app.
    let area = app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1", org).await;
    let role = app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Member'", org).await;
    let invite = [("emails", "ada@acme.example"), ("area", &area.to_string()), ("role", &role.to_string())];
    owner.call("send_invites", &invite).await.unwrap();
    app.eventually("the invitation arrives", || async { !sink.to("ada@acme.example").is_empty() }).await;
    let token = sink.to("ada@acme.example")[0].registration_token().unwrap();
    let phone = app.visitor();
    let details = [
        ("token", token.as_str()),
        ("first_name", "Ada"),
        ("last_name", "Lovelace"),
        ("mobile", "+447911123456"),
        ("password", PASSWORD),
    ];
    phone.call("register_details", &details).await.unwrap();
    let setup = phone.call("send_registration_code", &[("token", &token), ("factor", "totp")]).await.unwrap();
    let totp_key = setup["Authenticator"]["key"].as_str().unwrap().to_string();
    let code = onboard::server::totp::code_at(&totp_key, onboard::server::totp::step_at(onboard::server::db::now_ms()))
        .unwrap();
    phone.call("verify_registration_code", &[("token", &token), ("code", &code)]).await.unwrap();
    phone.call("complete_registration", &[("token", &token)]).await.unwrap();
    assert_eq!(phone.whoami().await["email"], "ada@acme.example");

    // A connector whose provider fails: the onboarding message to a new chat user cannot be sent.
    let draft = json!({ "draft": {
        "id": null, "provider": "telegram", "name": "Support", "agent_url": fake.agent_url(),
        "agent_secret": AGENT_SECRET, "credentials": [["bot_token", BOT_TOKEN], ["secret_token", HEADER_SECRET]],
    }});
    let id = owner.call_json("save_connector", &draft).await.unwrap().as_i64().unwrap();
    let policy =
        [("id", id.to_string()), ("onboarding", "true".into()), ("message", "An admin will let you in.".into())];
    let policy: Vec<(&str, &str)> = policy.iter().map(|(k, v)| (*k, v.as_str())).collect();
    owner.call("set_connector_policy", &policy).await.unwrap();
    let cards = owner.get("connectors", &[]).await.unwrap();
    let webhook = cards[0]["webhook_url"].as_str().unwrap().to_string();
    let update = json!({"update_id": 1, "message": {"message_id": 1, "date": 1, "text": "hello",
        "chat": {"id": 42, "type": "private"}, "from": {"id": 42, "is_bot": false, "first_name": "Grace"}}});
    let status = reqwest::Client::new()
        .post(&webhook)
        .header("X-Telegram-Bot-Api-Secret-Token", HEADER_SECRET)
        .json(&update)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    app.eventually("the provider's failure is recorded", || async {
        app.scalar_i64("SELECT COUNT(*) FROM outbox_jobs WHERE org_id = $1 AND last_error IS NOT NULL", org).await > 0
    })
    .await;

    let secrets = [
        ("the password", PASSWORD.to_string()),
        ("the authenticator key", totp_key.clone()),
        ("the invitation token", token.clone()),
        ("the bot token", BOT_TOKEN.to_string()),
        ("the bot token's secret part", BOT_TOKEN.split(':').nth(1).unwrap().to_string()),
        ("the webhook header secret", HEADER_SECRET.to_string()),
        ("the agent secret", AGENT_SECRET.to_string()),
        ("the Owner's session cookie", owner.session_cookie().expect("a session cookie")),
        ("the new member's session cookie", phone.session_cookie().expect("a session cookie")),
    ];
    let stored = everything_stored(&app).await;
    assert!(stored.contains("ada@acme.example"), "the search reads what is stored");
    let logs = captured_logs();
    assert!(logs.contains("outbox job failed"), "the search reads the provider's failure in the logs");
    for (what, secret) in &secrets {
        assert!(!stored.contains(secret.as_str()), "{what} is stored in the clear");
        assert!(!logs.contains(secret.as_str()), "{what} is in the logs");
    }
    // What is sealed still works: the authenticator signs Ada in, the connector keeps its secrets.
    let laptop = app.visitor();
    assert_eq!(laptop.sign_in("ada@acme.example", PASSWORD).await.unwrap(), "AuthenticatorCode");
    let next =
        onboard::server::totp::code_at(&totp_key, onboard::server::totp::step_at(onboard::server::db::now_ms()) + 1)
            .unwrap();
    laptop.call("verify_sign_in_code", &[("code", &next)]).await.unwrap();
    let stored = onboard::server::db::connectors::get(&app.state.db, org, id).await.unwrap().unwrap();
    assert_eq!(stored.agent_secret, AGENT_SECRET);
    assert!(stored.credentials.contains(BOT_TOKEN));
    app.stop().await;
}

/// What a start leaves in the database: every row of the sealed tables, as text.
async fn sealed_rows(state: &AppState) -> Vec<String> {
    let mut rows = Vec::new();
    for sql in [
        "SELECT CAST(id AS TEXT) || agent_secret || credentials FROM connectors ORDER BY id",
        "SELECT CAST(id AS TEXT) || payload FROM outbox_jobs ORDER BY id",
        "SELECT key_id || sealed FROM secret_key_check",
    ] {
        rows.extend(sqlx::query_scalar::<_, String>(sql).fetch_all(&state.db.pool).await.unwrap());
    }
    rows
}

async fn seed(settings: &Settings) -> (AppState, i64) {
    let state = AppState::new(settings.clone()).await.unwrap();
    let owner = onboard::server::bootstrap::create_owner(&state, "owner@acme.example", Some("Acme")).await.unwrap();
    let draft = onboard::api::connectors::types::ConnectorDraft {
        id: None,
        provider: "telegram".into(),
        name: "Support".into(),
        agent_url: "http://127.0.0.1:9/agent".into(),
        agent_secret: AGENT_SECRET.into(),
        credentials: vec![("bot_token".into(), BOT_TOKEN.into()), ("secret_token".into(), HEADER_SECRET.into())],
    };
    let checked = onboard::server::connectors::check_draft(&draft, None).unwrap();
    let mut tx = state.db.begin().await.unwrap();
    let id = onboard::server::connectors::create(&mut tx, &state.db.key, owner.org_id, &checked).await.unwrap();
    tx.commit().await.unwrap();
    (state, id)
}

/// Why a start with these settings was refused.
async fn refusal(settings: Settings) -> String {
    match AppState::new(settings).await {
        Ok(_) => panic!("the start should have been refused"),
        Err(e) => format!("{e:#}"),
    }
}

async fn the_agent_secret(state: &AppState, id: i64) -> String {
    onboard::server::db::connectors::by_id(&state.db, id).await.unwrap().unwrap().agent_secret
}

async fn a_wrong_key_changes_nothing_and_rotation_moves_every_secret(backend: Backend) {
    let url = fresh_database_url(backend).await;
    let settings = test_settings(&url);
    let (state, id) = seed(&settings).await;
    let before = sealed_rows(&state).await;
    state.db.pool.close().await;

    // The wrong key: a clear refusal, and the database as it was.
    let mut wrong = settings.clone();
    wrong.security.secret_key = sealing::ServerKey::generate().1;
    let refused = refusal(wrong).await;
    assert!(refused.contains("is not the key this database's secrets are sealed under"), "{refused}");
    assert!(refused.contains("Nothing was changed"), "{refused}");
    let mut malformed = settings.clone();
    malformed.security.secret_key = onboard::server::secret::Secret::new("too short");
    let refused = refusal(malformed).await;
    assert!(refused.contains("ONBOARD_SECRET_KEY"), "{refused}");

    // The key file, where there is one, is private to its owner and cannot silently be replaced.
    let key_file = match keys::source_of(&settings) {
        Ok(keys::KeySource::File(path)) => Some(path),
        _ => None,
    };
    if let Some(path) = &key_file {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(path).unwrap().permissions().mode() & 0o777, 0o600);
        let kept = std::fs::read(path).unwrap();
        std::fs::remove_file(path).unwrap();
        let refused = refusal(settings.clone()).await;
        assert!(refused.contains("is missing"), "{refused}");
        assert!(!path.exists(), "no new key file replaces the missing one");
        std::fs::write(path, kept).unwrap();
    }
    let state = AppState::new(settings.clone()).await.unwrap();
    assert_eq!(sealed_rows(&state).await, before, "refused starts changed nothing");
    state.db.pool.close().await;

    // Rotation: a new key file, or the new key given for ONBOARD_SECRET_KEY.
    let (_, new_text) = sealing::ServerKey::generate();
    let given = if key_file.is_some() { None } else { Some(new_text.expose()) };
    let rotation = onboard::server::key_rotation::rotate(&settings, given).await.unwrap();
    assert_ne!(rotation.old_id, rotation.new_id);
    assert!(rotation.resealed >= 2, "the agent secret and the credentials: {}", rotation.resealed);
    let mut rotated = settings.clone();
    if key_file.is_none() {
        rotated.security.secret_key = new_text;
    }
    let refused = AppState::new(settings.clone()).await;
    if key_file.is_none() {
        assert!(refused.is_err(), "the old key no longer opens anything");
    }
    drop(refused);
    let state = AppState::new(rotated).await.unwrap();
    assert_eq!(state.db.key.id(), rotation.new_id);
    assert_eq!(the_agent_secret(&state, id).await, AGENT_SECRET);
    let after = sealed_rows(&state).await;
    assert!(after.iter().all(|row| !row.contains(&rotation.old_id)), "nothing is left under the old key");
    state.db.pool.close().await;
}

crate::on_both_databases!(
    no_secret_is_stored_or_logged_in_the_clear,
    a_wrong_key_changes_nothing_and_rotation_moves_every_secret,
);
