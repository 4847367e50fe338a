//! The SCIM 2.0 wire format, as far as Onboard speaks it: error bodies (RFC 7644 §3.12), list
//! responses and paging (§3.4.2), the equality filters clients look resources up with (§3.4.2.2),
//! and PATCH operations (§3.5.2), read leniently the ways Microsoft Entra ID and Okta write them.
//! Pure: nothing here touches the database.

use crate::domain::settings::MAX_NAME_LEN;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

pub const MEDIA_TYPE: &str = "application/scim+json";
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Resources one list answers at most, whatever `count` asks (advertised as `filter.maxResults`).
pub const MAX_RESULTS: i64 = 1000;
/// Resources one list answers when `count` is not given.
pub const DEFAULT_COUNT: i64 = 100;

/// A SCIM error response: the HTTP status, the `scimType` where RFC 7644 §3.12 names one, and
/// a detail for the client's administrator. Never carries database text or a token.
#[derive(Debug, PartialEq)]
pub struct ScimError {
    pub status: StatusCode,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    fn new(status: StatusCode, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self { status, scim_type, detail: detail.into() }
    }

    /// 400 `invalidSyntax`: the body is not the JSON the request needs.
    pub fn syntax(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidSyntax"), detail)
    }

    /// 400 `invalidFilter`.
    pub fn filter(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidFilter"), detail)
    }

    /// 400 `invalidValue`: a value of the wrong type, missing where required, or not allowed.
    pub fn value(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidValue"), detail)
    }

    /// 400 `invalidPath`: a PATCH path that is not an attribute path.
    pub fn path(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidPath"), detail)
    }

    /// 400 `mutability`: an attempt to change what Onboard does not let provisioning change.
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("mutability"), detail)
    }

    /// 409 `uniqueness`: another resource has that `userName` or `displayName`.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, Some("uniqueness"), detail)
    }

    /// 409 without a `scimType`: the change would break one of Onboard's own rules.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, None, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, detail)
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, None, "A valid provisioning token is required (Authorization: Bearer …).")
    }

    /// 401 for a token whose maker may no longer manage the organization's settings.
    pub fn orphaned() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            None,
            "The admin who made this token no longer manages the organization's settings; an admin must make a new token in Settings › Provisioning.",
        )
    }

    /// 403: the token's maker could not make this change in the app either.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, None, detail)
    }

    pub fn too_many() -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, None, "Too many requests with this token; retry after a minute.")
    }

    pub fn not_implemented(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_IMPLEMENTED, None, detail)
    }

    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, None, "Something went wrong on our side; retry later.")
    }

    /// The body RFC 7644 §3.12 gives an error: `status` is a string.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t);
        }
        body
    }
}

/// The database's own words go to the log, never to the client.
impl From<sqlx::Error> for ScimError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "database error in a SCIM request");
        if crate::server::db::is_unreachable(&e) {
            Self::new(StatusCode::SERVICE_UNAVAILABLE, None, "The service is briefly unavailable; retry later.")
        } else {
            Self::internal()
        }
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut response = scim_json(self.status, &self.body());
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"scim\""));
        }
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        }
        response
    }
}

/// A JSON answer with SCIM's media type.
pub fn scim_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    response
}

/// Reads a request body as a JSON object. Errors: 400 `invalidSyntax`.
pub fn object(body: &[u8]) -> Result<Map<String, Value>, ScimError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ScimError::syntax("The request body must be a JSON object.")),
        Err(e) => Err(ScimError::syntax(format!("The request body is not JSON: {e}."))),
    }
}

/// An attribute of a JSON object, its name in any case (RFC 7643 §2.1: attribute names are
/// case-insensitive).
pub fn attribute<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).or_else(|| object.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// A string attribute; `null` and absent are `None`. Errors: 400 `invalidValue` for another type.
pub fn text(object: &Map<String, Value>, name: &str) -> Result<Option<String>, ScimError> {
    match attribute(object, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(other) => Err(ScimError::value(format!("{name} must be a string, not {other}."))),
    }
}

/// A boolean as RFC 7643 writes it, or as Entra ID does: the strings "True" and "False", in any
/// case. Errors: 400 `invalidValue`.
pub fn boolean(name: &str, value: &Value) -> Result<bool, ScimError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(false),
        other => Err(ScimError::value(format!("{name} must be true or false, not {other}."))),
    }
}

