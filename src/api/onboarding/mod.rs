//! Tools › Onboarding: team progress, teams and their members, and messaging people who have
//! not onboarded yet.

pub mod types;

use crate::domain::funnel::Funnel;
use crate::domain::onboarding::TeamFilter;
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, StreamingText, TextStream};
use types::{MessagePlan, OnboardingOverview, SendProgress, TeamMembersPage};

#[cfg(feature = "ssr")]
use super::ssr::*;
#[cfg(feature = "ssr")]
use crate::domain::{funnel::FunnelScope, settings as rules, Permission};
#[cfg(feature = "ssr")]
use crate::server::onboarding;

#[server(input = GetUrl, endpoint = "load_onboarding")]
pub async fn load_onboarding(#[server(default)] teams: TeamFilter) -> Result<OnboardingOverview, AppError> {
    let caller = require(Permission::OnboardingView).await?;
    let db = &state().db;
    let teams = teams.normalized();
    let (page, teams_total) = db::teams::summaries(db, caller.org_id, &teams).await?;
    Ok(OnboardingOverview {
        teams: page,
        teams_total,
        teams_filter: teams,
        overall: db::teams::overall(db, caller.org_id).await?,
        can_message: caller.permissions.contains(Permission::OnboardingMessage),
        can_edit_teams: caller.permissions.contains(Permission::UsersManage),
    })
}

/// The onboarding funnel of `scope` (a `FunnelScope` key: `organization`, `batch:<id>`,
/// `area:<id>` or `team:<id>`; anything else is the organization). A batch, area or team of
/// another organization is not found.
#[server(input = GetUrl, endpoint = "onboarding_funnel")]
pub async fn onboarding_funnel(#[server(default)] scope: String) -> Result<Funnel, AppError> {
    let caller = require(Permission::OnboardingView).await?;
    crate::server::funnel::load(&state().db, caller.org_id, FunnelScope::parse(&scope)).await
}

/// [`onboarding_funnel`] as a CSV download (see `server::funnel::csv` for the columns).
#[server(input = GetUrl, output = StreamingText, endpoint = "export_funnel")]
pub async fn export_funnel(#[server(default)] scope: String) -> Result<TextStream<AppError>, AppError> {
    let caller = require(Permission::OnboardingView).await?;
    let scope = FunnelScope::parse(&scope);
    let funnel = crate::server::funnel::counted(&state().db, caller.org_id, scope).await?;
    crate::server::exports::attachment(&scope.file_name());
    Ok(TextStream::new(futures::stream::once(async move { Ok(crate::server::funnel::csv(&funnel)) })))
}

#[server(input = GetUrl, endpoint = "team_members")]
pub async fn team_members(team: i64, page: i64) -> Result<TeamMembersPage, AppError> {
    let caller = require(Permission::OnboardingView).await?;
    let db = &state().db;
    let summary = db::teams::summary(db, caller.org_id, team).await?.ok_or(AppError::NotFound)?;
    let page = page.max(1);
    Ok(TeamMembersPage {
        rows: db::teams::members(db, caller.org_id, team, page).await?,
        total: summary.members,
        team: summary,
        page,
        can_message: caller.permissions.contains(Permission::OnboardingMessage),
        can_edit_teams: caller.permissions.contains(Permission::UsersManage),
    })
}

#[cfg(feature = "ssr")]
fn team_name(raw: &str) -> Result<String, AppError> {
    rules::name(raw, "team name").map_err(|r| AppError::invalid("name", r))
}

#[cfg(feature = "ssr")]
fn name_taken(e: sqlx::Error) -> AppError {
    if db::is_unique_violation(&e) {
        AppError::invalid("name", "There is already a team with that name.")
    } else {
        e.into()
    }
}

#[server(endpoint = "create_team")]
pub async fn create_team(name: String) -> Result<i64, AppError> {
    let caller = require(Permission::UsersManage).await?;
    let name = team_name(&name)?;
    let mut change = AuditedChange::begin(&caller).await?;
    let id = db::teams::create(&mut change, caller.org_id, &name).await.map_err(name_taken)?;
    change.commit("team.created", &name).await?;
    Ok(id)
}

