//! Access management › Users: the organization's members, their status, pause and resume.

use super::types::MemberPage;
use crate::domain::members::MemberFilter;
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

#[cfg(feature = "ssr")]
use super::ssr::*;
#[cfg(feature = "ssr")]
use crate::domain::{MembershipStatus, Permission, PermissionSet};

#[server(input = GetUrl, endpoint = "list_members")]
pub async fn list_members(filter: MemberFilter) -> Result<MemberPage, AppError> {
    let caller = require_any(&[Permission::UsersManage, Permission::UsersInvite]).await?;
    let db = &state().db;
    let (rows, total) = db::memberships::page(db, caller.org_id, &filter).await?;
    Ok(MemberPage {
        rows,
        total,
        areas: db::service_areas::list(db, caller.org_id).await?,
        roles: db::roles::list(db, caller.org_id).await?,
        can_manage: caller.permissions.contains(Permission::UsersManage),
        can_invite: caller.permissions.contains(Permission::UsersInvite),
        my_membership_id: caller.membership.membership_id,
    })
}

#[server(endpoint = "pause_member")]
pub async fn pause_member(id: i64) -> Result<(), AppError> {
    change_status(id, MembershipStatus::Active, MembershipStatus::Inactive, "member.paused").await
}

#[server(endpoint = "resume_member")]
pub async fn resume_member(id: i64) -> Result<(), AppError> {
    change_status(id, MembershipStatus::Inactive, MembershipStatus::Active, "member.resumed").await
}

/// Pausing ends the member's access at their next request: every request checks that the
/// membership is still Active.
#[cfg(feature = "ssr")]
async fn change_status(id: i64, from: MembershipStatus, to: MembershipStatus, action: &str) -> Result<(), AppError> {
    let caller = require(Permission::UsersManage).await?;
    let mut change = AuditedChange::begin(&caller).await?;
    let target =
        db::memberships::target(&mut change, caller.org_id, id).await?.ok_or_else(|| fail(AppError::NotFound))?;
    if target.account_id == caller.account_id {
        return Err(fail(AppError::Conflict("You cannot pause or resume yourself.".into())));
    }
    // Nobody may act on a member who holds a permission they lack (an Admin cannot pause an Owner).
    let theirs = PermissionSet::parse(&target.permissions);
    if theirs.iter().any(|p| !caller.permissions.contains(p)) {
        return Err(fail(AppError::Conflict(format!(
            "{} has permissions you do not have, so you cannot change them.",
            target.email
        ))));
    }
    if !db::memberships::change_status(&mut change, caller.org_id, id, from, to).await? {
        return Err(fail(AppError::Conflict(format!(
            "{} is not {} any more; reload the list.",
            target.email,
            from.label()
        ))));
    }
    change.commit(action, &target.email).await
}
