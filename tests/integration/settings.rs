use crate::common::{Backend, TestApp, Visitor};
use onboard::AppError;

const PASSWORD: &str = "a long enough passphrase";

async fn signed_in_owner(app: &TestApp) -> (i64, Visitor) {
    let (org, _) = app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    (org, owner)
}

fn field_of(answer: &Result<serde_json::Value, (u16, AppError)>) -> Option<String> {
    match answer {
        Err((422, AppError::Invalid { field, .. })) => Some(field.clone()),
        _ => None,
    }
}

async fn general_settings_are_validated_saved_and_audited(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (org, owner) = signed_in_owner(&app).await;
    let s = owner.get("load_org_settings", &[]).await.unwrap();
    assert_eq!(s["general"]["invite_lifetime_days"], 7);
    assert_eq!(s["general"]["require_2fa"], false);

    for (days, name) in [("0", "Acme"), ("91", "Acme"), ("seven", "Acme")] {
        let bad = owner
            .call(
                "update_general_settings",
                &[("name", name), ("sender_name", "Acme HR"), ("invite_lifetime_days", days)],
            )
            .await;
        assert_eq!(field_of(&bad).as_deref(), Some("invite_lifetime_days"), "{days}: {bad:?}");
    }
    let blank = owner
        .call("update_general_settings", &[("name", "  "), ("sender_name", "Acme HR"), ("invite_lifetime_days", "7")])
        .await;
    assert_eq!(field_of(&blank).as_deref(), Some("name"));
    // Nothing was saved by the refused attempts.
    assert_eq!(owner.get("load_org_settings", &[]).await.unwrap()["general"]["sender_name"], "Acme");

    owner
        .call(
            "update_general_settings",
            &[
                ("name", " Acme Ltd "),
                ("sender_name", "Acme <HR>"),
                ("invite_lifetime_days", "14"),
                ("require_2fa", "on"),
            ],
        )
        .await
        .unwrap();
    let s = owner.get("load_org_settings", &[]).await.unwrap();
    assert_eq!(s["general"]["name"], "Acme Ltd");
    assert_eq!(s["general"]["sender_name"], "Acme <HR>");
    assert_eq!(s["general"]["invite_lifetime_days"], 14);
    assert_eq!(s["general"]["require_2fa"], true);
    assert_eq!(s["audit"][0]["action"], "settings.updated");
    assert_eq!(s["audit"][0]["actor"], "owner@acme.example");

    // Unticking the checkbox sends nothing for it, which turns 2FA off again.
    owner
        .call("update_general_settings", &[("name", "Acme Ltd"), ("sender_name", "HR"), ("invite_lifetime_days", "14")])
        .await
        .unwrap();
    assert_eq!(owner.get("load_org_settings", &[]).await.unwrap()["general"]["require_2fa"], false);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE org_id = $1", org).await, 2);
    app.stop().await;
}

