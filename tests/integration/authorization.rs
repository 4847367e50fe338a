//! Every server function checks the caller's permission inside the caller's organization.

use crate::common::fakes::FakeChat;
use crate::common::{Backend, TestApp, Visitor};
// The issue 11 scenarios the matrix runs too; they share security.rs's two-organization world.
use crate::security::{
    an_invitation_to_an_existing_account_never_sets_its_credentials, concurrent_permission_edits_lose_nothing,
    entering_an_organization_that_requires_2fa_asks_for_a_code,
    joining_an_organization_that_requires_2fa_asks_for_a_code_first,
    joining_while_signed_in_as_someone_else_is_refused, parallel_wrong_codes_are_evaluated_no_more_than_the_limit,
    parallel_wrong_passwords_are_evaluated_no_more_than_the_limit,
    two_owners_pausing_each_other_at_once_leave_one_active,
};
use onboard::domain::permissions::builtin_roles;
use onboard::domain::Permission;
use onboard::AppError;

const PASSWORD: &str = "a long enough passphrase";

/// Server functions anyone may call: they act only on the caller's own session, their own
/// membership, or a link's token.
const PUBLIC: &[&str] = &[
    "my_profile",
    "disconnect_identity",
    "sign_in",
    "verify_sign_in_code",
    "resend_sign_in_code",
    "sign_out",
    "whoami",
    "switch_organization",
    "password_link",
    "set_password",
    "registration",
    "register_details",
    "send_registration_code",
    "verify_registration_code",
    "complete_registration",
    "join_organization",
    "my_agreement",
    "accept_agreement",
];

