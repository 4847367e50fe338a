//! SCIM 2.0 provisioning at `/scim/v2` (RFC 7643 schemas, RFC 7644 protocol): an identity
//! provider (Microsoft Entra ID, Okta) creates, changes and removes the organization's members
//! (`/Users`) and teams (`/Groups`) with a bearer token from Settings › Provisioning.
//!
//! Every request is authenticated by its token, which names the organization, and counted
//! against the token's budget (`security.scim_requests_per_minute`). Every change is one
//! transaction that records it in the audit log under the token's name.

mod discovery;
mod groups;
pub mod protocol;
mod users;

use super::db::{self, scim_tokens::ScimClient};
use super::secret::token_hash;
use super::AppState;
use crate::domain::{Permission, PermissionSet};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use protocol::ScimError;
use sqlx::{Any, Transaction};

/// The routes under `/scim/v2`, each behind the token check.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/ServiceProviderConfig", get(discovery::service_provider_config))
        .route("/ResourceTypes", get(discovery::resource_types))
        .route("/ResourceTypes/{name}", get(discovery::resource_type))
        .route("/Schemas", get(discovery::schemas))
        .route("/Schemas/{id}", get(discovery::schema))
        .route("/Users", get(users::list).post(users::create))
        .route("/Users/{id}", get(users::read).put(users::replace).patch(users::patch).delete(users::delete))
        .route("/Groups", get(groups::list).post(groups::create))
        .route("/Groups/{id}", get(groups::read).put(groups::replace).patch(groups::patch).delete(groups::delete))
        .route(
            "/Bulk",
            axum::routing::any(|| async { ScimError::not_implemented("Bulk operations are not supported.") }),
        )
        .route("/Me", axum::routing::any(|| async { ScimError::not_implemented("/Me is not supported.") }))
        .fallback(|| async { ScimError::not_found("There is no such SCIM endpoint.") })
        .layer(axum::middleware::from_fn_with_state(state, authenticate))
}

/// Lets a request through with a known token within its budget, the token's client in the
/// request's extensions. Errors: 401 without a known token, 429 over the budget.
async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string());
    let Some(token) = bearer.filter(|t| !t.is_empty()) else {
        return ScimError::unauthorized().into_response();
    };
    let client = match db::scim_tokens::by_hash(&state.db, &token_hash(&token)).await {
        Ok(Some(client)) if client.authority().contains(Permission::OrgSettings) => client,
        Ok(Some(_)) => return ScimError::orphaned().into_response(),
        Ok(None) => return ScimError::unauthorized().into_response(),
        Err(e) => return ScimError::from(e).into_response(),
    };
    let now = db::now_ms();
    let budget = state.settings.security.scim_requests_per_minute;
    let subject = format!("scim-token:{}", client.token_id);
    match db::limits::take(&state.db, &subject, budget, crate::domain::time::MINUTE_MS, now).await {
        Ok(true) => {}
        Ok(false) => return ScimError::too_many().into_response(),
        Err(e) => return ScimError::from(e).into_response(),
    }
    if client.last_used_at.is_none_or(|at| at <= now - crate::domain::time::MINUTE_MS) {
        if let Err(e) = db::scim_tokens::touch(&state.db, client.token_id, now).await {
            tracing::warn!(error = %e, "noting a provisioning token's use failed");
        }
    }
    req.extensions_mut().insert(client);
    next.run(req).await
}

impl ScimClient {
    /// What the token may do: what its maker may do now (nothing once they are not an Active
    /// member). It acts on nobody whose role holds more.
    fn authority(&self) -> PermissionSet {
        PermissionSet::parse(self.creator_permissions.as_deref().unwrap_or_default())
    }
}

/// Whether a token whose maker holds `maker` may give people `role`: only what the maker may
/// grant (`invitations::may_grant`), and never the organization's settings, which whoever runs
/// the identity provider would then hold.
pub fn may_give(maker: &PermissionSet, role: &PermissionSet) -> bool {
    super::invitations::may_grant(maker, role) && !role.contains(Permission::OrgSettings)
}

/// A change a token makes: one transaction that records it in the audit log, under the token's
/// name, before it commits.
struct Provisioning {
    tx: Transaction<'static, Any>,
    client: ScimClient,
}

impl Provisioning {
    async fn begin(state: &AppState, client: &ScimClient) -> Result<Self, ScimError> {
        Ok(Self { tx: state.db.begin().await?, client: client.clone() })
    }

    async fn commit(mut self, action: &str, detail: &str) -> Result<(), ScimError> {
        let actor = crate::domain::provisioning::token_actor(&self.client.name);
        db::audit::record_by(&mut self.tx, self.client.org_id, &actor, action, detail).await?;
        self.tx.commit().await?;
        Ok(())
    }
}

/// Where a resource lives, for `meta.location` and the `Location` header of a creation.
fn location(state: &AppState, kind: &str, id: i64) -> String {
    format!("{}/scim/v2/{kind}/{id}", state.settings.public_base())
}

/// A resource id as the path or a filter gives it: ours are whole numbers, so any other text
/// names nothing.
fn resource_id(text: &str) -> Option<i64> {
    text.trim().parse::<i64>().ok().filter(|id| *id > 0)
}

/// `meta.created` and `meta.lastModified`: RFC 3339 in UTC.
fn timestamp(ms: i64) -> String {
    crate::domain::time::format_rfc3339(ms)
}

/// What a list asks for: its filter, its page, and whether it leaves a group's members out.
struct ListQuery {
    filter: Option<String>,
    page: protocol::Page,
    without_members: bool,
}

impl ListQuery {
    /// Reads the query string; parameter names in any case. Errors: 400 `invalidValue`.
    fn parse(query: &std::collections::HashMap<String, String>) -> Result<Self, ScimError> {
        let get = |name: &str| query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
        let page = protocol::Page::parse(get("startIndex"), get("count"))?;
        let named = |list: Option<&str>, name: &str| {
            list.is_some_and(|l| l.split(',').any(|a| a.trim().eq_ignore_ascii_case(name)))
        };
        // `attributes` without members, as well as `excludedAttributes=members`, leave them out.
        let without_members = named(get("excludedAttributes"), "members")
            || get("attributes").is_some_and(|a| !a.trim().is_empty() && !named(Some(a), "members"));
        Ok(ListQuery {
            filter: get("filter").map(str::to_string).filter(|f| !f.trim().is_empty()),
            page,
            without_members,
        })
    }
}

/// The ids a filter's terms found: only those every term found so far.
#[derive(Default)]
struct Matches(Option<Vec<i64>>);

impl Matches {
    /// Keeps those of `ids` found before (all of them for the first term).
    fn narrow(&mut self, ids: Vec<i64>) {
        self.0 = Some(match self.0.take() {
            None => ids,
            Some(before) => before.into_iter().filter(|id| ids.contains(id)).collect(),
        });
    }

    /// The ids found, in order, each once.
    fn in_order(self) -> Vec<i64> {
        let mut ids = self.0.unwrap_or_default();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}
