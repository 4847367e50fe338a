//! The organization's agreement after registration: a member accepting a version everyone must
//! accept again, and the evidence of who accepted which version.

pub mod types;

use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, StreamingText, TextStream};
use types::MemberAgreement;

#[cfg(feature = "ssr")]
use super::ssr::*;

/// The agreement in force for the signed-in member, and whether it awaits their acceptance.
#[server(input = GetUrl, endpoint = "my_agreement")]
pub async fn my_agreement() -> Result<MemberAgreement, AppError> {
    let caller = auth::signed_in_before_agreement().await?;
    let db = &state().db;
    let current = db::eula::current(db, caller.org_id).await?;
    let accepted_at = match &current {
        Some(v) => db::eula::accepted_at(db, caller.org_id, caller.account_id, v.version).await?,
        None => None,
    };
    Ok(MemberAgreement {
        org_name: caller.membership.org_name,
        current,
        accepted_at,
        pending: caller.membership.agreement_pending,
    })
}

/// Accepts version `eula` (an `eula_versions` id) when `accept` (the checkbox) is ticked,
/// recording the client's address and User-Agent. Only the current version can be accepted: one
/// published while the member was reading is refused with a conflict, so they read that one.
/// Accepting twice records once. A form posted without JavaScript then goes on to `next`, a
/// path on this site.
#[server(endpoint = "accept_agreement")]
pub async fn accept_agreement(eula: i64, accept: Option<String>, next: Option<String>) -> Result<(), AppError> {
    let caller = auth::signed_in_before_agreement().await?;
    if accept.is_none() {
        return Err(AppError::invalid("accept", "You need to accept the agreement to continue."));
    }
    let db = &state().db;
    let (ip, user_agent) = (auth::client_ip().await.to_string(), auth::user_agent());
    if !db::eula::accept_current(db, caller.org_id, caller.account_id, eula, &ip, &user_agent).await? {
        match db::eula::current(db, caller.org_id).await? {
            Some(v)
                if v.id == eula
                    && db::eula::accepted_at(db, caller.org_id, caller.account_id, v.version).await?.is_some() => {}
            Some(_) => {
                return Err(AppError::Conflict(
                    "This is not the current version of the agreement: a newer one may just have been published. Reload the page, read it and accept that one.".into(),
                ))
            }
            None => return Err(AppError::NotFound),
        }
    }
    tracing::info!(account = caller.account_id, org = caller.org_id, eula, "agreement accepted");
    redirect_plain_form(&crate::domain::query::safe_next(next));
    Ok(())
}

/// Every acceptance of the organization's agreement as CSV: account, email, version,
/// accepted_at (RFC 3339), ip_address, user_agent. Streamed, for organizations of any size.
#[server(input = GetUrl, output = StreamingText, endpoint = "export_agreement_evidence")]
pub async fn export_agreement_evidence() -> Result<TextStream<AppError>, AppError> {
    let caller = require(crate::domain::Permission::OrgSettings).await?;
    crate::server::exports::attachment("agreement-evidence.csv");
    Ok(TextStream::new(crate::server::exports::agreement_evidence(state().db.clone(), caller.org_id)))
}
