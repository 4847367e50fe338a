//! Organization settings: general options, service areas, roles and permissions, EULA versions.

pub mod types;

use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use types::OrgSettings;

#[cfg(feature = "ssr")]
use super::ssr::*;
#[cfg(feature = "ssr")]
use crate::domain::{settings as rules, Permission};

#[cfg(feature = "ssr")]
fn invalid(field: &str) -> impl FnOnce(String) -> AppError + '_ {
    move |reason| AppError::invalid(field, reason)
}

#[server(input = GetUrl, endpoint = "load_org_settings")]
pub async fn load_org_settings() -> Result<OrgSettings, AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let db = &state().db;
    let general = db::organizations::general(db, caller.org_id).await?.ok_or(AppError::NotFound)?;
    Ok(OrgSettings {
        general,
        areas: db::service_areas::list(db, caller.org_id).await?,
        roles: db::roles::list(db, caller.org_id).await?,
        eulas: db::eula::list(db, caller.org_id).await?,
        agreement: db::eula::standing(db, caller.org_id).await?,
        reminders: db::reminders::settings(db, caller.org_id).await?,
        audit: db::audit::recent(db, caller.org_id, 20).await?,
        countries: crate::server::phone::countries().to_vec(),
    })
}

/// `require_2fa` is a checkbox: present when ticked. `default_country` is an ISO 3166-1 alpha-2
/// code or empty; when absent, the current one stays.
#[server(endpoint = "update_general_settings")]
pub async fn update_general_settings(
    name: String,
    sender_name: String,
    invite_lifetime_days: String,
    require_2fa: Option<String>,
    default_country: Option<String>,
) -> Result<(), AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let default_country = match default_country {
        Some(raw) => crate::server::phone::country_setting(&raw).map_err(invalid("default_country"))?,
        None => {
            db::organizations::general(&state().db, caller.org_id).await?.map(|g| g.default_country).unwrap_or_default()
        }
    };
    let general = types::OrgGeneral {
        id: caller.org_id,
        name: rules::name(&name, "organization name").map_err(invalid("name"))?,
        sender_name: rules::name(&sender_name, "sender name").map_err(invalid("sender_name"))?,
        invite_lifetime_days: rules::invite_days(&invite_lifetime_days).map_err(invalid("invite_lifetime_days"))?,
        require_2fa: require_2fa.is_some(),
        default_country,
    };
    let mut change = AuditedChange::begin(&caller).await?;
    db::organizations::update_general(&mut change, caller.org_id, &general).await?;
    let detail = format!(
        "name “{}”, sender “{}”, 2FA {}, invitations valid {} days, default country “{}”",
        general.name,
        general.sender_name,
        if general.require_2fa { "required" } else { "optional" },
        general.invite_lifetime_days,
        general.default_country
    );
    change.commit("settings.updated", &detail).await
}

/// Automatic reminders. `enabled` is a checkbox: present when ticked. Saving schedules every
/// pending invitation by the new settings; one already reminded keeps its count.
#[server(endpoint = "update_reminder_settings")]
pub async fn update_reminder_settings(
    enabled: Option<String>,
    after_days: String,
    before_expiry_days: String,
    channel: String,
    per_minute: String,
) -> Result<(), AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let general = db::organizations::general(&state().db, caller.org_id).await?.ok_or(AppError::NotFound)?;
    let settings = crate::domain::reminders::parse_settings(
        enabled.is_some(),
        &after_days,
        &before_expiry_days,
        &channel,
        &per_minute,
        general.invite_lifetime_days,
    )
    .map_err(|(field, reason)| AppError::invalid(field, reason))?;
    let mut change = AuditedChange::begin(&caller).await?;
    let scheduled = db::reminders::update_settings(&mut change, caller.org_id, &settings).await?;
    let detail = if settings.enabled {
        format!(
            "on: {} day(s) after the invitation, {} day(s) before it expires, by {}, at most {} per minute; {scheduled} pending invitation(s) rescheduled",
            settings.after_days,
            settings.before_expiry_days,
            settings.channel.key(),
            settings.per_minute
        )
    } else {
        "off".to_string()
    };
    change.commit("reminders.updated", &detail).await
}

#[cfg(feature = "ssr")]
fn name_taken(what: &str) -> impl FnOnce(sqlx::Error) -> AppError + '_ {
    move |e| {
        if db::is_unique_violation(&e) {
            AppError::invalid("name", format!("There is already a {what} with that name."))
        } else {
            e.into()
        }
    }
}

#[server(endpoint = "add_service_area")]
pub async fn add_service_area(name: String) -> Result<(), AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let name = rules::name(&name, "service area name").map_err(invalid("name"))?;
    let mut change = AuditedChange::begin(&caller).await?;
    db::service_areas::create(&mut change, caller.org_id, &name).await.map_err(name_taken("service area"))?;
    change.commit("service_area.added", &name).await
}

#[server(endpoint = "rename_service_area")]
pub async fn rename_service_area(id: i64, name: String) -> Result<(), AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let name = rules::name(&name, "service area name").map_err(invalid("name"))?;
    let mut change = AuditedChange::begin(&caller).await?;
    if !db::service_areas::rename(&mut change, caller.org_id, id, &name).await.map_err(name_taken("service area"))? {
        return Err(AppError::NotFound);
    }
    change.commit("service_area.renamed", &format!("#{id} → {name}")).await
}

