//! Settings › Provisioning: the organization's SCIM tokens, each shown once, with the service
//! area, role and sending choice of the people its identity provider creates. Needs
//! `org.settings`.

use crate::domain::provisioning::{ProvisioningPage, ShownToken, TokenForm};
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};

#[cfg(feature = "ssr")]
use super::ssr::*;
#[cfg(feature = "ssr")]
use crate::domain::provisioning::{MAX_TOKENS, TOKEN_PREFIX};
#[cfg(feature = "ssr")]
use crate::domain::Permission;
#[cfg(feature = "ssr")]
use crate::server::db::scim_tokens::TokenDefaults;

#[server(input = GetUrl, endpoint = "provisioning")]
pub async fn provisioning() -> Result<ProvisioningPage, AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let state = state();
    let roles = db::roles::list(&state.db, caller.org_id).await?;
    Ok(ProvisioningPage {
        tokens: db::scim_tokens::list(&state.db, caller.org_id).await?,
        areas: db::service_areas::list(&state.db, caller.org_id).await?,
        roles: roles.into_iter().filter(|r| may_be_given(&caller, r)).collect(),
        base_url: format!("{}/scim/v2", state.settings.public_base()),
    })
}

/// Whether a token the caller makes may give people this role (`scim::may_give`).
#[cfg(feature = "ssr")]
fn may_be_given(caller: &auth::Caller, role: &crate::domain::settings::Role) -> bool {
    crate::server::scim::may_give(&caller.permissions, &role.permission_set())
}

/// Checks a token's form against the organization: its area must be one of them, and its role
/// one the caller may grant. Returns the checked name.
#[cfg(feature = "ssr")]
async fn checked(change: &mut AuditedChange, caller: &auth::Caller, form: &TokenForm) -> Result<String, AppError> {
    let name = form.checked_name();
    let area = db::service_areas::member_count(change, caller.org_id, form.service_area_id).await?;
    let role = db::roles::get(change, caller.org_id, form.role_id).await?;
    let mut problems = Vec::new();
    if let Err(e) = &name {
        problems.push(("name".to_string(), e.to_string()));
    }
    if area.is_none() {
        problems.push(("service_area_id".to_string(), "Choose one of the organization's service areas.".to_string()));
    }
    match role {
        None => problems.push(("role_id".to_string(), "Choose one of the organization's roles.".to_string())),
        Some(r) if !may_be_given(caller, &r) => problems.push((
            "role_id".to_string(),
            format!("A token cannot give the {} role: choose one without access to the organization's settings that you may grant.", r.name),
        )),
        Some(_) => {}
    }
    match AppError::invalid_fields(problems) {
        Some(e) => Err(e),
        None => name,
    }
}

/// Adds a token; it is in the answer, and never again.
#[server(input = Json, endpoint = "create_scim_token")]
pub async fn create_scim_token(form: TokenForm) -> Result<ShownToken, AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let state = state();
    let mut change = AuditedChange::begin(&caller).await?;
    let name = checked(&mut change, &caller, &form).await?;
    let (random, _) = crate::server::secret::new_token();
    let token = format!("{TOKEN_PREFIX}{}", random.expose());
    let hash = crate::server::secret::token_hash(&token);
    // Two adds at once on PostgreSQL would each miss the other's row in their count.
    db::organizations::lock(&mut change, state.db.backend, caller.org_id).await?;
    let defaults = TokenDefaults {
        name: &name,
        service_area_id: form.service_area_id,
        role_id: form.role_id,
        send_invitations: form.send_invitations,
    };
    let Some(id) = db::scim_tokens::create(&mut change, caller.org_id, &hash, &defaults, caller.account_id).await?
    else {
        return Err(AppError::Conflict(format!(
            "An organization may have at most {MAX_TOKENS} provisioning tokens: delete one you no longer use first."
        )));
    };
    change.commit("scim_token.create", &name).await?;
    Ok(ShownToken { token_id: id, token, base_url: format!("{}/scim/v2", state.settings.public_base()) })
}

/// Saves a token's name, service area, role and sending choice; the token itself stays.
#[server(input = Json, endpoint = "update_scim_token")]
pub async fn update_scim_token(id: i64, form: TokenForm) -> Result<(), AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let mut change = AuditedChange::begin(&caller).await?;
    let name = checked(&mut change, &caller, &form).await?;
    let defaults = TokenDefaults {
        name: &name,
        service_area_id: form.service_area_id,
        role_id: form.role_id,
        send_invitations: form.send_invitations,
    };
    if !db::scim_tokens::update(&mut change, caller.org_id, id, &defaults).await? {
        return Err(AppError::NotFound);
    }
    change.commit("scim_token.update", &name).await
}

/// Deletes a token: its client's next request is refused (401).
#[server(endpoint = "delete_scim_token")]
pub async fn delete_scim_token(id: i64) -> Result<(), AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let mut change = AuditedChange::begin(&caller).await?;
    let token = db::scim_tokens::one(&mut change, caller.org_id, id).await?.ok_or(AppError::NotFound)?;
    db::scim_tokens::delete(&mut change, caller.org_id, id).await?;
    change.commit("scim_token.delete", &token.name).await
}
