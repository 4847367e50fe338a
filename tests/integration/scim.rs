//! SCIM 2.0 provisioning: tokens made in Settings › Provisioning (shown once, kept hashed), and
//! the request sequences Microsoft Entra ID and Okta document, replayed against /scim/v2: users
//! become invitations, `active` pauses and resumes, DELETE ends the membership, groups are teams.
//! Every change is audited under the token's name, and each token has a request budget.

use crate::common::{Acme, Backend, OWNER_PASSWORD as PASSWORD};
use onboard::AppError;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A provisioning client: the SCIM base URL and a bearer token.
struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

/// An answer: its status, its body (JSON, or `null` when empty) and its headers.
struct Answer {
    status: StatusCode,
    body: Value,
    headers: reqwest::header::HeaderMap,
}

impl Client {
    fn new(base: &str, token: &str) -> Self {
        Client { base: base.to_string(), token: token.to_string(), http: reqwest::Client::new() }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.header("content-type", "application/scim+json").body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        if status != StatusCode::NO_CONTENT {
            assert_eq!(headers["content-type"], "application/scim+json", "{status} {path}");
        }
        let text = response.text().await.unwrap();
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
        Answer { status, body, headers }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
    async fn put(&self, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }
    async fn patch(&self, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }
    async fn delete(&self, path: &str) -> Answer {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

/// A SCIM error answer's status and `scimType`, checking its shape.
fn error(answer: &Answer) -> (u16, Option<String>) {
    assert_eq!(answer.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error", "{}", answer.body);
    assert_eq!(answer.body["status"], answer.status.as_u16().to_string(), "status is a string");
    assert!(answer.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    (answer.status.as_u16(), answer.body["scimType"].as_str().map(String::from))
}

fn list_total(answer: &Answer) -> i64 {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:ListResponse");
    answer.body["totalResults"].as_i64().unwrap()
}

fn patch_op(operations: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations})
}

/// Makes a token as the Owner; returns the client that uses it.
async fn token(w: &Acme, name: &str, send_invitations: bool) -> Client {
    let form = json!({"form": {"name": name, "service_area_id": w.general, "role_id": w.member_role, "send_invitations": send_invitations}});
    let shown = w.owner.call_json("create_scim_token", &form).await.unwrap();
    Client::new(shown["base_url"].as_str().unwrap(), shown["token"].as_str().unwrap())
}

async fn status_of(w: &Acme, id: &str) -> String {
    sqlx::query_scalar("SELECT status FROM memberships WHERE id = $1")
        .bind(id.parse::<i64>().unwrap())
        .fetch_one(&w.app.state.db.pool)
        .await
        .unwrap()
}

async fn audit(w: &Acme) -> Vec<(String, String, String)> {
    let settings = w.owner.get("load_org_settings", &[]).await.unwrap();
    settings["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (text("actor"), text("action"), text("detail"))
        })
        .collect()
}

async fn tokens_are_shown_once_kept_hashed_and_required(backend: Backend) {
    let w = Acme::start(backend).await;
    // Bad input names each field and saves nothing.
    let bad = json!({"form": {"name": " ", "service_area_id": 999_999, "role_id": 999_999, "send_invitations": true}});
    match w.owner.call_json("create_scim_token", &bad).await {
        Err((422, AppError::InvalidFields(all))) => {
            let fields: Vec<&str> = all.iter().map(|(f, _)| f.as_str()).collect();
            assert_eq!(fields, ["name", "service_area_id", "role_id"]);
        }
        other => panic!("expected field errors, got {other:?}"),
    }
    assert_eq!(w.app.scalar_i64("SELECT COUNT(*) FROM scim_tokens WHERE org_id = $1", w.org).await, 0);

    let entra = token(&w, "Entra ID", true).await;
    assert!(entra.token.starts_with("onb_scim_") && entra.base.ends_with("/scim/v2"), "{}", entra.base);
    let listed = w.owner.get("provisioning", &[]).await.unwrap();
    assert_eq!(listed["tokens"][0]["name"], "Entra ID");
    assert!(!listed.to_string().contains(&entra.token[9..]), "a listed token never carries the token");
    let stored: String =
        sqlx::query_scalar("SELECT token_hash FROM scim_tokens").fetch_one(&w.app.state.db.pool).await.unwrap();
    assert!(stored.len() == 64 && !stored.contains(&entra.token[9..]), "only the SHA-256 is kept");

    // Discovery, with the token.
    let config = entra.get("/ServiceProviderConfig").await;
    assert_eq!(config.body["patch"]["supported"], true);
    assert_eq!(config.body["authenticationSchemes"][0]["type"], "oauthbearertoken");
    assert_eq!(list_total(&entra.get("/ResourceTypes").await), 2);
    assert_eq!(entra.get("/ResourceTypes/User").await.body["endpoint"], "/Users");
    let schemas = entra.get("/Schemas").await;
    assert_eq!(list_total(&schemas), 2);
    let user_schema = entra.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").await;
    let names: Vec<&str> =
        user_schema.body["attributes"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"userName") && names.contains(&"active"), "{names:?}");
    assert_eq!(error(&entra.get("/Bulk").await), (501, None));
    assert_eq!(error(&entra.get("/Nothing").await), (404, None));

    // Without the token, with another, or once deleted: 401 and a SCIM error.
    let unauthenticated = Client::new(&entra.base, "").get("/Users").await;
    assert_eq!(error(&unauthenticated), (401, None));
    assert!(unauthenticated.headers["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    assert_eq!(error(&Client::new(&entra.base, "onb_scim_guessed").get("/Users").await), (401, None));
    let id = listed["tokens"][0]["id"].as_i64().unwrap();
    // A service area or role a token creates people with cannot be deleted from under it, and
    // a token's choices can be changed.
    w.owner.call("add_service_area", &[("name", "Contractors")]).await.unwrap();
    let contractors =
        w.app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1 AND name = 'Contractors'", w.org).await;
    let form = json!({"id": id, "form": {"name": "Entra ID", "service_area_id": contractors, "role_id": w.member_role, "send_invitations": false}});
    w.owner.call_json("update_scim_token", &form).await.unwrap();
    let listed = w.owner.get("provisioning", &[]).await.unwrap();
    assert_eq!(
        (listed["tokens"][0]["service_area"].as_str(), listed["tokens"][0]["send_invitations"].as_bool()),
        (Some("Contractors"), Some(false))
    );
    let refused = w.owner.call("delete_service_area", &[("id", &contractors.to_string())]).await;
    assert!(matches!(&refused, Err((409, AppError::Conflict(m))) if m.contains("Entra ID")), "{refused:?}");
    w.owner.call("delete_scim_token", &[("id", &id.to_string())]).await.unwrap();
    assert_eq!(error(&entra.get("/Users").await), (401, None));
    let actions: Vec<String> = audit(&w).await.into_iter().map(|(_, a, _)| a).collect();
    assert!(actions.contains(&"scim_token.create".into()) && actions.contains(&"scim_token.delete".into()));
    w.app.stop().await;
}

/// Microsoft's documented request sequence for a SCIM endpoint ("Develop a sample SCIM
/// endpoint", user and group operations), replayed.
async fn entra_id_provisions_people_and_groups(backend: Backend) {
    let w = Acme::start(backend).await;
    w.owner.call("publish_eula", &[("body", "Be kind.")]).await.unwrap();
    let entra = token(&w, "Entra ID", true).await;

    // Does the user exist? No.
    let user_name = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1";
    let found = entra.get(&format!("/Users?filter=userName+eq+%22{user_name}%22")).await;
    assert_eq!((list_total(&found), found.body["Resources"].as_array().unwrap().len()), (0, 0));

    // Create User: its userName is no email address, so the work email is invited.
    let create = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": user_name,
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": "Ada.Lovelace@Acme.example"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Ada Lovelace", "familyName": "Lovelace", "givenName": "Ada"},
        "roles": [],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Engines"},
    });
    let created = entra.post("/Users", create.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let user = &created.body;
    let id = user["id"].as_str().unwrap().to_string();
    assert_eq!(user["userName"], user_name);
    assert_eq!(user["externalId"], "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef");
    assert_eq!(user["emails"][0]["value"], "ada.lovelace@acme.example");
    assert_eq!((user["name"]["givenName"].as_str(), user["active"].as_bool()), (Some("Ada"), Some(true)));
    assert_eq!(user["meta"]["resourceType"], "User");
    assert!(created.headers["location"].to_str().unwrap().ends_with(&format!("/scim/v2/Users/{id}")));
    assert_eq!(status_of(&w, &id).await, "pending");
    w.app.eventually("the invitation is sent", || async { w.sink.to("ada.lovelace@acme.example").len() == 1 }).await;
    // The Users list finds her by the name the identity provider gave, and her registration
    // page starts with it.
    let members = w.owner.get("list_members", &[("filter[search]", "Lovelace")]).await.unwrap();
    assert_eq!(members["total"], 1, "{members}");
    let link = w.sink.to("ada.lovelace@acme.example")[0].registration_token().unwrap();
    let info = w.app.visitor().get("registration", &[("token", &link)]).await.unwrap();
    assert_eq!(
        (info["prefill"]["first_name"].as_str(), info["prefill"]["last_name"].as_str()),
        (Some("Ada"), Some("Lovelace")),
        "{info}"
    );

    // Found by userName (in any case), by externalId and by work email; created only once.
    for filter in [
        format!("userName eq \"{}\"", user_name.to_uppercase()),
        "externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"".to_string(),
        "emails[type eq \"work\"].value eq \"ada.lovelace@acme.example\"".to_string(),
    ] {
        let found = entra.get(&format!("/Users?filter={}", urlencoding(&filter))).await;
        assert_eq!(list_total(&found), 1, "{filter}");
        assert_eq!(found.body["Resources"][0]["id"], id.as_str());
    }
    assert_eq!(error(&entra.post("/Users", create).await), (409, Some("uniqueness".into())));
    assert_eq!(entra.get(&format!("/Users/{id}")).await.body["userName"], user_name);

    // Update User [Multi-valued properties]: the email is the sign-in, so that part is refused,
    // with nothing of the request saved.
    let multi = patch_op(json!([
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@acme.example"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
    ]));
    assert_eq!(error(&entra.patch(&format!("/Users/{id}"), multi).await), (400, Some("mutability".into())));
    assert_eq!(entra.get(&format!("/Users/{id}")).await.body["name"]["familyName"], "Lovelace");
    let family = patch_op(json!([{"op": "Replace", "path": "name.familyName", "value": "Byron"}]));
    let patched = entra.patch(&format!("/Users/{id}"), family).await;
    assert_eq!((patched.status, patched.body["name"]["familyName"].as_str()), (StatusCode::OK, Some("Byron")));
    // Update User [Single-valued properties].
    let renamed = patch_op(json!([{"op": "Replace", "path": "userName", "value": "5b50642d@acme.example"}]));
    assert_eq!(entra.patch(&format!("/Users/{id}"), renamed).await.body["userName"], "5b50642d@acme.example");

    // Disable User, with the boolean as a string: an invitation not taken up is withdrawn...
    let disable = patch_op(json!([{"op": "Replace", "path": "active", "value": "False"}]));
    assert_eq!(entra.patch(&format!("/Users/{id}"), disable.clone()).await.body["active"], false);
    assert_eq!(status_of(&w, &id).await, "expired");
    // ...and enabling it again invites again.
    let enable = patch_op(json!([{"op": "Replace", "path": "active", "value": "True"}]));
    assert_eq!(entra.patch(&format!("/Users/{id}"), enable.clone()).await.body["active"], true);
    assert_eq!(status_of(&w, &id).await, "pending");
    w.app.eventually("a new invitation is sent", || async { w.sink.to("ada.lovelace@acme.example").len() == 2 }).await;

    // Ada registers: her own names now; disabling her pauses her, and her session ends.
    let token = w.sink.to("ada.lovelace@acme.example").last().unwrap().registration_token().unwrap();
    let phone = w.app.visitor();
    let details = [
        ("token", token.as_str()),
        ("first_name", "Augusta"),
        ("last_name", "King"),
        ("mobile", "+44 7911 123456"),
        ("password", PASSWORD),
    ];
    phone.call("register_details", &details).await.unwrap();
    let eula = w.app.scalar_i64("SELECT id FROM eula_versions WHERE org_id = $1", w.org).await.to_string();
    phone.call("complete_registration", &[("token", &token), ("eula", &eula), ("accept", "on")]).await.unwrap();
    assert_eq!(status_of(&w, &id).await, "active");
    assert_eq!(entra.get(&format!("/Users/{id}")).await.body["name"]["givenName"], "Augusta");
    assert_eq!(entra.patch(&format!("/Users/{id}"), disable).await.body["active"], false);
    assert_eq!(status_of(&w, &id).await, "inactive");
    assert!(phone.whoami().await.is_null(), "a paused member is signed out");
    entra.patch(&format!("/Users/{id}"), enable).await;
    assert_eq!(status_of(&w, &id).await, "active");

    // Group operations.
    let group = entra
        .post(
            "/Groups",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                "displayName": "Engine room",
                "meta": {"resourceType": "Group"},
            }),
        )
        .await;
    assert_eq!(group.status, StatusCode::CREATED, "{}", group.body);
    assert_eq!(group.body["members"], json!([]));
    let gid = group.body["id"].as_str().unwrap().to_string();
    let fetched = entra.get(&format!("/Groups/{gid}?excludedAttributes=members")).await;
    assert_eq!((fetched.body["displayName"].as_str(), fetched.body.get("members")), (Some("Engine room"), None));
    let by_name = entra
        .get(&format!("/Groups?excludedAttributes=members&filter={}", urlencoding("displayName eq \"engine ROOM\"")))
        .await;
    assert_eq!(list_total(&by_name), 1);
    assert_eq!(
        error(&entra.post("/Groups", json!({"displayName": "ENGINE ROOM"})).await),
        (409, Some("uniqueness".into()))
    );
    let rename = patch_op(json!([{"op": "Replace", "path": "displayName", "value": "Difference engine"}]));
    assert_eq!(entra.patch(&format!("/Groups/{gid}"), rename).await.status, StatusCode::NO_CONTENT);
    let add = patch_op(json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": id}]}]));
    assert_eq!(entra.patch(&format!("/Groups/{gid}"), add).await.status, StatusCode::NO_CONTENT);
    let team = entra.get(&format!("/Groups/{gid}")).await;
    assert_eq!(
        (team.body["displayName"].as_str(), team.body["members"][0]["value"].as_str()),
        (Some("Difference engine"), Some(id.as_str()))
    );
    let onboarding = w.owner.get("team_members", &[("team", &gid), ("page", "1")]).await.unwrap();
    assert_eq!(onboarding["total"], 1, "the team is the onboarding dashboard's: {onboarding}");
    // Someone who is not a member is named as such, and nothing changes.
    let stranger = patch_op(json!([{"op": "Add", "path": "members", "value": [{"value": "999999"}]}]));
    assert_eq!(error(&entra.patch(&format!("/Groups/{gid}"), stranger).await), (400, Some("invalidValue".into())));
    let remove = patch_op(json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": id}]}]));
    assert_eq!(entra.patch(&format!("/Groups/{gid}"), remove).await.status, StatusCode::NO_CONTENT);
    assert_eq!(entra.get(&format!("/Groups/{gid}")).await.body["members"], json!([]));
    assert_eq!(entra.delete(&format!("/Groups/{gid}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(error(&entra.get(&format!("/Groups/{gid}")).await), (404, None));

    // Delete User ends the membership; the account stays.
    assert_eq!(entra.delete(&format!("/Users/{id}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(error(&entra.get(&format!("/Users/{id}")).await), (404, None));
    assert_eq!(error(&entra.delete(&format!("/Users/{id}")).await), (404, None));
    let accounts =
        w.app.scalar_i64("SELECT COUNT(*) FROM accounts WHERE email = 'ada.lovelace@acme.example' AND $1 > 0", 1).await;
    assert_eq!(accounts, 1);

    // Each change is in the audit log under the token's name.
    let log = audit(&w).await;
    let by_token: Vec<&str> = log
        .iter()
        .filter(|(actor, _, _)| actor == "SCIM token “Entra ID”")
        .map(|(_, action, _)| action.as_str())
        .collect();
    for action in [
        "scim.user.create",
        "scim.user.update",
        "scim.user.delete",
        "scim.group.create",
        "scim.group.update",
        "scim.group.delete",
    ] {
        assert!(by_token.contains(&action), "{action} in {log:?}");
    }
    assert!(
        log.iter().any(|(_, action, detail)| action == "scim.user.update" && detail.ends_with("paused")),
        "{log:?}"
    );
    w.app.stop().await;
}

/// Okta's documented SCIM 2.0 test sequence (Okta's "SCIM 2.0 protocol reference" and its
/// Runscope spec), with a token that holds invitations.
async fn okta_provisions_with_put_and_pathless_patches(backend: Backend) {
    let w = Acme::start(backend).await;
    let okta = token(&w, "Okta", false).await;
    let found = okta
        .get(&format!("/Users?filter={}&startIndex=1&count=100", urlencoding("userName eq \"test.user@okta.local\"")))
        .await;
    assert_eq!(list_total(&found), 0);
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": true,
    });
    let created = okta.post("/Users", user.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(created.body["userName"], "test.user@okta.local");
    // Held: Pending, and no email; never a password from the identity provider.
    assert_eq!(status_of(&w, &id).await, "pending");
    let hash: Option<String> =
        sqlx::query_scalar("SELECT password_hash FROM accounts WHERE email = 'test.user@okta.local'")
            .fetch_one(&w.app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(hash, None);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(w.sink.to("test.user@okta.local").len(), 0, "the invitation is held");
    // The admin sends it from the Users list when ready.
    w.owner.call("resend_invitation", &[("id", &id)]).await.unwrap();
    w.app.eventually("the held invitation is sent", || async { w.sink.to("test.user@okta.local").len() == 1 }).await;

    // PUT replaces the user.
    let mut replaced = user.clone();
    replaced["name"]["givenName"] = json!("Another");
    replaced["id"] = json!(id);
    let put = okta.put(&format!("/Users/{id}"), replaced).await;
    assert_eq!((put.status, put.body["name"]["givenName"].as_str()), (StatusCode::OK, Some("Another")));
    let mut moved = user.clone();
    moved["emails"][0]["value"] = json!("other@okta.local");
    assert_eq!(error(&okta.put(&format!("/Users/{id}"), moved).await), (400, Some("mutability".into())));

    // Deactivate and reactivate with pathless replaces.
    let active = |on: bool| patch_op(json!([{"op": "replace", "value": {"active": on}}]));
    assert_eq!(okta.patch(&format!("/Users/{id}"), active(false)).await.body["active"], false);
    assert_eq!(status_of(&w, &id).await, "expired");
    assert_eq!(okta.patch(&format!("/Users/{id}"), active(true)).await.body["active"], true);
    assert_eq!(status_of(&w, &id).await, "pending");
    assert_eq!(w.sink.to("test.user@okta.local").len(), 1, "held again, not sent");

    // A user created inactive (a disabled account assigned in the directory) is on record, not
    // invited; made active, the invitation waits for the admin as this token holds them.
    let disabled = json!({"userName": "disabled@okta.local", "active": false});
    let made = okta.post("/Users", disabled).await;
    let disabled_id = made.body["id"].as_str().unwrap().to_string();
    assert_eq!((made.body["active"].as_bool(), status_of(&w, &disabled_id).await.as_str()), (Some(false), "expired"));
    assert_eq!(okta.patch(&format!("/Users/{disabled_id}"), active(true)).await.body["active"], true);
    assert_eq!(status_of(&w, &disabled_id).await, "pending");

    // Provisioning undoes only its own deactivation: a member an admin paused stays paused
    // when Okta pushes the profile again with "active": true.
    let grace = w.app.add_member(w.org, "grace@acme.example", PASSWORD, "Member").await;
    let _ = grace;
    let found = okta.get(&format!("/Users?filter={}", urlencoding("userName eq \"grace@acme.example\""))).await;
    let grace_id = found.body["Resources"][0]["id"].as_str().unwrap().to_string();
    w.owner.call("pause_member", &[("id", &grace_id)]).await.unwrap();
    let push = json!({"userName": "grace@acme.example", "name": {"givenName": "Grace", "familyName": "Hopper"}, "active": true});
    let pushed = okta.put(&format!("/Users/{grace_id}"), push).await;
    assert_eq!((pushed.status, pushed.body["active"].as_bool()), (StatusCode::OK, Some(false)), "{}", pushed.body);
    assert_eq!(status_of(&w, &grace_id).await, "inactive");
    // Nor when provisioning paused her once, and an admin resumed and paused her since.
    w.owner.call("resume_member", &[("id", &grace_id)]).await.unwrap();
    okta.patch(&format!("/Users/{grace_id}"), active(false)).await;
    w.owner.call("resume_member", &[("id", &grace_id)]).await.unwrap();
    w.owner.call("pause_member", &[("id", &grace_id)]).await.unwrap();
    assert_eq!(okta.patch(&format!("/Users/{grace_id}"), active(true)).await.body["active"], false);
    assert_eq!(status_of(&w, &grace_id).await, "inactive");

    // The Owner is a user too; the last active Owner is never paused or removed.
    let owner = okta.get(&format!("/Users?filter={}", urlencoding("userName eq \"owner@acme.example\""))).await;
    let owner_id = owner.body["Resources"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(error(&okta.patch(&format!("/Users/{owner_id}"), active(false)).await), (409, None));
    assert_eq!(error(&okta.delete(&format!("/Users/{owner_id}")).await), (409, None));
    assert!(w.owner.get("list_members", &[]).await.is_ok());

    // Groups: create, rename with the id repeated, members by add and by filtered remove, PUT.
    let group = okta.post("/Groups", json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Test SCIMv2", "members": []})).await;
    let gid = group.body["id"].as_str().unwrap().to_string();
    let rename = patch_op(json!([{"op": "replace", "value": {"id": gid, "displayName": "Test SCIMv2 updated"}}]));
    assert_eq!(okta.patch(&format!("/Groups/{gid}"), rename).await.status, StatusCode::NO_CONTENT);
    let add = patch_op(
        json!([{"op": "add", "path": "members", "value": [{"value": id, "display": "test.user@okta.local"}, {"value": owner_id}]}]),
    );
    okta.patch(&format!("/Groups/{gid}"), add).await;
    assert_eq!(okta.get(&format!("/Groups/{gid}")).await.body["members"].as_array().unwrap().len(), 2);
    let remove = patch_op(json!([{"op": "remove", "path": format!("members[value eq \"{id}\"]")}]));
    assert_eq!(okta.patch(&format!("/Groups/{gid}"), remove).await.status, StatusCode::NO_CONTENT);
    let members = okta.get(&format!("/Groups/{gid}")).await.body["members"].clone();
    assert_eq!(
        members.as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap()).collect::<Vec<_>>(),
        [owner_id.as_str()]
    );
    // Operations apply in order: added, then taken off again.
    let both = patch_op(json!([
        {"op": "add", "path": "members", "value": [{"value": id}]},
        {"op": "remove", "path": format!("members[value eq \"{id}\"]")},
    ]));
    okta.patch(&format!("/Groups/{gid}"), both).await;
    assert_eq!(okta.get(&format!("/Groups/{gid}")).await.body["members"].as_array().unwrap().len(), 1);
    let put = okta
        .put(
            &format!("/Groups/{gid}"),
            json!({"id": gid, "displayName": "Test SCIMv2 updated", "members": [{"value": id}]}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["members"][0]["value"], id.as_str());
    assert_eq!(put.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(okta.delete(&format!("/Groups/{gid}")).await.status, StatusCode::NO_CONTENT);
    w.app.stop().await;
}

/// A token acts with the permissions of the admin who made it, while they have them: it changes
/// nobody whose role holds more, and stops working once its maker loses the organization's
/// settings. It never gives a role that manages them.
async fn a_token_acts_with_its_makers_permissions_while_they_have_them(backend: Backend) {
    let w = Acme::start(backend).await;
    w.owner.call("add_role", &[("name", "Keeper")]).await.unwrap();
    let keeper_role = w.app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Keeper'", w.org).await;
    let grant = [("id", keeper_role.to_string()), ("permission", "org.settings".into()), ("granted", "true".into())];
    let grant: Vec<(&str, &str)> = grant.iter().map(|(k, v)| (*k, v.as_str())).collect();
    w.owner.call("set_role_permission", &grant).await.unwrap();
    let keeper_id = w.app.add_member(w.org, "keeper@acme.example", PASSWORD, "Keeper").await;
    let _ = keeper_id;
    let keeper = w.app.visitor();
    keeper.sign_in("keeper@acme.example", PASSWORD).await.unwrap();
    let owner_role = w.app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Owner'", w.org).await;
    let owners =
        json!({"form": {"name": "IdP", "service_area_id": w.general, "role_id": owner_role, "send_invitations": true}});
    assert!(
        matches!(w.owner.call_json("create_scim_token", &owners).await, Err((422, AppError::Invalid { field, .. })) if field == "role_id")
    );
    let form = json!({"form": {"name": "Keeper's IdP", "service_area_id": w.general, "role_id": w.member_role, "send_invitations": true}});
    let shown = keeper.call_json("create_scim_token", &form).await.unwrap();
    let client = Client::new(shown["base_url"].as_str().unwrap(), shown["token"].as_str().unwrap());

    let find = |email: &str| format!("/Users?filter={}", urlencoding(&format!("userName eq \"{email}\"")));
    let owner_id =
        client.get(&find("owner@acme.example")).await.body["Resources"][0]["id"].as_str().unwrap().to_string();
    let off = patch_op(json!([{"op": "replace", "path": "active", "value": false}]));
    assert_eq!(error(&client.patch(&format!("/Users/{owner_id}"), off.clone()).await), (403, None));
    assert_eq!(error(&client.delete(&format!("/Users/{owner_id}")).await), (403, None));
    assert_eq!(status_of(&w, &owner_id).await, "active");
    let member = w.app.add_member(w.org, "member@acme.example", PASSWORD, "Member").await;
    let _ = member;
    let member_id =
        client.get(&find("member@acme.example")).await.body["Resources"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(client.patch(&format!("/Users/{member_id}"), off).await.status, StatusCode::OK);
    assert_eq!(status_of(&w, &member_id).await, "inactive");

    // The role the token gives comes to manage settings: it creates nobody with it.
    let member_role = w.member_role.to_string();
    let widen = [("id", member_role.as_str()), ("permission", "org.settings"), ("granted", "true")];
    w.owner.call("set_role_permission", &widen).await.unwrap();
    assert_eq!(error(&client.post("/Users", json!({"userName": "new@acme.example"})).await), (403, None));
    let narrow = [("id", member_role.as_str()), ("permission", "org.settings"), ("granted", "false")];
    w.owner.call("set_role_permission", &narrow).await.unwrap();
    assert_eq!(client.post("/Users", json!({"userName": "new@acme.example"})).await.status, StatusCode::CREATED);

    // The keeper is paused: their token stops with them.
    let keeper_membership =
        client.get(&find("keeper@acme.example")).await.body["Resources"][0]["id"].as_str().unwrap().to_string();
    w.owner.call("pause_member", &[("id", &keeper_membership)]).await.unwrap();
    let orphaned = client.get("/Users").await;
    assert_eq!(error(&orphaned), (401, None));
    assert!(orphaned.body["detail"].as_str().unwrap().contains("new token"), "{}", orphaned.body);
    w.app.stop().await;
}

/// What a client gets wrong gets SCIM's error for it; lists page; tokens see their organization
/// only, and no more requests than their budget allows.
async fn bad_requests_paging_isolation_and_the_request_budget(backend: Backend) {
    let w = Acme::start_with(backend, |s| s.security.scim_requests_per_minute = 40).await;
    let client = token(&w, "Entra ID", true).await;
    for i in 0..5 {
        let user = json!({"userName": format!("p{i}@acme.example"), "name": {"givenName": format!("P{i}"), "familyName": "Page"}});
        assert_eq!(client.post("/Users", user).await.status, StatusCode::CREATED);
    }
    // Six members with the Owner: the second page of two.
    let page = client.get("/Users?startIndex=3&count=2").await;
    assert_eq!(list_total(&page), 6);
    assert_eq!((page.body["startIndex"].as_i64(), page.body["itemsPerPage"].as_i64()), (Some(3), Some(2)));
    assert_eq!(page.body["Resources"][0]["userName"], "p1@acme.example");
    assert_eq!(client.get("/Users?count=0").await.body["Resources"], json!([]));
    let filtered =
        client.get(&format!("/Users?filter={}&count=1&startIndex=1", urlencoding("displayName eq \"P4 Page\""))).await;
    assert_eq!(
        (list_total(&filtered), filtered.body["Resources"][0]["userName"].as_str()),
        (1, Some("p4@acme.example"))
    );

    // A userName is unique in any case, and no userName may be another member's address.
    let taken =
        json!({"userName": "P1@acme.example", "emails": [{"type": "work", "value": "someone.else@acme.example"}]});
    assert_eq!(error(&client.post("/Users", taken).await), (409, Some("uniqueness".into())));
    let long = json!({"userName": "long@acme.example", "name": {"givenName": "x".repeat(101)}});
    assert_eq!(error(&client.post("/Users", long).await), (400, Some("invalidValue".into())));
    let filter = |f: &str| format!("/Users?filter={}", urlencoding(f));
    assert_eq!(error(&client.get(&filter("userName co \"p\"")).await), (400, Some("invalidFilter".into())));
    assert_eq!(error(&client.get(&filter("title eq \"x\"")).await), (400, Some("invalidFilter".into())));
    assert_eq!(error(&client.get("/Users?startIndex=first").await), (400, Some("invalidValue".into())));
    let not_json = client.send(reqwest::Method::POST, "/Users", Some(json!("not an object"))).await;
    assert_eq!(error(&not_json), (400, Some("invalidSyntax".into())));
    assert_eq!(
        error(&client.post("/Users", json!({"name": {"givenName": "No"}})).await),
        (400, Some("invalidValue".into()))
    );
    let nowhere =
        client.post("/Users", json!({"userName": "no-address", "emails": [{"value": "not an address"}]})).await;
    assert_eq!(error(&nowhere), (400, Some("invalidValue".into())));
    assert!(nowhere.body["detail"].as_str().unwrap().contains("not an address"), "{}", nowhere.body);
    let bad_patch = patch_op(json!([{"op": "Replace", "path": "active", "value": "maybe"}]));
    let p0 = client.get(&filter("userName eq \"p0@acme.example\"")).await.body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(error(&client.patch(&format!("/Users/{p0}"), bad_patch).await), (400, Some("invalidValue".into())));
    assert_eq!(
        error(&client.patch(&format!("/Users/{p0}"), json!({"Operations": []})).await),
        (400, Some("invalidSyntax".into()))
    );
    assert_eq!(error(&client.get("/Users/not-a-number").await), (404, None));

    // Another organization's token sees none of Acme's members, and cannot touch them.
    let (other_org, _) = w.app.organization_with_owner("Globex", "owner@globex.example", PASSWORD).await;
    let globex = w.app.visitor();
    globex.sign_in("owner@globex.example", PASSWORD).await.unwrap();
    let area = w.app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1", other_org).await;
    let role = w.app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Member'", other_org).await;
    let form =
        json!({"form": {"name": "Globex IdP", "service_area_id": area, "role_id": role, "send_invitations": false}});
    // Acme's area is not Globex's to choose.
    let foreign =
        json!({"form": {"name": "x", "service_area_id": w.general, "role_id": role, "send_invitations": false}});
    assert!(matches!(globex.call_json("create_scim_token", &foreign).await, Err((422, _))));
    let shown = globex.call_json("create_scim_token", &form).await.unwrap();
    let other = Client::new(shown["base_url"].as_str().unwrap(), shown["token"].as_str().unwrap());
    assert_eq!(list_total(&other.get("/Users").await), 1);
    assert_eq!(error(&other.get(&format!("/Users/{p0}")).await), (404, None));
    assert_eq!(error(&other.delete(&format!("/Users/{p0}")).await), (404, None));
    assert_eq!(status_of(&w, &p0).await, "pending");

    // The budget: 40 a minute, so the rest of this minute's requests are refused.
    let mut refused = None;
    for _ in 0..40 {
        let answer = client.get("/ServiceProviderConfig").await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(answer);
            break;
        }
    }
    let refused = refused.expect("the budget runs out");
    assert_eq!(error(&refused), (429, None));
    assert_eq!(refused.headers["retry-after"], "60");
    // Each token has its own.
    assert_eq!(other.get("/ServiceProviderConfig").await.status, StatusCode::OK);
    w.app.stop().await;
}

/// Percent-encodes a query parameter's value.
fn urlencoding(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

crate::on_both_databases!(
    tokens_are_shown_once_kept_hashed_and_required,
    entra_id_provisions_people_and_groups,
    okta_provisions_with_put_and_pathless_patches,
    a_token_acts_with_its_makers_permissions_while_they_have_them,
    bad_requests_paging_isolation_and_the_request_budget,
);
