//! Access management › Users › Invite users, and the invitation actions on the Users list.

pub mod types;

use crate::domain::invites::PasteCheck;
#[cfg(feature = "ssr")]
use crate::domain::invites::SHOWN_ENTRIES;
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, StreamingText, TextStream};
use types::{BatchProgress, InviteFormData, SheetPage};

#[cfg(feature = "ssr")]
use super::ssr::*;
#[cfg(feature = "ssr")]
use crate::domain::Permission;
#[cfg(feature = "ssr")]
use crate::server::invitations;

#[server(input = GetUrl, endpoint = "invite_form")]
pub async fn invite_form() -> Result<InviteFormData, AppError> {
    let caller = require(Permission::UsersInvite).await?;
    let db = &state().db;
    let roles = db::roles::list(db, caller.org_id).await?;
    Ok(InviteFormData {
        areas: db::service_areas::list(db, caller.org_id).await?,
        roles: roles.into_iter().filter(|r| invitations::may_grant(&caller.permissions, &r.permission_set())).collect(),
        lifetime_days: db::organizations::general(db, caller.org_id)
            .await?
            .map(|g| g.invite_lifetime_days)
            .unwrap_or(7),
    })
}

/// Classifies a paste against the organization, for the page to show before sending.
/// Reads only; it is a POST because a paste can be large.
#[server(endpoint = "check_invites")]
pub async fn check_invites(emails: String) -> Result<PasteCheck, AppError> {
    let caller = require(Permission::UsersInvite).await?;
    Ok(PasteCheck::of(&invitations::classify(&state(), caller.org_id, &emails).await?.0))
}

#[server(endpoint = "send_invites")]
pub async fn send_invites(emails: String, area: i64, role: i64) -> Result<i64, AppError> {
    let caller = require(Permission::UsersInvite).await?;
    crate::server::invite_batches::send_batch(&state(), &caller, &emails, area, role).await
}

#[server(input = GetUrl, endpoint = "invite_batch")]
pub async fn invite_batch(id: i64) -> Result<BatchProgress, AppError> {
    let caller = require(Permission::UsersInvite).await?;
    let db = &state().db;
    let batch = db::invite_batches::batch(db, caller.org_id, id).await?.ok_or(AppError::NotFound)?;
    let (mut sent, mut failed, mut remaining, mut preparing, mut unstored) = (0, 0, 0, 0, 0);
    for (status, n) in db::invite_batches::batch_delivery(db, id).await? {
        match status.as_str() {
            "done" => sent += n,
            "failed" => failed += n,
            "preparing" => preparing += n,
            "unstored" => unstored += n,
            _ => remaining += n,
        }
    }
    let not_invited = db::invite_batches::NotInvited::read(&batch.not_invited);
    Ok(BatchProgress {
        area: batch.area,
        role: batch.role,
        created_at: batch.created_at,
        sent,
        failed,
        remaining,
        preparing,
        unstored,
        not_invited: not_invited.shown,
        not_invited_total: not_invited.total,
        failures: db::invite_batches::batch_failures(db, id, SHOWN_ENTRIES).await?,
        sheet: db::sheet_imports::of_batch(db, caller.org_id, id).await?.map(|s| s.id),
    })
}

/// Reads a spreadsheet and checks every row, storing nothing but the check (a dry run kept a
/// day). `uploaded` is a chosen file's text and `file_name` its name; otherwise `pasted` holds
/// cells copied from a spreadsheet. `area` and `role` stand for empty cells. Returns the check's
/// id, for [`sheet_import`] to page through.
#[server(endpoint = "check_sheet")]
pub async fn check_sheet(
    #[server(default)] pasted: String,
    #[server(default)] uploaded: String,
    #[server(default)] file_name: String,
    area: i64,
    role: i64,
) -> Result<i64, AppError> {
    let caller = require(Permission::UsersInvite).await?;
    let (text, file_name) =
        if uploaded.is_empty() { (pasted.as_str(), "") } else { (uploaded.as_str(), file_name.as_str()) };
    let upload = crate::server::sheet_imports::SheetUpload { text, file_name, area_id: area, role_id: role };
    let id = crate::server::sheet_imports::check(&state(), &caller, upload).await?;
    redirect_plain_form(&format!("/users/import/{id}"));
    Ok(id)
}

/// A page of a checked or sent sheet's rows; `class` (a `RowClass` name) keeps one class.
#[server(input = GetUrl, endpoint = "sheet_import")]
pub async fn sheet_import(
    id: i64,
    #[server(default)] class: String,
    #[server(default)] page: i64,
) -> Result<SheetPage, AppError> {
    let caller = require(Permission::UsersInvite).await?;
    let class = crate::domain::import::RowClass::parse(&class);
    crate::server::sheet_imports::page(&state(), &caller, id, class, page).await
}

/// Sends a checked sheet's New rows as one batch, after checking them again; returns the batch.
#[server(endpoint = "send_sheet")]
pub async fn send_sheet(id: i64) -> Result<i64, AppError> {
    let caller = require(Permission::UsersInvite).await?;
    let batch = crate::server::sheet_imports::send(&state(), &caller, id).await?;
    redirect_plain_form(&format!("/users/invite/{batch}"));
    Ok(batch)
}

/// Every row of a sent sheet with what became of it, as a CSV download (see
/// `server::sheet_imports::results_csv` for the columns).
#[server(input = GetUrl, output = StreamingText, endpoint = "export_sheet_results")]
pub async fn export_sheet_results(id: i64) -> Result<TextStream<AppError>, AppError> {
    let caller = require(Permission::UsersInvite).await?;
    let state = state();
    let sheet = crate::server::sheet_imports::summary(&state, &caller, id).await?;
    if sheet.batch.is_none() {
        return Err(AppError::NotFound);
    }
    crate::server::exports::attachment(&format!("import-results-{id}.csv"));
    Ok(TextStream::new(crate::server::sheet_imports::results_csv(state, caller.org_id, sheet)))
}

/// Sends a failed invitation again, to the address as corrected (or as it was, once the mail
/// server can take it), in the same batch, service area and role.
#[server(endpoint = "fix_invitation")]
pub async fn fix_invitation(invitation: i64, email: String) -> Result<(), AppError> {
    let caller = require(Permission::UsersInvite).await?;
    invitations::fix_failed(&state(), &caller, invitation, &email).await
}

#[server(endpoint = "resend_invitation")]
pub async fn resend_invitation(id: i64) -> Result<(), AppError> {
    let caller = require(Permission::UsersManage).await?;
    invitations::resend(&state(), &caller, id).await
}

#[server(endpoint = "revoke_invitation")]
pub async fn revoke_invitation(id: i64) -> Result<(), AppError> {
    let caller = require(Permission::UsersManage).await?;
    invitations::revoke(&state(), &caller, id).await
}
