//! `/scim/v2/Users`: the organization's members as SCIM Users (RFC 7643 §4.1).
//!
//! - A new User is a Pending membership, invited at once or held, as its token says, at its
//!   work (or primary) email, else at its `userName` when that is an email address: Entra ID's
//!   userName is the UPN, which need not receive mail.
//! - `active` is false for a paused member, and for one whose invitation was withdrawn or lapsed.
//!   Setting it false pauses an Active member and withdraws a Pending one's invitation; setting
//!   it true undoes what provisioning did (resumes, or invites again), never an admin's pause.
//! - DELETE ends the membership; the account stays, with its other organizations.
//! - The email address is the member's sign-in, so provisioning cannot change it.
//! - A token acts with its maker's permissions: it changes nobody whose role holds more.

use super::protocol::{self, list_response, scim_json, ScimError, UserChange, USER_SCHEMA};
use super::{location, resource_id, timestamp, ListQuery, Matches, Provisioning};
use crate::domain::events::EventType;
use crate::domain::{EmailAddress, MembershipStatus, PermissionSet};
use crate::server::db::memberships::{LookUp, NewProvisioned, Provisioned, ProvisionedFields};
use crate::server::db::scim_tokens::ScimClient;
use crate::server::events::{self, About};
use crate::server::invitations::{invite, may_grant, Inviter, Lifetime};
use crate::server::{db, AppState};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Value};
use std::collections::HashMap;

/// A member as a SCIM User.
fn resource(state: &AppState, m: &Provisioned) -> Value {
    let formatted = format!("{} {}", m.first_name, m.last_name).trim().to_string();
    let status = MembershipStatus::parse(&m.status);
    let mut user = json!({
        "schemas": [USER_SCHEMA],
        "id": m.id.to_string(),
        "userName": m.scim_user_name.as_deref().unwrap_or(&m.email),
        "name": {"givenName": m.first_name, "familyName": m.last_name, "formatted": formatted},
        "displayName": if formatted.is_empty() { m.email.clone() } else { formatted },
        "emails": [{"value": m.email, "type": "work", "primary": true}],
        "active": matches!(status, Some(MembershipStatus::Active | MembershipStatus::Pending)),
        "meta": {
            "resourceType": "User",
            "created": timestamp(m.created_at),
            "lastModified": timestamp(m.modified_at.unwrap_or(m.created_at)),
            "location": location(state, "Users", m.id),
        },
    });
    if let Some(external_id) = &m.scim_external_id {
        user["externalId"] = json!(external_id);
    }
    user
}

fn not_found(id: &str) -> ScimError {
    ScimError::not_found(format!("There is no user {id} in this organization."))
}