#[server(endpoint = "delete_service_area")]
pub async fn delete_service_area(id: i64) -> Result<(), AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let mut change = AuditedChange::begin(&caller).await?;
    match db::service_areas::member_count(&mut change, caller.org_id, id).await? {
        None => return Err(AppError::NotFound),
        Some(n) if n > 0 => {
            return Err(AppError::Conflict(format!(
                "This service area still has {n} member(s). Move them to another area first."
            )))
        }
        Some(_) => {}
    }
    if let Some(token) = db::scim_tokens::using(&mut change, caller.org_id, Some(id), None).await?.first() {
        return Err(AppError::Conflict(format!(
            "The provisioning token “{token}” creates people in this service area. Choose another area for it first."
        )));
    }
    db::service_areas::delete(&mut change, caller.org_id, id).await?;
    change.commit("service_area.deleted", &format!("#{id}")).await
}

#[server(endpoint = "add_role")]
pub async fn add_role(name: String) -> Result<(), AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let name = rules::name(&name, "role name").map_err(invalid("name"))?;
    let mut change = AuditedChange::begin(&caller).await?;
    db::roles::create(&mut change, caller.org_id, &name).await.map_err(name_taken("role"))?;
    change.commit("role.added", &name).await
}

/// This organization's role, if the caller may edit it, locked until the change commits. A role
/// holding a permission the caller lacks is out of their reach: stripping it would let them act
/// on its members (OWASP ASVS 4.0 V4.1.3).
#[cfg(feature = "ssr")]
async fn editable_role(change: &mut AuditedChange, caller: &auth::Caller, id: i64) -> Result<types::Role, AppError> {
    let role = db::roles::get_for_update(change, caller.org_id, id).await?.ok_or(AppError::NotFound)?;
    if role.locked {
        return Err(AppError::Conflict("The Owner role always has every permission and cannot be changed.".into()));
    }
    if role.permission_set().iter().any(|p| !caller.permissions.contains(p)) {
        return Err(AppError::Conflict(format!(
            "The {} role has permissions you do not have, so you cannot change it.",
            role.name
        )));
    }
    Ok(role)
}

#[server(endpoint = "rename_role")]
pub async fn rename_role(id: i64, name: String) -> Result<(), AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let name = rules::name(&name, "role name").map_err(invalid("name"))?;
    let mut change = AuditedChange::begin(&caller).await?;
    let role = editable_role(&mut change, &caller, id).await?;
    db::roles::rename(&mut change, caller.org_id, id, &name).await.map_err(name_taken("role"))?;
    change.commit("role.renamed", &format!("{} → {name}", role.name)).await
}

#[server(endpoint = "set_role_permission")]
pub async fn set_role_permission(id: i64, permission: String, granted: bool) -> Result<(), AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let permission =
        Permission::parse(&permission).ok_or_else(|| AppError::invalid("permission", "Unknown permission."))?;
    // Nobody grants what they do not hold, or edits the role they act under (OWASP ASVS 4.0 V4.1.3).
    if granted && !caller.permissions.contains(permission) {
        return Err(AppError::invalid("permission", format!("You cannot grant {permission}: you do not hold it.")));
    }
    let mut change = AuditedChange::begin(&caller).await?;
    let role = editable_role(&mut change, &caller, id).await?;
    if role.id == caller.membership.role_id {
        return Err(AppError::Conflict("You cannot change the permissions of your own role.".into()));
    }
    db::roles::set_permissions(&mut change, caller.org_id, id, role.permission_set().with(permission, granted)).await?;
    let verb = if granted { "granted" } else { "revoked" };
    change.commit("role.permission_changed", &format!("{} {verb} {permission}", role.name)).await
}

#[server(endpoint = "delete_role")]
pub async fn delete_role(id: i64) -> Result<(), AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let mut change = AuditedChange::begin(&caller).await?;
    let role = editable_role(&mut change, &caller, id).await?;
    if role.members > 0 {
        return Err(AppError::Conflict(format!(
            "{} role still has {} member(s). Give them another role first.",
            role.name, role.members
        )));
    }
    if let Some(token) = db::scim_tokens::using(&mut change, caller.org_id, None, Some(id)).await?.first() {
        return Err(AppError::Conflict(format!(
            "The provisioning token “{token}” gives this role to the people it creates. Choose another role for it first."
        )));
    }
    db::roles::delete(&mut change, caller.org_id, id).await?;
    change.commit("role.deleted", &role.name).await
}

/// Publishes a new EULA version; earlier versions stay exactly as people accepted them.
/// `reaccept` is a checkbox: when ticked, every Active member must accept this version before
/// they can reach anything else.
#[server(endpoint = "publish_eula")]
pub async fn publish_eula(body: String, reaccept: Option<String>) -> Result<i64, AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let body = rules::eula_text(&body).map_err(invalid("body"))?;
    let mut change = AuditedChange::begin(&caller).await?;
    let version = db::eula::publish(&mut change, caller.org_id, &body, caller.account_id, reaccept.is_some()).await?;
    let detail = if reaccept.is_some() {
        format!("version {version}; everyone must accept it again")
    } else {
        format!("version {version}")
    };
    change.commit("eula.published", &detail).await?;
    Ok(version)
}
