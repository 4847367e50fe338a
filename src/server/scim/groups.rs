//! `/scim/v2/Groups`: the organization's teams as SCIM Groups (RFC 7643 §4.2); a group's
//! members are the team's members, named by their User `id`.

use super::protocol::{self, list_response, scim_json, GroupChange, ScimError, GROUP_SCHEMA};
use super::{location, resource_id, timestamp, ListQuery, Matches, Provisioning};
use crate::domain::settings as rules;
use crate::server::db::scim_tokens::ScimClient;
use crate::server::db::teams::ProvisionedTeam;
use crate::server::{db, AppState};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Value};
use std::collections::HashMap;

/// A team as a SCIM Group; `members` left out when the client asked for that.
fn resource(state: &AppState, team: &ProvisionedTeam, members: Option<&[(i64, String)]>) -> Value {
    let mut group = json!({
        "schemas": [GROUP_SCHEMA],
        "id": team.id.to_string(),
        "displayName": team.name,
        "meta": {
            "resourceType": "Group",
            "created": timestamp(team.created_at),
            "lastModified": timestamp(team.modified_at.unwrap_or(team.created_at)),
            "location": location(state, "Groups", team.id),
        },
    });
    if let Some(external_id) = &team.scim_external_id {
        group["externalId"] = json!(external_id);
    }
    if let Some(members) = members {
        group["members"] = members
            .iter()
            .map(
                |(id, email)| json!({"value": id.to_string(), "display": email, "$ref": location(state, "Users", *id)}),
            )
            .collect();
    }
    group
}

async fn with_members(state: &AppState, team: &ProvisionedTeam, without: bool) -> Result<Value, ScimError> {
    if without {
        return Ok(resource(state, team, None));
    }
    let members = db::teams::member_ids(&state.db, team.id).await?;
    Ok(resource(state, team, Some(&members)))
}

fn not_found(id: &str) -> ScimError {
    ScimError::not_found(format!("There is no group {id} in this organization."))
}

fn name_taken_error() -> ScimError {
    ScimError::uniqueness("There is already a team with that displayName (in any case).")
}

fn name_taken(e: sqlx::Error) -> ScimError {
    if db::is_unique_violation(&e) {
        name_taken_error()
    } else {
        e.into()
    }
}