/// The page a list asks for (RFC 7644 §3.4.2.4): `startIndex` is 1-based and below 1 means 1;
/// `count` below 0 means 0 and is capped at [`MAX_RESULTS`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Page {
    pub start_index: i64,
    pub count: i64,
}

impl Page {
    /// Errors: 400 `invalidValue` when either is not a whole number.
    pub fn parse(start_index: Option<&str>, count: Option<&str>) -> Result<Self, ScimError> {
        let number = |name: &str, v: Option<&str>, default: i64| -> Result<i64, ScimError> {
            match v.map(str::trim) {
                None | Some("") => Ok(default),
                Some(v) => v.parse::<i64>().map_err(|_| ScimError::value(format!("{name} must be a whole number."))),
            }
        };
        Ok(Page {
            start_index: number("startIndex", start_index, 1)?.max(1),
            count: number("count", count, DEFAULT_COUNT)?.clamp(0, MAX_RESULTS),
        })
    }

    pub fn offset(self) -> i64 {
        self.start_index - 1
    }

    /// This page of a list of ids.
    pub fn of(self, ids: &[i64]) -> Vec<i64> {
        ids.iter().copied().skip(self.offset() as usize).take(self.count as usize).collect()
    }
}

/// A ListResponse (RFC 7644 §3.4.2).
pub fn list_response(total: i64, page: Page, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": page.start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// An attribute path in its canonical form: the core schema's URN prefix dropped, the names
/// spelled as RFC 7643 does, and `emails[type eq "work"].value` read as `emails.value`.
fn canonical_path(path: &str, known: &[&'static str]) -> Option<&'static str> {
    let mut path = path.trim();
    for schema in [USER_SCHEMA, GROUP_SCHEMA] {
        let prefixed = path.get(..schema.len()).is_some_and(|p| p.eq_ignore_ascii_case(schema));
        if prefixed && path[schema.len()..].starts_with(':') {
            path = &path[schema.len() + 1..];
        }
    }
    let path = match path.split_once('[') {
        // A value filter on a multi-valued attribute ("emails[type eq \"work\"].value"): what it
        // picks is the attribute's sub-attribute, as Onboard keeps one value of each.
        Some((attribute, rest)) => match rest.split_once(']') {
            Some((_, "")) => attribute.to_string(),
            Some((_, sub)) => format!("{attribute}{sub}"),
            None => return None,
        },
        None => path.to_string(),
    };
    known.iter().copied().find(|k| k.eq_ignore_ascii_case(&path))
}

/// What users can be looked up by.
pub const USER_FILTERS: &[&str] = &["id", "userName", "externalId", "displayName", "emails.value", "emails"];
/// What groups can be looked up by.
pub const GROUP_FILTERS: &[&str] = &["id", "displayName", "externalId"];

/// One `attribute eq value` of a filter, the attribute in canonical form.
#[derive(Clone, Debug, PartialEq)]
pub struct Equals {
    pub attribute: &'static str,
    pub value: String,
}

/// Reads a filter of equality comparisons joined by `and` (RFC 7644 §3.4.2.2), which is what
/// Entra ID and Okta send: `userName eq "ada@example.com"`, `externalId eq "…" and …`. String
/// values are JSON strings; `true`, `false` and numbers are read as their text. Errors: 400
/// `invalidFilter`, naming what is not supported.
pub fn parse_filter(filter: &str, known: &[&'static str]) -> Result<Vec<Equals>, ScimError> {
    let mut rest = filter.trim();
    let mut terms = Vec::new();
    loop {
        // The attribute path runs to the first space outside a value filter's brackets.
        let mut depth = 0;
        let end = rest
            .char_indices()
            .find(|(_, c)| {
                match c {
                    '[' => depth += 1,
                    ']' => depth -= 1,
                    _ => {}
                }
                c.is_whitespace() && depth == 0
            })
            .map(|(i, _)| i)
            .ok_or_else(|| ScimError::filter(format!("“{filter}” is not a filter like userName eq \"…\".")))?;
        let path = &rest[..end];
        let attribute = canonical_path(path, known).ok_or_else(|| {
            ScimError::filter(format!("Filtering by “{path}” is not supported; use one of: {}.", known.join(", ")))
        })?;
        rest = rest[end..].trim_start();
        let (operator, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        if !operator.eq_ignore_ascii_case("eq") {
            return Err(ScimError::filter(format!("The operator “{operator}” is not supported; only eq is.")));
        }
        rest = after.trim_start();
        let (value, after) = comparison_value(rest).ok_or_else(|| {
            ScimError::filter(format!("The value after “{path} eq” is not a JSON string or literal."))
        })?;
        terms.push(Equals { attribute, value });
        rest = after.trim_start();
        if rest.is_empty() {
            return Ok(terms);
        }
        let (joiner, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        if !joiner.eq_ignore_ascii_case("and") {
            return Err(ScimError::filter(format!("“{joiner}” is not supported between comparisons; only and is.")));
        }
        rest = after.trim_start();
    }
}

/// A comparison value at the start of `text`, and what follows it.
fn comparison_value(text: &str) -> Option<(String, &str)> {
    if text.starts_with('"') {
        let mut escaped = false;
        for (i, c) in text.char_indices().skip(1) {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    let value: String = serde_json::from_str(&text[..=i]).ok()?;
                    return Some((value, &text[i + 1..]));
                }
                _ => escaped = false,
            }
        }
        return None;
    }
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    let literal = &text[..end];
    let valid =
        matches!(literal.to_ascii_lowercase().as_str(), "true" | "false" | "null") || literal.parse::<f64>().is_ok();
    valid.then(|| (literal.to_string(), &text[end..]))
}

/// A PATCH operation's kind; Entra ID capitalises them (`Replace`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add,
    Remove,
    Replace,
}

/// One PATCH operation: its kind, its path (canonical where known, else as sent), and value.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    pub op: Op,
    pub path: Option<String>,
    pub value: Option<Value>,
}

/// Reads a PatchOp body (RFC 7644 §3.5.2). Errors: 400 `invalidSyntax` when `Operations` is
/// missing or empty, `invalidValue` for an unknown `op`.
pub fn parse_patch(body: &Map<String, Value>) -> Result<Vec<Operation>, ScimError> {
    let Some(Value::Array(operations)) = attribute(body, "Operations") else {
        return Err(ScimError::syntax("A PATCH body needs an Operations array (urn:…:PatchOp)."));
    };
    if operations.is_empty() {
        return Err(ScimError::syntax("The Operations array is empty."));
    }
    operations
        .iter()
        .map(|operation| {
            let Value::Object(operation) = operation else {
                return Err(ScimError::syntax("Each operation must be a JSON object."));
            };
            let op = match text(operation, "op")?.unwrap_or_default().to_ascii_lowercase().as_str() {
                "add" => Op::Add,
                "remove" => Op::Remove,
                "replace" => Op::Replace,
                other => {
                    return Err(ScimError::value(format!("“{other}” is not a PATCH op; use add, remove or replace.")))
                }
            };
            let path = text(operation, "path")?.filter(|p| !p.is_empty());
            let value = attribute(operation, "value").cloned();
            if op != Op::Remove && value.is_none() {
                return Err(ScimError::value("An add or replace operation needs a value."));
            }
            if op == Op::Remove && path.is_none() {
                return Err(ScimError::new(
                    StatusCode::BAD_REQUEST,
                    Some("noTarget"),
                    "A remove operation needs a path.",
                ));
            }
            Ok(Operation { op, path, value })
        })
        .collect()
}

/// The user attributes a change can name. `Some` is "set to this".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserChange {
    pub user_name: Option<String>,
    /// `Some(None)` clears it.
    pub external_id: Option<Option<String>>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    /// The work or primary email, or the only one.
    pub email: Option<String>,
    pub active: Option<bool>,
}

/// The user attributes Onboard keeps; the rest of a user (title, department, addresses…) is
/// accepted and not kept, so an identity provider's default mapping works unchanged.
const USER_PATHS: &[&str] = &[
    "userName",
    "externalId",
    "name",
    "name.givenName",
    "name.familyName",
    "displayName",
    "emails",
    "emails.value",
    "active",
];

impl UserChange {
    /// Reads a whole User (POST, PUT). Errors: 400 `invalidValue`.
    pub fn from_resource(user: &Map<String, Value>) -> Result<Self, ScimError> {
        let mut change = UserChange::default();
        for (key, value) in user {
            if let Some(path) = canonical_path(key, USER_PATHS) {
                change.set(path, value)?;
            }
        }
        Ok(change)
    }

    /// Reads PATCH operations. A path Onboard does not keep is accepted and left alone; a
    /// `remove` clears what may be empty. Errors: 400 `invalidValue`, `invalidPath`, `mutability`.
    pub fn from_patch(operations: &[Operation]) -> Result<Self, ScimError> {
        let mut change = UserChange::default();
        for operation in operations {
            match (&operation.path, operation.op) {
                // No path: the value is an object of attributes, dotted names allowed (Entra ID).
                (None, _) => {
                    let Some(Value::Object(attributes)) = &operation.value else {
                        return Err(ScimError::value("An operation without a path needs an object value."));
                    };
                    for (key, value) in attributes {
                        if let Some(path) = canonical_path(key, USER_PATHS) {
                            change.set(path, value)?;
                        }
                    }
                }
                (Some(path), _) if names_other_email(path) => {}
                (Some(path), Op::Remove) => match canonical_path(path, USER_PATHS) {
                    Some("externalId") => change.external_id = Some(None),
                    Some("name.givenName") => change.given_name = Some(String::new()),
                    Some("name.familyName") => change.family_name = Some(String::new()),
                    Some("displayName") => change.display_name = Some(String::new()),
                    Some(required @ ("userName" | "active" | "emails" | "emails.value" | "name")) => {
                        return Err(ScimError::mutability(format!("{required} cannot be removed.")))
                    }
                    _ => {}
                },
                (Some(path), Op::Add | Op::Replace) => {
                    if path.contains('[') && !path.contains(']') {
                        return Err(ScimError::path(format!("“{path}” is not an attribute path.")));
                    }
                    if let (Some(path), Some(value)) = (canonical_path(path, USER_PATHS), &operation.value) {
                        change.set(path, value)?;
                    }
                }
            }
        }
        Ok(change)
    }

    fn set(&mut self, path: &'static str, value: &Value) -> Result<(), ScimError> {
        let string = |name: &str, max: usize| match value {
            Value::String(s) => bounded(name, s, max),
            Value::Null => Ok(String::new()),
            other => Err(ScimError::value(format!("{name} must be a string, not {other}."))),
        };
        match path {
            "userName" => self.user_name = Some(string("userName", MAX_IDENTIFIER_CHARS)?),
            "externalId" => {
                self.external_id = Some(Some(string("externalId", MAX_IDENTIFIER_CHARS)?).filter(|s| !s.is_empty()))
            }
            "name.givenName" => self.given_name = Some(string("name.givenName", MAX_NAME_LEN)?),
            "name.familyName" => self.family_name = Some(string("name.familyName", MAX_NAME_LEN)?),
            "displayName" => self.display_name = Some(string("displayName", MAX_NAME_LEN)?),
            "active" => self.active = Some(boolean("active", value)?),
            "name" => {
                let Value::Object(name) = value else {
                    return Err(ScimError::value("name must be an object with givenName and familyName."));
                };
                if let Some(given) = text(name, "givenName")? {
                    self.given_name = Some(bounded("name.givenName", &given, MAX_NAME_LEN)?);
                }
                if let Some(family) = text(name, "familyName")? {
                    self.family_name = Some(bounded("name.familyName", &family, MAX_NAME_LEN)?);
                }
            }
            "emails.value" => self.email = Some(string("emails.value", MAX_IDENTIFIER_CHARS)?),
            "emails" => self.email = chosen_email(value)?.or(self.email.take()),
            _ => {}
        }
        Ok(())
    }
}

/// The longest `userName`, `externalId` or email address kept, in characters.
pub const MAX_IDENTIFIER_CHARS: usize = 256;

/// A string value trimmed, checked to be at most `max` characters with no control characters.
/// Errors: 400 `invalidValue`.
pub fn bounded(name: &str, value: &str, max: usize) -> Result<String, ScimError> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(ScimError::value(format!("{name} must be at most {max} characters.")));
    }
    if value.chars().any(char::is_control) {
        return Err(ScimError::value(format!("{name} cannot contain control characters.")));
    }
    Ok(value.to_string())
}