/// Every other server function: the permissions that let a caller in (any one of them), and
/// arguments that would succeed for an Owner of the organization that owns the `{…}` ids.
const PROTECTED: &[(&str, bool, &[&str], &[(&str, &str)])] = &[
    ("load_org_settings", true, &["org.settings"], &[]),
    (
        "update_general_settings",
        false,
        &["org.settings"],
        &[("name", "Hijacked"), ("sender_name", "X"), ("invite_lifetime_days", "3")],
    ),
    (
        "update_reminder_settings",
        false,
        &["org.settings"],
        &[
            ("enabled", "on"),
            ("after_days", "1"),
            ("before_expiry_days", "1"),
            ("channel", "email"),
            ("per_minute", "1"),
        ],
    ),
    ("add_service_area", false, &["org.settings"], &[("name", "Hijacked area")]),
    ("rename_service_area", false, &["org.settings"], &[("id", "{area}"), ("name", "Hijacked")]),
    ("delete_service_area", false, &["org.settings"], &[("id", "{spare_area}")]),
    ("add_role", false, &["org.settings"], &[("name", "Hijacked role")]),
    ("rename_role", false, &["org.settings"], &[("id", "{role}"), ("name", "Hijacked")]),
    (
        "set_role_permission",
        false,
        &["org.settings"],
        &[("id", "{role}"), ("permission", "org.settings"), ("granted", "true")],
    ),
    ("delete_role", false, &["org.settings"], &[("id", "{role}")]),
    ("publish_eula", false, &["org.settings"], &[("body", "Hijacked terms")]),
    ("export_agreement_evidence", true, &["org.settings"], &[]),
    ("load_outbox", true, &["org.settings"], &[]),
    ("retry_outbox_job", false, &["org.settings"], &[("id", "{job}")]),
    ("send_test_email", false, &["org.settings"], &[]),
    ("list_members", true, &["users.manage", "users.invite"], &[("filter[last]", "true")]),
    ("plan_remind_all", true, &["users.manage"], &[("filter[status]", "pending")]),
    // Another organization's area matches nobody there: a filter with nobody to remind is refused.
    ("remind_all", false, &["users.manage"], &[("filter[status]", "pending"), ("filter[area]", "{area}")]),
    ("remind_all_progress", true, &["users.manage"], &[("id", "{reminder_run}")]),
    ("pause_member", false, &["users.manage"], &[("id", "{member}")]),
    ("resume_member", false, &["users.manage"], &[("id", "{paused_member}")]),
    ("reset_second_factor", false, &["users.manage"], &[("id", "{member}")]),
    ("invite_form", true, &["users.invite"], &[]),
    ("check_invites", false, &["users.invite"], &[("emails", "someone@acme.example")]),
    (
        "send_invites",
        false,
        &["users.invite"],
        &[("emails", "hijacked@acme.example"), ("area", "{area}"), ("role", "{member_role}")],
    ),
    ("invite_batch", true, &["users.invite"], &[("id", "{batch}")]),
    (
        "check_sheet",
        false,
        &["users.invite"],
        &[("pasted", "email\nhijacked@acme.example"), ("area", "{area}"), ("role", "{member_role}")],
    ),
    ("sheet_import", true, &["users.invite"], &[("id", "{sheet}")]),
    ("send_sheet", false, &["users.invite"], &[("id", "{sheet}")]),
    ("export_sheet_results", true, &["users.invite"], &[("id", "{sent_sheet}")]),
    (
        "fix_invitation",
        false,
        &["users.invite"],
        &[("invitation", "{failed_invitation}"), ("email", "fixed@acme.example")],
    ),
    ("resend_invitation", false, &["users.manage"], &[("id", "{pending_member}")]),
    ("revoke_invitation", false, &["users.manage"], &[("id", "{pending_member}")]),
    ("load_onboarding", true, &["onboarding.view"], &[]),
    ("team_members", true, &["onboarding.view"], &[("team", "{team}"), ("page", "1")]),
    ("onboarding_funnel", true, &["onboarding.view"], &[("scope", "team:{team}")]),
    ("export_funnel", true, &["onboarding.view"], &[("scope", "team:{team}")]),
    ("create_team", false, &["users.manage"], &[("name", "Hijacked team")]),
    ("rename_team", false, &["users.manage"], &[("id", "{team}"), ("name", "Hijacked")]),
    ("delete_team", false, &["users.manage"], &[("id", "{spare_team}")]),
    ("add_team_members", false, &["users.manage"], &[("team", "{team}"), ("emails", "paused@acme.example")]),
    ("remove_team_member", false, &["users.manage"], &[("team", "{team}"), ("member", "{member}")]),
    ("plan_message", true, &["onboarding.message"], &[("member", "{pending_member}")]),
    (
        "send_onboarding_message",
        false,
        &["onboarding.message"],
        &[("member", "{pending_member}"), ("custom", "Hijacked")],
    ),
    ("onboarding_send", true, &["onboarding.message"], &[("id", "{send}")]),
    ("identity_mappings", true, &["identity.configure"], &[("provider", "slack"), ("page", "1")]),
    (
        "set_identity_mapping",
        false,
        &["identity.configure"],
        &[("provider", "slack"), ("member", "{member}"), ("external_id", "")],
    ),
    ("match_identities_by_email", false, &["identity.configure"], &[("provider", "slack")]),
    ("connectors", true, &["connectors.manage"], &[]),
    (
        "save_connector",
        false,
        &["connectors.manage"],
        &[(
            "draft",
            r#"{"id": {connector}, "provider": "telegram", "name": "Hijacked", "agent_url": "https://agent.example.com", "agent_secret": "", "credentials": []}"#,
        )],
    ),
    ("set_connector_enabled", false, &["connectors.manage"], &[("id", "{connector}"), ("enabled", "false")]),
    (
        "set_connector_policy",
        false,
        &["connectors.manage"],
        &[("id", "{connector}"), ("onboarding", "true"), ("message", "Hijacked")],
    ),
    ("set_connector_rules", false, &["connectors.manage"], &[("id", "{connector}"), ("blocked", "hijacked")]),
    (
        "set_connector_approvals",
        false,
        &["connectors.manage"],
        &[("id", "{connector}"), ("via", ""), ("conversation", ""), ("message", "Hijacked")],
    ),
    ("delete_connector", false, &["connectors.manage"], &[("id", "{spare_connector}")]),
    ("access_requests", true, &["access.review"], &[("filter[page]", "1")]),
    ("decide_access", false, &["access.review"], &[("ids", "[{request}]"), ("decision", r#""Approve""#)]),
    ("chat_users", true, &["access.review"], &[("provider", ""), ("search", ""), ("page", "1")]),
    ("chat_user", true, &["access.review"], &[("id", "{chat_user}")]),
    ("webhook_endpoints", true, &["org.settings"], &[]),
    (
        "create_webhook_endpoint",
        false,
        &["org.settings"],
        &[(
            "form",
            r#"{"url": "https://hooks.example.com/hijacked", "description": "Hijacked", "event_types": ["member.paused"]}"#,
        )],
    ),
    (
        "update_webhook_endpoint",
        false,
        &["org.settings"],
        &[
            ("id", "{webhook}"),
            (
                "form",
                r#"{"url": "https://hooks.example.com/hijacked", "description": "Hijacked", "event_types": ["member.paused"]}"#,
            ),
        ],
    ),
    ("set_webhook_endpoint_enabled", false, &["org.settings"], &[("id", "{webhook}"), ("enabled", "false")]),
    ("rotate_webhook_secret", false, &["org.settings"], &[("id", "{webhook}")]),
    ("send_test_webhook", false, &["org.settings"], &[("id", "{webhook}")]),
    ("replay_webhook_delivery", false, &["org.settings"], &[("id", "{delivery}")]),
    ("webhook_deliveries", true, &["org.settings"], &[("endpoint", "{webhook}")]),
    ("delete_webhook_endpoint", false, &["org.settings"], &[("id", "{spare_webhook}")]),
    ("provisioning", true, &["org.settings"], &[]),
    (
        "create_scim_token",
        false,
        &["org.settings"],
        &[(
            "form",
            r#"{"name": "Hijacked", "service_area_id": {area}, "role_id": {member_role}, "send_invitations": true}"#,
        )],
    ),
    (
        "update_scim_token",
        false,
        &["org.settings"],
        &[
            ("id", "{scim_token}"),
            (
                "form",
                r#"{"name": "Hijacked", "service_area_id": {area}, "role_id": {member_role}, "send_invitations": true}"#,
            ),
        ],
    ),
    ("delete_scim_token", false, &["org.settings"], &[("id", "{spare_scim_token}")]),
];

/// Server functions that take their arguments as one JSON object; each argument above is JSON.
const JSON_INPUT: &[&str] = &[
    "save_connector",
    "decide_access",
    "create_webhook_endpoint",
    "update_webhook_endpoint",
    "create_scim_token",
    "update_scim_token",
];

struct Ids {
    batch: i64,
    reminder_run: i64,
    sheet: i64,
    sent_sheet: i64,
    failed_invitation: i64,
    pending_member: i64,
    member_role: i64,
    member: i64,
    paused_member: i64,
    area: i64,
    spare_area: i64,
    role: i64,
    job: i64,
    team: i64,
    spare_team: i64,
    send: i64,
    connector: i64,
    spare_connector: i64,
    request: i64,
    chat_user: i64,
    webhook: i64,
    spare_webhook: i64,
    delivery: i64,
    scim_token: i64,
    spare_scim_token: i64,
}

async fn call(
    v: &Visitor,
    endpoint: &str,
    is_get: bool,
    args: &[(&str, &str)],
    ids: &Ids,
) -> Result<serde_json::Value, (u16, AppError)> {
    let filled: Vec<(String, String)> = args
        .iter()
        .map(|(k, v)| {
            let v = v
                .replace("{spare_scim_token}", &ids.spare_scim_token.to_string())
                .replace("{scim_token}", &ids.scim_token.to_string())
                .replace("{spare_webhook}", &ids.spare_webhook.to_string())
                .replace("{webhook}", &ids.webhook.to_string())
                .replace("{delivery}", &ids.delivery.to_string())
                .replace("{spare_connector}", &ids.spare_connector.to_string())
                .replace("{connector}", &ids.connector.to_string())
                .replace("{request}", &ids.request.to_string())
                .replace("{chat_user}", &ids.chat_user.to_string())
                .replace("{spare_area}", &ids.spare_area.to_string())
                .replace("{spare_team}", &ids.spare_team.to_string())
                .replace("{team}", &ids.team.to_string())
                .replace("{send}", &ids.send.to_string())
                .replace("{area}", &ids.area.to_string())
                .replace("{role}", &ids.role.to_string())
                .replace("{job}", &ids.job.to_string())
                .replace("{paused_member}", &ids.paused_member.to_string())
                .replace("{pending_member}", &ids.pending_member.to_string())
                .replace("{member_role}", &ids.member_role.to_string())
                .replace("{batch}", &ids.batch.to_string())
                .replace("{reminder_run}", &ids.reminder_run.to_string())
                .replace("{sent_sheet}", &ids.sent_sheet.to_string())
                .replace("{sheet}", &ids.sheet.to_string())
                .replace("{failed_invitation}", &ids.failed_invitation.to_string())
                .replace("{member}", &ids.member.to_string());
            (k.to_string(), v)
        })
        .collect();
    let pairs: Vec<(&str, &str)> = filled.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if JSON_INPUT.contains(&endpoint) {
        let args: serde_json::Map<String, serde_json::Value> =
            filled.iter().map(|(k, v)| (k.clone(), serde_json::from_str(v).expect("JSON arguments"))).collect();
        v.call_json(endpoint, &serde_json::Value::Object(args)).await
    } else if is_get {
        v.get(endpoint, &pairs).await
    } else {
        v.call(endpoint, &pairs).await
    }
}

/// Acme with a spare area, a custom role and a failed outbox job, so every id above is real.
async fn acme(app: &TestApp) -> (i64, Ids) {
    let (org, _) = app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    owner.call("add_service_area", &[("name", "Spare")]).await.unwrap();
    owner.call("add_role", &[("name", "Reviewer")]).await.unwrap();
    let area = app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1 AND name = 'General'", org).await;
    let spare_area = app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1 AND name = 'Spare'", org).await;
    let role = app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Reviewer'", org).await;
    sqlx::query(
        "INSERT INTO outbox_jobs (org_id, kind, recipient, subject, payload, status, attempts, max_attempts, run_at, created_at)
         VALUES ($1, 'email', 'x@example.com', 's', $2, 'failed', 8, 8, 0, 0)",
    )
    .bind(org)
    .bind(app.state.db.key.seal(onboard::server::sealing::OUTBOX_PAYLOAD, "{}"))
    .execute(&app.state.db.pool)
    .await
    .unwrap();
    let job = app.scalar_i64("SELECT MAX(id) FROM outbox_jobs WHERE org_id = $1", org).await;
    let member_account = app.add_member(org, "worker@acme.example", PASSWORD, "Member").await;
    let paused_account = app.add_member(org, "paused@acme.example", PASSWORD, "Member").await;
    sqlx::query("UPDATE memberships SET status = 'inactive' WHERE account_id = $1")
        .bind(paused_account)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let member = app.scalar_i64("SELECT id FROM memberships WHERE account_id = $1", member_account).await;
    let paused_member = app.scalar_i64("SELECT id FROM memberships WHERE account_id = $1", paused_account).await;
    let member_role = app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Member'", org).await;
    let batch = owner
        .call(
            "send_invites",
            &[
                ("emails", "invitee@acme.example, bounced@acme.example"),
                ("area", &area.to_string()),
                ("role", &member_role.to_string()),
            ],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    // The email to bounced@ is recorded as failed for good once the worker is done with it.
    let failed_invitation =
        app.scalar_i64("SELECT id FROM invitations WHERE email = 'bounced@acme.example' AND org_id = $1", org).await;
    let bounced_job = app.scalar_i64("SELECT outbox_job_id FROM invitations WHERE id = $1", failed_invitation).await;
    app.eventually("the bounced invitation is handled", || async {
        app.scalar_i64("SELECT COUNT(*) FROM outbox_jobs WHERE id = $1 AND status = 'done'", bounced_job).await == 1
    })
    .await;
    sqlx::query("UPDATE outbox_jobs SET status = 'failed', last_error = '550 no such mailbox' WHERE id = $1")
        .bind(bounced_job)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let pending_member = app
        .scalar_i64("SELECT m.id FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.email = 'invitee@acme.example' AND m.org_id = $1", org)
        .await;
    let team = owner.call("create_team", &[("name", "Platform")]).await.unwrap().as_i64().unwrap();
    owner.call("add_team_members", &[("team", &team.to_string()), ("emails", "worker@acme.example")]).await.unwrap();
    let spare_team = owner.call("create_team", &[("name", "Spare team")]).await.unwrap().as_i64().unwrap();
    let send = owner
        .call("send_onboarding_message", &[("member", &pending_member.to_string()), ("custom", "")])
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    let connector_draft = |name: &str| {
        serde_json::json!({ "draft": {
            "id": null, "provider": "telegram", "name": name, "agent_url": "https://agent.example.com/in",
            "agent_secret": "agent-signing-secret-1",
            "credentials": [["bot_token", "123:abc"], ["secret_token", "authorization_matrix_secret_0123456789"]],
        }})
    };
    let connector = owner.call_json("save_connector", &connector_draft("Support")).await.unwrap().as_i64().unwrap();
    let spare_connector = owner.call_json("save_connector", &connector_draft("Spare")).await.unwrap().as_i64().unwrap();
    let chat_user: i64 = sqlx::query_scalar(
        "INSERT INTO chat_users (org_id, provider, platform_id, first_name, last_name, created_at, last_seen_at)
         VALUES ($1, 'telegram', '42', 'Tom', 'Gram', 0, 0) RETURNING id",
    )
    .bind(org)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    let request: i64 = sqlx::query_scalar(
        "INSERT INTO access_requests (org_id, connector_id, chat_user_id, first_message, created_at)
         VALUES ($1, $2, $3, 'hello', 0) RETURNING id",
    )
    .bind(org)
    .bind(connector)
    .bind(chat_user)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    let check = |email: &'static str| {
        let (area, role) = (area.to_string(), member_role.to_string());
        let owner = &owner;
        async move {
            let sheet = format!("email\n{email}");
            let pairs = [("pasted", sheet.as_str()), ("area", area.as_str()), ("role", role.as_str())];
            owner.call("check_sheet", &pairs).await.unwrap().as_i64().unwrap()
        }
    };
    let sheet = check("sheet@acme.example").await;
    let sent_sheet = check("sent-sheet@acme.example").await;
    owner.call("send_sheet", &[("id", &sent_sheet.to_string())]).await.unwrap();
    let reminder_run = owner.call("remind_all", &[("filter[status]", "pending")]).await.unwrap().as_i64().unwrap();
    let hook = |url: &str| serde_json::json!({ "form": { "url": url, "event_types": ["member.paused"] } });
    let webhook = owner.call_json("create_webhook_endpoint", &hook("https://hooks.example.com/in")).await.unwrap();
    let webhook = webhook["endpoint_id"].as_i64().unwrap();
    let spare_webhook =
        owner.call_json("create_webhook_endpoint", &hook("https://hooks.example.com/spare")).await.unwrap();
    let spare_webhook = spare_webhook["endpoint_id"].as_i64().unwrap();
    owner.call("send_test_webhook", &[("id", &webhook.to_string())]).await.unwrap();
    // A delivery done, so Replay would take it.
    let delivery = app.scalar_i64("SELECT MAX(id) FROM webhook_deliveries WHERE org_id = $1", org).await;
    sqlx::query("UPDATE webhook_deliveries SET status = 'delivered' WHERE id = $1")
        .bind(delivery)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let scim = |name: &str| serde_json::json!({ "form": { "name": name, "service_area_id": area, "role_id": member_role, "send_invitations": true } });
    let scim_token =
        owner.call_json("create_scim_token", &scim("Entra ID")).await.unwrap()["token_id"].as_i64().unwrap();
    let spare_scim_token =
        owner.call_json("create_scim_token", &scim("Okta")).await.unwrap()["token_id"].as_i64().unwrap();
    let ids = Ids {
        scim_token,
        spare_scim_token,
        webhook,
        spare_webhook,
        delivery,
        reminder_run,
        sheet,
        sent_sheet,
        connector,
        spare_connector,
        request,
        chat_user,
        batch,
        failed_invitation,
        pending_member,
        member_role,
        member,
        paused_member,
        area,
        spare_area,
        role,
        job,
        team,
        spare_team,
        send,
    };
    (org, ids)
}

/// The app with Slack and Teams pointed at fakes, so every function has something to talk to.
async fn start(backend: Backend) -> TestApp {
    let fake = FakeChat::start(Vec::new(), Vec::new()).await;
    TestApp::start_with(backend, move |s| fake.configure(s)).await
}

async fn every_server_function_is_listed_here_as_public_or_protected(_backend: Backend) {
    let registered: std::collections::BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_string())
        .collect();
    let listed: std::collections::BTreeSet<String> =
        PUBLIC.iter().copied().chain(PROTECTED.iter().map(|p| p.0)).map(String::from).collect();
    assert_eq!(registered, listed, "a server function was added or removed: list it in this file's tables");
}

async fn signed_out_callers_are_refused_by_every_protected_function(backend: Backend) {
    let app = start(backend).await;
    let (_, ids) = acme(&app).await;
    let stranger = app.visitor();
    for (endpoint, is_get, _, args) in PROTECTED {
        let answer = call(&stranger, endpoint, *is_get, args, &ids).await;
        assert!(matches!(answer, Err((401, AppError::Unauthenticated))), "{endpoint}: {answer:?}");
    }
    app.stop().await;
}

async fn members_without_the_permission_are_refused_by_every_protected_function(backend: Backend) {
    let app = start(backend).await;
    let (org, ids) = acme(&app).await;
    for (role, granted) in builtin_roles().into_iter().skip(1) {
        let email = format!("{}@acme.example", role.to_lowercase());
        app.add_member(org, &email, PASSWORD, role).await;
        let member = app.visitor();
        member.sign_in(&email, PASSWORD).await.unwrap();
        for (endpoint, is_get, needs, args) in PROTECTED {
            if needs.iter().any(|key| granted.contains(Permission::parse(key).unwrap())) {
                continue;
            }
            let answer = call(&member, endpoint, *is_get, args, &ids).await;
            assert!(matches!(answer, Err((403, AppError::NotAllowed))), "{role} calling {endpoint}: {answer:?}");
        }
    }
    let audit =
        app.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE org_id = $1 AND detail LIKE '%Hijacked%'", org).await;
    assert_eq!(audit, 0);
    app.stop().await;
}

async fn a_member_yet_to_accept_a_new_agreement_is_refused_by_every_protected_function(backend: Backend) {
    let app = start(backend).await;
    let (org, ids) = acme(&app).await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    owner.call("publish_eula", &[("body", "New terms"), ("reaccept", "on")]).await.unwrap();
    for (endpoint, is_get, _, args) in PROTECTED {
        let answer = call(&owner, endpoint, *is_get, args, &ids).await;
        assert!(matches!(answer, Err((403, AppError::AgreementPending))), "{endpoint}: {answer:?}");
    }
    // So are the functions any member may call on their own account.
    assert_eq!(owner.get("my_profile", &[]).await.unwrap_err(), (403, AppError::AgreementPending));
    let disconnect = owner.call("disconnect_identity", &[("provider", "slack")]).await;
    assert_eq!(disconnect.unwrap_err(), (403, AppError::AgreementPending));
    let audit =
        app.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE org_id = $1 AND detail LIKE '%Hijacked%'", org).await;
    assert_eq!(audit, 0);
    app.stop().await;
}

async fn owners_of_another_organization_cannot_touch_this_one(backend: Backend) {
    let app = start(backend).await;
    let (acme_org, ids) = acme(&app).await;
    app.organization_with_owner("Globex", "owner@globex.example", PASSWORD).await;
    let intruder = app.visitor();
    intruder.sign_in("owner@globex.example", PASSWORD).await.unwrap();
    for (endpoint, is_get, _, args) in PROTECTED {
        let answer = call(&intruder, endpoint, *is_get, args, &ids).await;
        // A `{name}` placeholder, not a JSON argument's braces.
        let placeholder = |v: &str| {
            v.split('{').skip(1).any(|rest| {
                rest.split_once('}').is_some_and(|(name, _)| {
                    !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                })
            })
        };
        let names_an_acme_row = args.iter().any(|(_, v)| placeholder(v));
        if names_an_acme_row {
            // Another organization's rows are not found, or not accepted as a choice.
            assert!(
                matches!(
                    answer,
                    Err((404, AppError::NotFound)) | Err((422, AppError::Invalid { .. } | AppError::InvalidFields(_)))
                ),
                "{endpoint}: {answer:?}"
            );
        } else {
            // Functions without ids act on the caller's own organization only.
            assert!(answer.is_ok(), "{endpoint}: {answer:?}");
        }
    }
    // Acme is exactly as it was.
    let acme_owner = app.visitor();
    acme_owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    let s = acme_owner.get("load_org_settings", &[]).await.unwrap();
    assert_eq!(s["general"]["name"], "Acme");
    assert!(s["areas"].as_array().unwrap().iter().any(|a| a["name"] == "Spare"));
    assert!(s["roles"].as_array().unwrap().iter().any(|r| r["name"] == "Reviewer" && r["permissions"] == ""));
    assert!(s["eulas"].as_array().unwrap().is_empty());
    let job_status: String = sqlx::query_scalar("SELECT status FROM outbox_jobs WHERE id = $1")
        .bind(ids.job)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(job_status, "failed");
    let statuses: Vec<String> = sqlx::query_scalar("SELECT status FROM memberships WHERE id IN ($1, $2) ORDER BY id")
        .bind(ids.member)
        .bind(ids.paused_member)
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(statuses, ["active", "inactive"]);
    let invitee: String = sqlx::query_scalar("SELECT status FROM memberships WHERE id = $1")
        .bind(ids.pending_member)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(invitee, "pending");
    let hijacked =
        app.scalar_i64("SELECT COUNT(*) FROM accounts WHERE email = 'hijacked@acme.example' AND id > $1", 0).await;
    assert_eq!(hijacked, 0);
    let acme_audit =
        app.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE org_id = $1 AND detail LIKE '%Hijacked%'", acme_org).await;
    assert_eq!(acme_audit, 0);
    app.stop().await;
}

async fn a_paused_member_is_signed_out_at_their_next_request(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (org, _) = app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    assert!(owner.get("load_org_settings", &[]).await.is_ok());
    sqlx::query("UPDATE memberships SET status = 'inactive' WHERE org_id = $1")
        .bind(org)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    assert!(matches!(owner.get("load_org_settings", &[]).await, Err((401, AppError::Unauthenticated))));
    assert!(owner.whoami().await.is_null());
    app.stop().await;
}

/// Custom roles holding exactly one permission each: every protected function lets in exactly
/// the roles holding one of the permissions it names, and refuses the rest with 403.
async fn custom_roles_with_partial_permissions_reach_exactly_their_functions(backend: Backend) {
    let app = start(backend).await;
    let (org, ids) = acme(&app).await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    for permission in Permission::ALL {
        let name = format!("Only {permission}");
        owner.call("add_role", &[("name", &name)]).await.unwrap();
        let role: i64 = sqlx::query_scalar("SELECT id FROM roles WHERE org_id = $1 AND name = $2")
            .bind(org)
            .bind(&name)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        let key = permission.to_string();
        owner
            .call("set_role_permission", &[("id", &role.to_string()), ("permission", &key), ("granted", "true")])
            .await
            .unwrap();
        let email = format!("only-{}@acme.example", key.replace('.', "-"));
        app.add_member(org, &email, PASSWORD, &name).await;
        let member = app.visitor();
        member.sign_in(&email, PASSWORD).await.unwrap();
        for (endpoint, is_get, needs, args) in PROTECTED {
            // Only read-only functions are called when allowed: changes would disturb the ids.
            let allowed = needs.contains(&key.as_str());
            if allowed && !is_get {
                continue;
            }
            let answer = call(&member, endpoint, *is_get, args, &ids).await;
            if allowed {
                assert!(!matches!(answer, Err((403, _))), "{name} calling {endpoint}: {answer:?}");
            } else {
                assert!(matches!(answer, Err((403, AppError::NotAllowed))), "{name} calling {endpoint}: {answer:?}");
            }
        }
    }
    app.stop().await;
}

/// The OAuth routes act only for a signed-in member; webhooks only for a known connector's key.
async fn oauth_webhook_and_scim_routes_refuse_strangers(backend: Backend) {
    let app = start(backend).await;
    acme(&app).await;
    let stranger = app.visitor();
    for path in ["/oauth/slack/start", "/oauth/teams/start", "/oauth/slack/callback?code=x&state=y"] {
        let res = stranger.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 303, "{path}");
        assert_eq!(res.headers()["location"], "/sign-in", "{path}");
    }
    let webhook = stranger
        .client
        .post(format!("{}/webhooks/not-a-connector-key-at-all-0000", app.base))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(webhook.status().as_u16(), 404);
    let scim = stranger.client.get(format!("{}/scim/v2/Users", app.base)).send().await.unwrap();
    assert_eq!(scim.status().as_u16(), 401);
    app.stop().await;
}

crate::on_both_databases!(
    every_server_function_is_listed_here_as_public_or_protected,
    signed_out_callers_are_refused_by_every_protected_function,
    members_without_the_permission_are_refused_by_every_protected_function,
    owners_of_another_organization_cannot_touch_this_one,
    a_member_yet_to_accept_a_new_agreement_is_refused_by_every_protected_function,
    a_paused_member_is_signed_out_at_their_next_request,
    custom_roles_with_partial_permissions_reach_exactly_their_functions,
    oauth_webhook_and_scim_routes_refuse_strangers,
    // Cross-organization invitations.
    an_invitation_to_an_existing_account_never_sets_its_credentials,
    joining_while_signed_in_as_someone_else_is_refused,
    // Second factor across organizations.
    entering_an_organization_that_requires_2fa_asks_for_a_code,
    joining_an_organization_that_requires_2fa_asks_for_a_code_first,
    // Limits and role changes under concurrency.
    parallel_wrong_passwords_are_evaluated_no_more_than_the_limit,
    parallel_wrong_codes_are_evaluated_no_more_than_the_limit,
    two_owners_pausing_each_other_at_once_leave_one_active,
    concurrent_permission_edits_lose_nothing,
);