pub async fn list(
    State(state): State<AppState>,
    Extension(client): Extension<ScimClient>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ScimError> {
    let query = ListQuery::parse(&query)?;
    let page = query.page;
    let (teams, total) = match &query.filter {
        None => db::teams::provisioned_page(&state.db, client.org_id, page.offset(), page.count).await?,
        Some(filter) => {
            let ids = matching(&state, client.org_id, filter).await?;
            let picked = page.of(&ids);
            (db::teams::provisioned_by_ids(&state.db, client.org_id, &picked).await?, ids.len() as i64)
        }
    };
    let mut resources = Vec::with_capacity(teams.len());
    for team in &teams {
        resources.push(with_members(&state, team, query.without_members).await?);
    }
    Ok(scim_json(StatusCode::OK, &list_response(total, page, resources)))
}

/// The ids of the teams a filter finds, in order.
async fn matching(state: &AppState, org_id: i64, filter: &str) -> Result<Vec<i64>, ScimError> {
    let mut found = Matches::default();
    for term in protocol::parse_filter(filter, protocol::GROUP_FILTERS)? {
        let ids = match term.attribute {
            "id" => match resource_id(&term.value) {
                Some(id) => {
                    db::teams::provisioned_by_ids(&state.db, org_id, &[id]).await?.iter().map(|t| t.id).collect()
                }
                None => Vec::new(),
            },
            "displayName" => db::teams::provisioned_ids(&state.db, org_id, true, &term.value).await?,
            _ => db::teams::provisioned_ids(&state.db, org_id, false, &term.value).await?,
        };
        found.narrow(ids);
    }
    Ok(found.in_order())
}

pub async fn read(
    State(state): State<AppState>,
    Extension(client): Extension<ScimClient>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ScimError> {
    let query = ListQuery::parse(&query)?;
    let team_id = resource_id(&id).ok_or_else(|| not_found(&id))?;
    let found = db::teams::provisioned_by_ids(&state.db, client.org_id, &[team_id]).await?;
    let team = found.first().ok_or_else(|| not_found(&id))?;
    Ok(scim_json(StatusCode::OK, &with_members(&state, team, query.without_members).await?))
}

/// The organization's members a change names, by User id, read in the change's transaction.
/// Errors: 400 `invalidValue` naming the first id that is not a member of this organization.
async fn members_named(p: &mut Provisioning, ids: &[String]) -> Result<Vec<i64>, ScimError> {
    let mut wanted = Vec::with_capacity(ids.len());
    for id in ids {
        let member = resource_id(id).ok_or_else(|| ScimError::value(format!("“{id}” is not a user id.")))?;
        wanted.push(member);
    }
    wanted.sort_unstable();
    wanted.dedup();
    let mut found = Vec::with_capacity(wanted.len());
    for chunk in wanted.chunks(500) {
        found.extend(db::memberships::of_organization(&mut p.tx, p.client.org_id, chunk).await?);
    }
    if let Some(missing) = wanted.iter().find(|id| !found.contains(id)) {
        return Err(ScimError::value(format!("There is no user {missing} in this organization.")));
    }
    Ok(found)
}

/// Applies a change to a team in the provisioning's transaction; what it did, for the audit log.
async fn apply(
    p: &mut Provisioning,
    state: &AppState,
    team: &ProvisionedTeam,
    change: &GroupChange,
) -> Result<Vec<String>, ScimError> {
    let org_id = p.client.org_id;
    let mut done = Vec::new();
    if let Some(name) = &change.display_name {
        let name = rules::name(name, "displayName").map_err(ScimError::value)?;
        if name != team.name {
            // Two renames or creates at once on PostgreSQL would each miss the other's name.
            db::organizations::lock(&mut p.tx, state.db.backend, org_id).await?;
            if !db::teams::rename_distinct(&mut p.tx, org_id, team.id, &name).await.map_err(name_taken)? {
                return Err(name_taken_error());
            }
            done.push(format!("renamed “{name}”"));
        }
    }
    if let Some(external_id) = &change.external_id {
        db::teams::set_external_id(&mut p.tx, team.id, external_id.as_deref()).await?;
    }
    if let Some(members) = &change.members {
        let ids = members_named(p, members).await?;
        let left = db::teams::remove_members(&mut p.tx, team.id, None).await?;
        let joined = db::teams::add_members(&mut p.tx, team.id, &ids).await?;
        done.push(format!("members replaced ({joined} now, {left} before)"));
    }
    if change.remove_all_members {
        let left = db::teams::remove_members(&mut p.tx, team.id, None).await?;
        done.push(format!("{left} left"));
    }
    if !change.remove_members.is_empty() {
        // Taking off someone not on the team (or no longer a member) is already done.
        let ids: Vec<i64> = change.remove_members.iter().filter_map(|id| resource_id(id)).collect();
        let left = db::teams::remove_members(&mut p.tx, team.id, Some(&ids)).await?;
        done.push(format!("{left} left"));
    }
    if !change.add_members.is_empty() {
        let ids = members_named(p, &change.add_members).await?;
        let joined = db::teams::add_members(&mut p.tx, team.id, &ids).await?;
        done.push(format!("{joined} joined"));
    }
    if !done.is_empty() {
        db::teams::touch(&mut p.tx, team.id).await?;
    }
    Ok(done)
}

pub async fn create(
    State(state): State<AppState>,
    Extension(client): Extension<ScimClient>,
    body: Bytes,
) -> Result<Response, ScimError> {
    let change = GroupChange::from_resource(&protocol::object(&body)?)?;
    let name =
        rules::name(change.display_name.as_deref().unwrap_or_default(), "displayName").map_err(ScimError::value)?;
    let mut p = Provisioning::begin(&state, &client).await?;
    db::organizations::lock(&mut p.tx, state.db.backend, client.org_id).await?;
    let id = db::teams::create_distinct(&mut p.tx, client.org_id, &name).await.map_err(name_taken)?;
    let id = id.ok_or_else(name_taken_error)?;
    let team = db::teams::provisioned(&mut p.tx, client.org_id, id).await?.ok_or_else(ScimError::internal)?;
    let members =
        GroupChange { external_id: change.external_id.clone(), members: change.members.clone(), ..Default::default() };
    apply(&mut p, &state, &team, &members).await?;
    let team = db::teams::provisioned(&mut p.tx, client.org_id, id).await?.ok_or_else(ScimError::internal)?;
    p.commit("scim.group.create", &name).await?;
    let mut response = scim_json(StatusCode::CREATED, &with_members(&state, &team, false).await?);
    if let Ok(at) = location(&state, "Groups", id).parse() {
        response.headers_mut().insert(header::LOCATION, at);
    }
    Ok(response)
}

pub async fn replace(
    State(state): State<AppState>,
    Extension(client): Extension<ScimClient>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ScimError> {
    let change = GroupChange::from_resource(&protocol::object(&body)?)?;
    if change.display_name.is_none() {
        return Err(ScimError::value("displayName is required."));
    }
    let team = update(&state, &client, &id, std::slice::from_ref(&change)).await?;
    Ok(scim_json(StatusCode::OK, &with_members(&state, &team, false).await?))
}

/// PATCH answers 204 with no body (RFC 7644 §3.5.2): a large team's members are not sent back.
pub async fn patch(
    State(state): State<AppState>,
    Extension(client): Extension<ScimClient>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ScimError> {
    let operations = protocol::parse_patch(&protocol::object(&body)?)?;
    // Each operation in turn (RFC 7644 §3.5.2): `add` then `remove` of one member leaves them off.
    let changes = operations
        .iter()
        .map(|operation| GroupChange::from_patch(std::slice::from_ref(operation)))
        .collect::<Result<Vec<_>, _>>()?;
    update(&state, &client, &id, &changes).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Applies changes one after the other to a team, in one transaction.
async fn update(
    state: &AppState,
    client: &ScimClient,
    id: &str,
    changes: &[GroupChange],
) -> Result<ProvisionedTeam, ScimError> {
    let team_id = resource_id(id).ok_or_else(|| not_found(id))?;
    let mut p = Provisioning::begin(state, client).await?;
    let mut team = db::teams::provisioned(&mut p.tx, client.org_id, team_id).await?.ok_or_else(|| not_found(id))?;
    let mut done = Vec::new();
    for change in changes {
        done.extend(apply(&mut p, state, &team, change).await?);
        team = db::teams::provisioned(&mut p.tx, client.org_id, team_id).await?.ok_or_else(ScimError::internal)?;
    }
    let done = if done.is_empty() { "no change".to_string() } else { done.join(", ") };
    p.commit("scim.group.update", &format!("{}: {done}", team.name)).await?;
    Ok(team)
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(client): Extension<ScimClient>,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    let team_id = resource_id(&id).ok_or_else(|| not_found(&id))?;
    let mut p = Provisioning::begin(&state, &client).await?;
    let name = db::teams::name(&mut p.tx, client.org_id, team_id).await?.ok_or_else(|| not_found(&id))?;
    if !db::teams::delete(&mut p.tx, client.org_id, team_id).await? {
        return Err(not_found(&id));
    }
    p.commit("scim.group.delete", &name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