/// Whether a path names an email other than the work (or primary) one, such as
/// `emails[type eq "home"].value`: Onboard keeps only the one it invites, so these are left alone.
fn names_other_email(path: &str) -> bool {
    let Some((attribute, rest)) = path.split_once('[') else {
        return false;
    };
    let filter = rest.split_once(']').map(|(f, _)| f).unwrap_or_default();
    attribute.trim().eq_ignore_ascii_case("emails")
        && parse_filter(filter, &["type", "primary"])
            .is_ok_and(|terms| terms.iter().any(|t| t.attribute == "type" && !t.value.eq_ignore_ascii_case("work")))
}

/// The email a list of emails names: the primary one, else the work one, else the first without
/// a type. Others (home, …) are not the one Onboard invites. Errors: 400 `invalidValue`.
fn chosen_email(emails: &Value) -> Result<Option<String>, ScimError> {
    let emails = match emails {
        Value::Array(list) => list.as_slice(),
        single @ Value::Object(_) => std::slice::from_ref(single),
        Value::Null => return Ok(None),
        other => return Err(ScimError::value(format!("emails must be a list, not {other}."))),
    };
    let mut entries = Vec::new();
    for email in emails {
        let Value::Object(email) = email else {
            return Err(ScimError::value("Each email must be an object with a value."));
        };
        let primary = attribute(email, "primary").map(|p| boolean("primary", p)).transpose()?.unwrap_or(false);
        let kind = text(email, "type")?.unwrap_or_default().to_ascii_lowercase();
        if let Some(value) = text(email, "value")?.filter(|v| !v.is_empty()) {
            entries.push((primary, kind, bounded("emails.value", &value, MAX_IDENTIFIER_CHARS)?));
        }
    }
    let pick = entries
        .iter()
        .find(|(primary, _, _)| *primary)
        .or_else(|| entries.iter().find(|(_, kind, _)| kind == "work"))
        .or_else(|| entries.iter().find(|(_, kind, _)| kind.is_empty()));
    Ok(pick.map(|(_, _, value)| value.clone()))
}

