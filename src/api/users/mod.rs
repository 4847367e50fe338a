//! Access management › Users: the organization's members, their status, pause and resume.

pub mod types;

use crate::domain::members::MemberFilter;
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use types::{MemberPage, RemindPlan, RemindProgress};

#[cfg(feature = "ssr")]
use super::ssr::*;
#[cfg(feature = "ssr")]
use crate::domain::{events::EventType, MembershipStatus, Permission};
#[cfg(feature = "ssr")]
use crate::server::events;

#[server(input = GetUrl, endpoint = "list_members")]
pub async fn list_members(#[server(default)] filter: MemberFilter) -> Result<MemberPage, AppError> {
    let caller = require_any(&[Permission::UsersManage, Permission::UsersInvite]).await?;
    let db = &state().db;
    let listed = db::member_list::page(db, caller.org_id, &filter.normalized()).await?;
    let now = db::now_ms();
    Ok(MemberPage {
        rows: listed.rows.into_iter().map(|row| row.with_invitation_as_of(now)).collect(),
        total: listed.total,
        has_previous: listed.has_previous,
        has_next: listed.has_next,
        areas: db::service_areas::list(db, caller.org_id).await?,
        roles: db::roles::list(db, caller.org_id).await?,
        can_manage: caller.permissions.contains(Permission::UsersManage),
        can_invite: caller.permissions.contains(Permission::UsersInvite),
        my_membership_id: caller.membership.membership_id,
    })
}

/// What "Remind all pending" would do for the filter; nothing is sent.
#[server(input = GetUrl, endpoint = "plan_remind_all")]
pub async fn plan_remind_all(#[server(default)] filter: MemberFilter) -> Result<RemindPlan, AppError> {
    let caller = require(Permission::UsersManage).await?;
    crate::server::reminders::plan_run(&state(), &caller, &filter.normalized()).await
}

/// Sends one reminder, with a fresh link, to every Pending member the filter matches; returns
/// the run's id for [`remind_all_progress`].
#[server(endpoint = "remind_all")]
pub async fn remind_all(#[server(default)] filter: MemberFilter) -> Result<i64, AppError> {
    let caller = require(Permission::UsersManage).await?;
    crate::server::reminders::start_run(&state(), &caller, &filter.normalized()).await
}

#[server(input = GetUrl, endpoint = "remind_all_progress")]
pub async fn remind_all_progress(id: i64) -> Result<RemindProgress, AppError> {
    let caller = require(Permission::UsersManage).await?;
    crate::server::reminders::run_progress(&state(), &caller, id).await
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
    let target = db::memberships::target(&mut change, caller.org_id, id).await?.ok_or(AppError::NotFound)?;
    if target.account_id == caller.account_id {
        return Err(AppError::Conflict("You cannot pause or resume yourself.".into()));
    }
    auth::ensure_outranks(&caller, &target.email, &target.permissions)?;
    if to != MembershipStatus::Active && db::memberships::is_last_active_owner(&mut change, caller.org_id, id).await? {
        return Err(AppError::Conflict(format!(
            "{} is the last active Owner of this organization, so they cannot be paused.",
            target.email
        )));
    }
    if !db::memberships::change_status(&mut change, caller.org_id, id, from, to).await? {
        return Err(AppError::Conflict(format!("{} is not {} any more; reload the list.", target.email, from.label())));
    }
    let event = if to == MembershipStatus::Active { EventType::MemberResumed } else { EventType::MemberPaused };
    events::emit(&mut change, &state().db.key, caller.org_id, event, events::About::Member(id)).await?;
    change.commit(action, &target.email).await
}

/// The recovery for a member who lost their authenticator app: their second factor is cleared
/// (their next sign-in asks for an emailed code where one is due, and they may set up an app
/// again) and every session of theirs ends. Only for an account that belongs to no other
/// organization: its second factor protects those too.
#[server(endpoint = "reset_second_factor")]
pub async fn reset_second_factor(id: i64) -> Result<(), AppError> {
    let caller = require(Permission::UsersManage).await?;
    let mut change = AuditedChange::begin(&caller).await?;
    let target = db::memberships::target(&mut change, caller.org_id, id).await?.ok_or(AppError::NotFound)?;
    if target.account_id == caller.account_id {
        return Err(AppError::Conflict("You cannot reset your own second factor.".into()));
    }
    auth::ensure_outranks(&caller, &target.email, &target.permissions)?;
    if db::memberships::count_elsewhere(&mut change, target.account_id, caller.org_id).await? > 0 {
        return Err(AppError::Conflict(format!(
            "{} also belongs to another organization, which their second factor protects too, so it cannot be reset from here.",
            target.email
        )));
    }
    db::accounts::reset_second_factor(&mut change, target.account_id).await?;
    change.commit("member.second_factor_reset", &target.email).await?;
    db::sessions::delete_for_account(&state().db, target.account_id).await?;
    Ok(())
}