async fn service_areas_can_be_added_renamed_and_deleted_unless_in_use(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (org, owner) = signed_in_owner(&app).await;
    owner.call("add_service_area", &[("name", "North")]).await.unwrap();
    let dup = owner.call("add_service_area", &[("name", "North")]).await;
    assert_eq!(field_of(&dup).as_deref(), Some("name"), "{dup:?}");
    let empty = owner.call("add_service_area", &[("name", "")]).await;
    assert_eq!(field_of(&empty).as_deref(), Some("name"));

    let north = app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1 AND name = 'North'", org).await;
    owner.call("rename_service_area", &[("id", &north.to_string()), ("name", "North-East")]).await.unwrap();
    let clash = owner.call("rename_service_area", &[("id", &north.to_string()), ("name", "General")]).await;
    assert_eq!(field_of(&clash).as_deref(), Some("name"));

    // General holds the owner, so it cannot go.
    let general = app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1 AND name = 'General'", org).await;
    let in_use = owner.call("delete_service_area", &[("id", &general.to_string())]).await;
    assert!(matches!(in_use, Err((409, AppError::Conflict(_)))), "{in_use:?}");
    owner.call("delete_service_area", &[("id", &north.to_string())]).await.unwrap();
    let gone = owner.call("delete_service_area", &[("id", &north.to_string())]).await;
    assert!(matches!(gone, Err((404, AppError::NotFound))));

    let names: Vec<String> = owner.get("load_org_settings", &[]).await.unwrap()["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["General"]);
    app.stop().await;
}

async fn roles_and_their_permissions_can_be_edited_but_the_owner_role_cannot(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (org, owner) = signed_in_owner(&app).await;
    let roles = owner.get("load_org_settings", &[]).await.unwrap()["roles"].clone();
    let names: Vec<&str> = roles.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Owner", "Admin", "Manager", "Member"]);
    assert_eq!(roles[2]["permissions"], "onboarding.view onboarding.message users.invite");

    let owner_role = app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Owner'", org).await;
    let locked = owner
        .call(
            "set_role_permission",
            &[("id", &owner_role.to_string()), ("permission", "org.settings"), ("granted", "false")],
        )
        .await;
    assert!(matches!(locked, Err((409, AppError::Conflict(_)))), "{locked:?}");
    assert!(owner.call("delete_role", &[("id", &owner_role.to_string())]).await.is_err());

    let member = app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Member'", org).await;
    let id = member.to_string();
    owner
        .call("set_role_permission", &[("id", &id), ("permission", "access.review"), ("granted", "true")])
        .await
        .unwrap();
    owner
        .call("set_role_permission", &[("id", &id), ("permission", "users.invite"), ("granted", "true")])
        .await
        .unwrap();
    owner
        .call("set_role_permission", &[("id", &id), ("permission", "access.review"), ("granted", "false")])
        .await
        .unwrap();
    let bogus = owner.call("set_role_permission", &[("id", &id), ("permission", "root"), ("granted", "true")]).await;
    assert_eq!(field_of(&bogus).as_deref(), Some("permission"));
    let stored: String = sqlx::query_scalar("SELECT permissions FROM roles WHERE id = $1")
        .bind(member)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, "users.invite");

    // A member of the edited role gains the permission at once.
    app.add_member(org, "mia@acme.example", PASSWORD, "Member").await;
    let mia = app.visitor();
    mia.sign_in("mia@acme.example", PASSWORD).await.unwrap();
    assert_eq!(mia.whoami().await["permissions"], owner_permissions_value(&["users.invite"]));

    let in_use = owner.call("delete_role", &[("id", &id)]).await;
    assert!(matches!(in_use, Err((409, AppError::Conflict(_)))), "{in_use:?}");
    owner.call("add_role", &[("name", "Auditor")]).await.unwrap();
    let auditor = app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Auditor'", org).await;
    owner.call("rename_role", &[("id", &auditor.to_string()), ("name", "Reviewer")]).await.unwrap();
    owner.call("delete_role", &[("id", &auditor.to_string())]).await.unwrap();
    app.stop().await;
}

/// How a permission set travels to the browser.
fn owner_permissions_value(keys: &[&str]) -> serde_json::Value {
    let set: onboard::domain::PermissionSet =
        keys.iter().filter_map(|k| onboard::domain::Permission::parse(k)).collect();
    serde_json::to_value(set).unwrap()
}

async fn publishing_a_eula_adds_a_version_and_never_edits_an_old_one(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (org, owner) = signed_in_owner(&app).await;
    let empty = owner.call("publish_eula", &[("body", "   ")]).await;
    assert_eq!(field_of(&empty).as_deref(), Some("body"));
    assert_eq!(owner.call("publish_eula", &[("body", "Version one terms.")]).await.unwrap(), 1);
    assert_eq!(owner.call("publish_eula", &[("body", "Version two terms.")]).await.unwrap(), 2);
    let eulas = owner.get("load_org_settings", &[]).await.unwrap()["eulas"].clone();
    assert_eq!(eulas[0]["version"], 2);
    assert_eq!(eulas[1]["body"], "Version one terms.");
    // The database itself refuses to change a published version.
    let edit = sqlx::query("UPDATE eula_versions SET body = 'changed' WHERE org_id = $1")
        .bind(org)
        .execute(&app.state.db.pool)
        .await;
    assert!(edit.is_err());
    let huge = "x".repeat(100_001);
    let too_long = owner.call("publish_eula", &[("body", &huge)]).await;
    assert_eq!(field_of(&too_long).as_deref(), Some("body"));
    app.stop().await;
}

async fn a_database_failure_shows_a_plain_message_and_never_the_database_text(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (org, owner) = signed_in_owner(&app).await;
    sqlx::query("DROP TABLE audit_log").execute(&app.state.db.pool).await.unwrap();
    let (status, error) = owner.call("add_service_area", &[("name", "North")]).await.unwrap_err();
    assert_eq!((status, &error), (500, &AppError::Internal));
    assert!(!error.to_string().contains("audit_log"));
    // The change was rolled back with the failed audit entry.
    let areas = app.scalar_i64("SELECT COUNT(*) FROM service_areas WHERE org_id = $1", org).await;
    assert_eq!(areas, 1);
    app.stop().await;
}

crate::on_both_databases!(
    general_settings_are_validated_saved_and_audited,
    service_areas_can_be_added_renamed_and_deleted_unless_in_use,
    roles_and_their_permissions_can_be_edited_but_the_owner_role_cannot,
    publishing_a_eula_adds_a_version_and_never_edits_an_old_one,
    a_database_failure_shows_a_plain_message_and_never_the_database_text,
);