/// The group attributes a change can name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupChange {
    pub display_name: Option<String>,
    pub external_id: Option<Option<String>>,
    /// The whole membership, replacing what there was (PUT, `replace` of `members`).
    pub members: Option<Vec<String>>,
    pub add_members: Vec<String>,
    pub remove_members: Vec<String>,
    /// A `remove` of `members` without a value: everyone leaves.
    pub remove_all_members: bool,
}

const GROUP_PATHS: &[&str] = &["displayName", "externalId", "members", "id"];

impl GroupChange {
    /// Reads a whole Group (POST, PUT). Errors: 400 `invalidValue`.
    pub fn from_resource(group: &Map<String, Value>) -> Result<Self, ScimError> {
        let mut change = GroupChange::default();
        for (key, value) in group {
            if let Some(path) = canonical_path(key, GROUP_PATHS) {
                change.set(path, Op::Replace, value)?;
            }
        }
        Ok(change)
    }

    /// Reads PATCH operations, including `remove` with a path like `members[value eq "42"]`
    /// (Okta). Errors: 400 `invalidValue`, `invalidPath`, `mutability`.
    pub fn from_patch(operations: &[Operation]) -> Result<Self, ScimError> {
        let mut change = GroupChange::default();
        for operation in operations {
            let Some(path) = &operation.path else {
                let Some(Value::Object(attributes)) = &operation.value else {
                    return Err(ScimError::value("An operation without a path needs an object value."));
                };
                for (key, value) in attributes {
                    if let Some(path) = canonical_path(key, GROUP_PATHS) {
                        change.set(path, operation.op, value)?;
                    }
                }
                continue;
            };
            if let Some(filter) = member_filter(path)? {
                if operation.op != Op::Remove {
                    return Err(ScimError::path("Only remove may name members by a filter."));
                }
                change.remove_members.push(filter);
                continue;
            }
            match (canonical_path(path, GROUP_PATHS), operation.op, &operation.value) {
                (Some("members"), Op::Remove, None) => {
                    change.remove_all_members = true;
                    change.add_members.clear();
                }
                (Some("displayName"), Op::Remove, _) => {
                    return Err(ScimError::mutability("displayName cannot be removed."))
                }
                (Some("externalId"), Op::Remove, _) => change.external_id = Some(None),
                (Some(path), op, Some(value)) => change.set(path, op, value)?,
                (None, _, _) => return Err(ScimError::path(format!("Groups have no attribute “{path}”."))),
                _ => {}
            }
        }
        Ok(change)
    }

