//! The discovery endpoints (RFC 7644 §4): what this service provider supports
//! (`/ServiceProviderConfig`, RFC 7643 §5), its resource types (§6) and their schemas (§7),
//! listing exactly the attributes Onboard keeps.

use super::protocol::{list_response, scim_json, Page, ScimError, GROUP_SCHEMA, MAX_RESULTS, USER_SCHEMA};
use crate::server::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

const SERVICE_PROVIDER_CONFIG: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

fn meta(state: &AppState, resource_type: &str, path: &str) -> Value {
    json!({"resourceType": resource_type, "location": format!("{}/scim/v2/{path}", state.settings.public_base())})
}

pub async fn service_provider_config(State(state): State<AppState>) -> Response {
    scim_json(
        StatusCode::OK,
        &json!({
            "schemas": [SERVICE_PROVIDER_CONFIG],
            "patch": {"supported": true},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": MAX_RESULTS},
            "changePassword": {"supported": false},
            "sort": {"supported": false},
            "etag": {"supported": false},
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "A provisioning token from Settings › Provisioning, as Authorization: Bearer <token>.",
                "primary": true,
            }],
            "meta": meta(&state, "ServiceProviderConfig", "ServiceProviderConfig"),
        }),
    )
}

fn resource_type_of(state: &AppState, name: &str) -> Option<Value> {
    let (endpoint, schema, description) = match name {
        "User" => ("/Users", USER_SCHEMA, "A member of the organization"),
        "Group" => ("/Groups", GROUP_SCHEMA, "A team of the organization"),
        _ => return None,
    };
    Some(json!({
        "schemas": [RESOURCE_TYPE],
        "id": name,
        "name": name,
        "endpoint": endpoint,
        "description": description,
        "schema": schema,
        "meta": meta(state, "ResourceType", &format!("ResourceTypes/{name}")),
    }))
}

pub async fn resource_types(State(state): State<AppState>) -> Response {
    let types: Vec<Value> = ["User", "Group"].iter().filter_map(|n| resource_type_of(&state, n)).collect();
    scim_json(StatusCode::OK, &list_response(types.len() as i64, Page { start_index: 1, count: MAX_RESULTS }, types))
}

pub async fn resource_type(State(state): State<AppState>, Path(name): Path<String>) -> Result<Response, ScimError> {
    let found =
        resource_type_of(&state, &name).ok_or_else(|| ScimError::not_found("There is no such resource type."))?;
    Ok(scim_json(StatusCode::OK, &found))
}

/// One attribute's definition (RFC 7643 §7).
fn attribute(name: &str, kind: &str, mutability: &str, description: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": description,
        "required": false,
        "caseExact": false,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": "none",
    })
}

fn with(mut attribute: Value, changes: Value) -> Value {
    if let (Value::Object(a), Value::Object(c)) = (&mut attribute, changes) {
        a.extend(c);
    }
    attribute
}

fn schema_of(state: &AppState, id: &str) -> Option<Value> {
    let (name, description, attributes) = if id.eq_ignore_ascii_case(USER_SCHEMA) {
        let user_name = with(
            attribute(
                "userName",
                "string",
                "readWrite",
                "The member's email address, or the client's own name for them.",
            ),
            json!({"required": true, "uniqueness": "server"}),
        );
        let name = with(
            attribute("name", "complex", "readWrite", "The member's names; theirs once they have registered."),
            json!({"subAttributes": [
                attribute("givenName", "string", "readWrite", "First name."),
                attribute("familyName", "string", "readWrite", "Last name."),
                attribute("formatted", "string", "readOnly", "First and last name."),
            ]}),
        );
        let emails = with(
            attribute("emails", "complex", "immutable", "The address the member is invited at and signs in with."),
            json!({"multiValued": true, "subAttributes": [
                attribute("value", "string", "immutable", "The email address."),
                attribute("type", "string", "readOnly", "Always work."),
                attribute("primary", "boolean", "readOnly", "Always true."),
            ]}),
        );
        let attributes = vec![
            user_name,
            name,
            attribute("displayName", "string", "readWrite", "The name shown; the given name when no name is sent."),
            emails,
            attribute(
                "active",
                "boolean",
                "readWrite",
                "False pauses a member, or withdraws an invitation not yet taken up.",
            ),
            attribute("externalId", "string", "readWrite", "The client's own id for the member."),
        ];
        ("User", "A member of the organization", attributes)
    } else if id.eq_ignore_ascii_case(GROUP_SCHEMA) {
        let members = with(
            attribute("members", "complex", "readWrite", "The team's members."),
            json!({"multiValued": true, "subAttributes": [
                attribute("value", "string", "immutable", "The member's User id."),
                attribute("display", "string", "readOnly", "The member's email address."),
                attribute("$ref", "reference", "readOnly", "The member's User resource."),
            ]}),
        );
        let display_name = with(
            attribute("displayName", "string", "readWrite", "The team's name."),
            json!({"required": true, "uniqueness": "server"}),
        );
        let attributes = vec![
            display_name,
            members,
            attribute("externalId", "string", "readWrite", "The client's own id for the team."),
        ];
        ("Group", "A team of the organization", attributes)
    } else {
        return None;
    };
    let id = if name == "User" { USER_SCHEMA } else { GROUP_SCHEMA };
    Some(json!({
        "schemas": [SCHEMA],
        "id": id,
        "name": name,
        "description": description,
        "attributes": attributes,
        "meta": meta(state, "Schema", &format!("Schemas/{id}")),
    }))
}

pub async fn schemas(State(state): State<AppState>) -> Response {
    let schemas: Vec<Value> = [USER_SCHEMA, GROUP_SCHEMA].iter().filter_map(|id| schema_of(&state, id)).collect();
    scim_json(
        StatusCode::OK,
        &list_response(schemas.len() as i64, Page { start_index: 1, count: MAX_RESULTS }, schemas),
    )
}

pub async fn schema(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ScimError> {
    let found = schema_of(&state, &id).ok_or_else(|| ScimError::not_found("There is no such schema."))?;
    Ok(scim_json(StatusCode::OK, &found))
}