pub async fn list(
    State(state): State<AppState>,
    Extension(client): Extension<ScimClient>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ScimError> {
    let query = ListQuery::parse(&query)?;
    let page = query.page;
    let (rows, total) = match &query.filter {
        None => db::memberships::provisioned_page(&state.db, client.org_id, page.offset(), page.count).await?,
        Some(filter) => {
            let ids = matching(&state, client.org_id, filter).await?;
            let picked = page.of(&ids);
            (db::memberships::provisioned_by_ids(&state.db, client.org_id, &picked).await?, ids.len() as i64)
        }
    };
    let resources = rows.iter().map(|m| resource(&state, m)).collect();
    Ok(scim_json(StatusCode::OK, &list_response(total, page, resources)))
}

/// The ids of the members a filter finds, in order: each term looked up by its index, and
/// only those every term finds.
async fn matching(state: &AppState, org_id: i64, filter: &str) -> Result<Vec<i64>, ScimError> {
    let mut found = Matches::default();
    for term in protocol::parse_filter(filter, protocol::USER_FILTERS)? {
        let email = EmailAddress::parse(&term.value).ok();
        let email = email.as_ref().map(EmailAddress::as_str);
        let ids = match term.attribute {
            "id" => match resource_id(&term.value) {
                Some(id) => {
                    db::memberships::provisioned_by_ids(&state.db, org_id, &[id]).await?.iter().map(|m| m.id).collect()
                }
                None => Vec::new(),
            },
            "userName" => {
                let by = LookUp::UserName { name: &term.value, email: email.unwrap_or(&term.value) };
                db::memberships::provisioned_ids(&state.db, org_id, by).await?
            }
            "externalId" => {
                db::memberships::provisioned_ids(&state.db, org_id, LookUp::ExternalId(&term.value)).await?
            }
            "displayName" => {
                db::memberships::provisioned_ids(&state.db, org_id, LookUp::DisplayName(&term.value)).await?
            }
            _ => match email {
                Some(email) => db::memberships::provisioned_ids(&state.db, org_id, LookUp::Email(email)).await?,
                None => Vec::new(),
            },
        };
        found.narrow(ids);
    }
    Ok(found.in_order())
}

pub async fn read(
    State(state): State<AppState>,
    Extension(client): Extension<ScimClient>,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    let member_id = resource_id(&id).ok_or_else(|| not_found(&id))?;
    let found = db::memberships::provisioned_by_ids(&state.db, client.org_id, &[member_id]).await?;
    let member = found.first().ok_or_else(|| not_found(&id))?;
    Ok(scim_json(StatusCode::OK, &resource(&state, member)))
}

/// The address a new user is invited at: its work (or primary) email, else its `userName` when
/// that is an email address. Errors: 400 `invalidValue`, saying which is wrong.
fn invited_address(user_name: &str, change: &UserChange) -> Result<EmailAddress, ScimError> {
    let email = change.email.as_deref().filter(|e| !e.is_empty());
    match (email.map(EmailAddress::parse), EmailAddress::parse(user_name)) {
        (Some(Ok(address)), _) | (None, Ok(address)) => Ok(address),
        (Some(Err(e)), Ok(_)) | (Some(Err(e)), Err(_)) => Err(ScimError::value(format!(
            "The user's email “{}” cannot be invited: {e}",
            email.unwrap_or_default()
        ))),
        (None, Err(_)) => Err(ScimError::value(format!(
            "Onboard invites people by email: userName “{user_name}” is not an email address and the user has no work email."
        ))),
    }
}

/// The names a user is given: its `name`, else its `displayName` as the given name.
fn names(change: &UserChange, first: &str, last: &str) -> (String, String) {
    match (&change.given_name, &change.family_name, &change.display_name) {
        (None, None, Some(display)) if first.is_empty() && last.is_empty() => (display.clone(), String::new()),
        (given, family, _) => {
            (given.clone().unwrap_or_else(|| first.to_string()), family.clone().unwrap_or_else(|| last.to_string()))
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    Extension(client): Extension<ScimClient>,
    body: Bytes,
) -> Result<Response, ScimError> {
    let change = UserChange::from_resource(&protocol::object(&body)?)?;
    let user_name =
        change.user_name.clone().filter(|u| !u.is_empty()).ok_or_else(|| ScimError::value("userName is required."))?;
    let address = invited_address(&user_name, &change)?;
    let (first_name, last_name) = names(&change, "", "");
    let fields = ProvisionedFields {
        user_name: (user_name != address.as_str()).then_some(user_name),
        external_id: change.external_id.clone().flatten(),
        first_name,
        last_name,
    };
    ensure_may_give_role(&client)?;
    if let Some(user_name) = &fields.user_name {
        ensure_user_name_free(&state, &client, user_name, None).await?;
    }
    let sending = Sending::read(&state, &client, change.active != Some(false)).await?;
    let mut p = Provisioning::begin(&state, &client).await?;
    let account_id = db::accounts::find_or_create(&mut p.tx, &address).await?;
    let new = NewProvisioned {
        org_id: client.org_id,
        account_id,
        service_area_id: client.service_area_id,
        role_id: client.role_id,
        invited_by: Some(client.created_by),
        fields: &fields,
    };
    let id = match db::memberships::provision(&mut p.tx, &new).await {
        Ok(Some(id)) => id,
        Ok(None) => return Err(ScimError::uniqueness(format!("{address} is already a member of this organization."))),
        Err(e) if db::is_unique_violation(&e) => return Err(user_name_taken()),
        Err(e) => return Err(e.into()),
    };
    let what = if change.active == Some(false) {
        // Created inactive: a member on record, with no invitation until made active.
        db::memberships::change_status(
            &mut p.tx,
            client.org_id,
            id,
            MembershipStatus::Pending,
            MembershipStatus::Expired,
        )
        .await?;
        db::memberships::mark_deactivated(&mut p.tx, id, true).await?;
        "created inactive"
    } else if let Some(sending) = &sending {
        send_invitation(&mut p, &state, sending, id, address.as_str()).await?;
        "created and invited"
    } else {
        "created, invitation held"
    };
    let member = db::memberships::provisioned(&mut p.tx, state.db.backend, client.org_id, id)
        .await?
        .ok_or_else(ScimError::internal)?;
    p.commit("scim.user.create", &format!("{address}: {what}")).await?;
    state.outbox_wake.notify_waiters();
    let mut response = scim_json(StatusCode::CREATED, &resource(&state, &member));
    if let Ok(at) = location(&state, "Users", id).parse() {
        response.headers_mut().insert(header::LOCATION, at);
    }
    Ok(response)
}

/// What sending an invitation needs: the organization's settings and the invitation's lifetime,
/// read before the change's transaction (which then needs no second connection); `None` when
/// the token holds invitations or nothing is to be sent.
struct Sending {
    general: crate::domain::settings::OrgGeneral,
    lifetime: Lifetime,
}

impl Sending {
    async fn read(state: &AppState, client: &ScimClient, wanted: bool) -> Result<Option<Self>, ScimError> {
        if !(wanted && client.send_invitations) {
            return Ok(None);
        }
        let general = db::organizations::general(&state.db, client.org_id).await?.ok_or_else(ScimError::internal)?;
        let lifetime = Lifetime::starting_now(&state.db, &general).await?;
        Ok(Some(Sending { general, lifetime }))
    }
}

/// Invites the member now, as the organization's sender (the email names no admin: nobody
/// clicked Invite).
async fn send_invitation(
    p: &mut Provisioning,
    state: &AppState,
    sending: &Sending,
    membership_id: i64,
    email: &str,
) -> Result<(), ScimError> {
    let general = &sending.general;
    let name = if general.sender_name.trim().is_empty() { &general.name } else { &general.sender_name };
    let inviter = Inviter { account_id: p.client.created_by, name };
    invite(&mut p.tx, state, general, &inviter, membership_id, None, email, &sending.lifetime).await.map_err(|e| {
        tracing::error!(error = %e, "inviting a provisioned user failed");
        ScimError::internal()
    })
}

fn user_name_taken() -> ScimError {
    ScimError::uniqueness("Another member of this organization has that userName, as theirs or as their email address.")
}

/// Refuses a `userName` another member has, as theirs or as their address (`member` is the
/// one it is for, when it exists). The unique index keeps two clients' names apart at once;
/// this read keeps a name from being someone's address. Errors: 409 `uniqueness`.
async fn ensure_user_name_free(
    state: &AppState,
    client: &ScimClient,
    user_name: &str,
    member: Option<i64>,
) -> Result<(), ScimError> {
    let email = EmailAddress::parse(user_name).ok();
    let by = LookUp::UserName { name: user_name, email: email.as_ref().map_or(user_name, EmailAddress::as_str) };
    let holders = db::memberships::provisioned_ids(&state.db, client.org_id, by).await?;
    if holders.iter().any(|id| Some(*id) != member) {
        return Err(user_name_taken());
    }
    Ok(())
}

/// Refuses to create people when the token's role has come to hold more than its maker may
/// grant, or the organization's settings (it was checked when saved; roles change). Errors: 403.
fn ensure_may_give_role(client: &ScimClient) -> Result<(), ScimError> {
    if !super::may_give(&client.authority(), &PermissionSet::parse(&client.role_permissions)) {
        return Err(ScimError::forbidden(
            "This token's role now holds permissions it may not give; an admin must choose another role for it in Settings › Provisioning.",
        ));
    }
    Ok(())
}

pub async fn replace(
    State(state): State<AppState>,
    Extension(client): Extension<ScimClient>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ScimError> {
    let change = UserChange::from_resource(&protocol::object(&body)?)?;
    if change.user_name.as_deref().is_none_or(str::is_empty) {
        return Err(ScimError::value("userName is required."));
    }
    update(&state, &client, &id, change).await
}

pub async fn patch(
    State(state): State<AppState>,
    Extension(client): Extension<ScimClient>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ScimError> {
    let operations = protocol::parse_patch(&protocol::object(&body)?)?;
    update(&state, &client, &id, UserChange::from_patch(&operations)?).await
}

/// Applies a PUT or PATCH and answers the user as it now stands (200, as Okta expects).
async fn update(state: &AppState, client: &ScimClient, id: &str, change: UserChange) -> Result<Response, ScimError> {
    let member_id = resource_id(id).ok_or_else(|| not_found(id))?;
    if change.user_name.as_deref() == Some("") {
        return Err(ScimError::value("userName cannot be empty."));
    }
    if let Some(user_name) = &change.user_name {
        ensure_user_name_free(state, client, user_name, Some(member_id)).await?;
    }
    let sending = Sending::read(state, client, change.active == Some(true)).await?;
    let mut p = Provisioning::begin(state, client).await?;
    let current = db::memberships::provisioned(&mut p.tx, state.db.backend, client.org_id, member_id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if let Some(email) = change.email.as_deref().filter(|e| !e.is_empty()) {
        if EmailAddress::parse(email).map(|a| a.as_str() != current.email).unwrap_or(true) {
            return Err(ScimError::mutability(format!(
                "{} signs in with this email address, so provisioning cannot change it to “{email}”. Remove the user and add them again at the new address.",
                current.email
            )));
        }
    }
    let (first_name, last_name) = names(&change, &current.first_name, &current.last_name);
    let user_name = match &change.user_name {
        Some(u) => (u != &current.email).then(|| u.clone()),
        None => current.scim_user_name.clone(),
    };
    let fields = ProvisionedFields {
        user_name,
        external_id: change.external_id.clone().unwrap_or(current.scim_external_id.clone()),
        first_name,
        last_name,
    };
    match db::memberships::update_provisioned(&mut p.tx, client.org_id, member_id, &fields).await {
        Err(e) if db::is_unique_violation(&e) => return Err(user_name_taken()),
        other => other?,
    }
    let details = change.user_name.is_some()
        || change.external_id.is_some()
        || change.given_name.is_some()
        || change.family_name.is_some()
        || change.display_name.is_some();
    let mut what = if details { vec!["details"] } else { Vec::new() };
    if let Some(active) = change.active {
        if let Some(done) = set_active(&mut p, state, sending.as_ref(), &current, active).await? {
            what.push(done);
        }
    }
    let member = db::memberships::provisioned(&mut p.tx, state.db.backend, client.org_id, member_id)
        .await?
        .ok_or_else(ScimError::internal)?;
    let what = if what.is_empty() { "no change".to_string() } else { what.join(", ") };
    p.commit("scim.user.update", &format!("{}: {what}", current.email)).await?;
    state.outbox_wake.notify_waiters();
    Ok(scim_json(StatusCode::OK, &resource(state, &member)))
}

/// Makes the member active or not, as SCIM's `active` says; what it did, if anything. Making
/// inactive pauses an Active member or withdraws a Pending one's invitation; making active again
/// undoes only what provisioning did, so an admin's pause stands.
async fn set_active(
    p: &mut Provisioning,
    state: &AppState,
    sending: Option<&Sending>,
    member: &Provisioned,
    active: bool,
) -> Result<Option<&'static str>, ScimError> {
    use MembershipStatus::*;
    let org_id = p.client.org_id;
    let Some(from) = MembershipStatus::parse(&member.status) else {
        return Ok(None);
    };
    let by_provisioning = member.scim_deactivated_at.is_some();
    let (to, event, done) = match (active, from) {
        (false, Active) => {
            ensure_may_change(p, member)?;
            ensure_not_last_owner(p, member, "paused").await?;
            (Inactive, EventType::MemberPaused, "paused")
        }
        (false, Pending) => {
            ensure_may_change(p, member)?;
            db::invitations::revoke(&mut p.tx, org_id, member.id).await?;
            (Expired, EventType::MemberExpired, "invitation withdrawn")
        }
        (true, Inactive) if by_provisioning => (Active, EventType::MemberResumed, "resumed"),
        (true, Expired) if by_provisioning => {
            if !db::memberships::change_status(&mut p.tx, org_id, member.id, Expired, Pending).await? {
                return Err(ScimError::conflict(format!("{} changed meanwhile; retry.", member.email)));
            }
            db::memberships::mark_deactivated(&mut p.tx, member.id, false).await?;
            if let Some(sending) = sending {
                send_invitation(p, state, sending, member.id, &member.email).await?;
                return Ok(Some("invited again"));
            }
            return Ok(Some("made pending, invitation held"));
        }
        _ => return Ok(None),
    };
    if !db::memberships::change_status(&mut p.tx, org_id, member.id, from, to).await? {
        return Err(ScimError::conflict(format!("{} changed meanwhile; retry.", member.email)));
    }
    db::memberships::mark_deactivated(&mut p.tx, member.id, !active).await?;
    events::emit(&mut p.tx, &state.db.key, org_id, event, About::Member(member.id)).await?;
    Ok(Some(done))
}

/// Refuses to change someone whose role holds a permission the token's maker lacks, as the app
/// refuses its admins (`auth::ensure_outranks`). Errors: 403.
fn ensure_may_change(p: &Provisioning, member: &Provisioned) -> Result<(), ScimError> {
    if !may_grant(&p.client.authority(), &PermissionSet::parse(&member.permissions)) {
        return Err(ScimError::forbidden(format!(
            "{} has permissions the admin who made this token does not have, so provisioning cannot change them.",
            member.email
        )));
    }
    Ok(())
}

/// Refuses to take away the organization's last active Owner. Errors: 409.
async fn ensure_not_last_owner(p: &mut Provisioning, member: &Provisioned, verb: &str) -> Result<(), ScimError> {
    let active = member.status == MembershipStatus::Active.key();
    if active && db::memberships::is_last_active_owner(&mut p.tx, p.client.org_id, member.id).await? {
        return Err(ScimError::conflict(format!(
            "{} is the last active Owner of this organization, so they cannot be {verb}.",
            member.email
        )));
    }
    Ok(())
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(client): Extension<ScimClient>,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    let member_id = resource_id(&id).ok_or_else(|| not_found(&id))?;
    let mut p = Provisioning::begin(&state, &client).await?;
    let member = db::memberships::provisioned(&mut p.tx, state.db.backend, client.org_id, member_id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    ensure_may_change(&p, &member)?;
    ensure_not_last_owner(&mut p, &member, "removed").await?;
    if !db::memberships::end(&mut p.tx, client.org_id, member_id).await? {
        return Err(not_found(&id));
    }
    p.commit("scim.user.delete", &format!("{}: membership ended", member.email)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