    fn set(&mut self, path: &'static str, op: Op, value: &Value) -> Result<(), ScimError> {
        match path {
            "displayName" => match value {
                Value::String(s) => self.display_name = Some(s.trim().to_string()),
                other => return Err(ScimError::value(format!("displayName must be a string, not {other}."))),
            },
            "externalId" => match value {
                Value::String(s) => {
                    self.external_id =
                        Some(Some(bounded("externalId", s, MAX_IDENTIFIER_CHARS)?).filter(|s| !s.is_empty()))
                }
                Value::Null => self.external_id = Some(None),
                other => return Err(ScimError::value(format!("externalId must be a string, not {other}."))),
            },
            "members" => {
                let ids = member_values(value)?;
                match op {
                    Op::Add => self.add_members.extend(ids),
                    Op::Remove => self.remove_members.extend(ids),
                    Op::Replace => {
                        self.members = Some(ids);
                        self.add_members.clear();
                        self.remove_members.clear();
                        self.remove_all_members = false;
                    }
                }
            }
            // `id` is the server's: Okta repeats it in a pathless replace; it changes nothing.
            _ => {}
        }
        Ok(())
    }
}

/// The member a path like `members[value eq "42"]` names, if it is one.
fn member_filter(path: &str) -> Result<Option<String>, ScimError> {
    let Some((attribute, rest)) = path.split_once('[') else {
        return Ok(None);
    };
    if !attribute.trim().eq_ignore_ascii_case("members") {
        return Ok(None);
    }
    let inner = rest.strip_suffix(']').ok_or_else(|| ScimError::path(format!("“{path}” is not an attribute path.")))?;
    let terms = parse_filter(inner, &["value"])?;
    match terms.as_slice() {
        [only] => Ok(Some(only.value.clone())),
        _ => Err(ScimError::path("Name one member: members[value eq \"…\"].")),
    }
}

/// The ids of a `members` value: a list of `{"value": "…"}` (or one such object).
fn member_values(value: &Value) -> Result<Vec<String>, ScimError> {
    let members = match value {
        Value::Array(list) => list.as_slice(),
        single @ Value::Object(_) => std::slice::from_ref(single),
        Value::Null => &[],
        other => return Err(ScimError::value(format!("members must be a list, not {other}."))),
    };
    members
        .iter()
        .map(|member| match member {
            Value::Object(m) => match attribute(m, "value") {
                Some(Value::String(id)) => Ok(id.trim().to_string()),
                Some(Value::Number(id)) => Ok(id.to_string()),
                _ => Err(ScimError::value("Each member needs a value: the user's id.")),
            },
            _ => Err(ScimError::value("Each member must be an object like {\"value\": \"42\"}.")),
        })
        .collect()
}

#[cfg(test)]
mod tests;