#[server(endpoint = "rename_team")]
pub async fn rename_team(id: i64, name: String) -> Result<(), AppError> {
    let caller = require(Permission::UsersManage).await?;
    let name = team_name(&name)?;
    let mut change = AuditedChange::begin(&caller).await?;
    let old = db::teams::name(&mut change, caller.org_id, id).await?.ok_or(AppError::NotFound)?;
    db::teams::rename(&mut change, caller.org_id, id, &name).await.map_err(name_taken)?;
    change.commit("team.renamed", &format!("{old} → {name}")).await
}

#[server(endpoint = "delete_team")]
pub async fn delete_team(id: i64) -> Result<(), AppError> {
    let caller = require(Permission::UsersManage).await?;
    let mut change = AuditedChange::begin(&caller).await?;
    let name = db::teams::name(&mut change, caller.org_id, id).await?.ok_or(AppError::NotFound)?;
    db::teams::delete(&mut change, caller.org_id, id).await?;
    change.commit("team.deleted", &name).await
}

/// Adds the organization's members with the pasted addresses (any form the invite box takes).
/// Returns how many joined and the addresses that are not members of the organization.
#[server(endpoint = "add_team_members")]
pub async fn add_team_members(team: i64, emails: String) -> Result<(u64, Vec<String>), AppError> {
    let caller = require(Permission::UsersManage).await?;
    let report = crate::domain::email_list::parse_paste(&emails);
    let addresses: Vec<&str> = report.valid().map(|(a, _)| a.as_str()).collect();
    if addresses.is_empty() {
        return Err(AppError::invalid("emails", "Enter the email address of at least one member."));
    }
    let found = db::memberships::by_email(&state().db, caller.org_id, &addresses).await?;
    let unknown: Vec<String> = addresses.iter().filter(|a| !found.contains_key(**a)).map(|a| a.to_string()).collect();
    let mut change = AuditedChange::begin(&caller).await?;
    let name = db::teams::name(&mut change, caller.org_id, team).await?.ok_or(AppError::NotFound)?;
    if found.is_empty() {
        return Err(AppError::invalid(
            "emails",
            "None of these addresses belongs to a member of the organization. Invite them first.",
        ));
    }
    let ids: Vec<i64> = found.values().map(|(id, _)| *id).collect();
    let added = db::teams::add_members(&mut change, team, &ids).await?;
    change.commit("team.members_added", &format!("{name}: {added} added")).await?;
    Ok((added, unknown))
}

#[server(endpoint = "remove_team_member")]
pub async fn remove_team_member(team: i64, member: i64) -> Result<(), AppError> {
    let caller = require(Permission::UsersManage).await?;
    let mut change = AuditedChange::begin(&caller).await?;
    let name = db::teams::name(&mut change, caller.org_id, team).await?.ok_or(AppError::NotFound)?;
    if !db::teams::remove_member(&mut change, team, member).await? {
        return Err(AppError::NotFound);
    }
    change.commit("team.member_removed", &format!("{name}: member #{member}")).await
}

/// Whom "Message user" (`member`) or "Message team" (`team`) reaches, and over which channel.
#[server(input = GetUrl, endpoint = "plan_message")]
pub async fn plan_message(team: Option<i64>, member: Option<i64>) -> Result<MessagePlan, AppError> {
    let caller = require(Permission::OnboardingMessage).await?;
    onboarding::plan(&state(), &caller, team, member).await
}

#[server(endpoint = "send_onboarding_message")]
pub async fn send_onboarding_message(team: Option<i64>, member: Option<i64>, custom: String) -> Result<i64, AppError> {
    let caller = require(Permission::OnboardingMessage).await?;
    onboarding::send(&state(), &caller, team, member, &custom).await
}

/// Each recipient of a send and what became of their message.
#[server(input = GetUrl, endpoint = "onboarding_send")]
pub async fn onboarding_send(id: i64) -> Result<SendProgress, AppError> {
    let caller = require(Permission::OnboardingMessage).await?;
    let recipients = db::onboarding_messages::outcomes(&state().db, caller.org_id, id).await?;
    if recipients.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(SendProgress { id, recipients })
}
