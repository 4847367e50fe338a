//! Signing in and out, choosing the organization to act in, setting a password from a link.

pub mod types;

use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use types::{Me, PasswordLinkInfo, SignInOutcome};

#[cfg(feature = "ssr")]
use super::ssr::*;

#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<SignInOutcome, AppError> {
    let (state, session) = (state(), auth::session().await?);
    let outcome = sign_in::sign_in(&state, &session, auth::client_ip().await, &email, Secret::new(password)).await?;
    if outcome == SignInOutcome::SignedIn {
        redirect_plain_form("/");
    }
    Ok(outcome)
}

/// The code emailed at sign-in, when the organization requires a second factor.
#[server(endpoint = "verify_sign_in_code")]
pub async fn verify_sign_in_code(code: String) -> Result<(), AppError> {
    let (state, session) = (state(), auth::session().await?);
    sign_in::check_code_from(&state, auth::client_ip().await, sign_in::verify_sign_in_code(&state, &session, &code))
        .await?;
    redirect_plain_form("/");
    Ok(())
}

#[server(endpoint = "resend_sign_in_code")]
pub async fn resend_sign_in_code() -> Result<(), AppError> {
    let (state, session) = (state(), auth::session().await?);
    sign_in::resend_sign_in_code(&state, &session).await
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    auth::session().await?.flush().await.map_err(|_| AppError::Internal)?;
    redirect_plain_form("/sign-in");
    Ok(())
}

/// The signed-in person, or `None`; never an error for being signed out.
#[server(input = GetUrl, endpoint = "whoami")]
pub async fn whoami() -> Result<Option<Me>, AppError> {
    let Some(caller) = auth::current().await? else {
        return Ok(None);
    };
    let orgs = db::organizations::choices_for_account(&state().db, caller.account_id).await?;
    let picture = db::identities::picture(&state().db, caller.membership.membership_id).await?;
    let m = caller.membership;
    let display_name = format!("{} {}", m.first_name, m.last_name).trim().to_string();
    Ok(Some(Me {
        account_id: caller.account_id,
        display_name: if display_name.is_empty() { m.email.clone() } else { display_name },
        email: m.email,
        org_id: caller.org_id,
        org_name: m.org_name,
        role_name: m.role_name,
        permissions: caller.permissions,
        orgs,
        picture,
        agreement_pending: m.agreement_pending,
    }))
}

/// Acts in another organization the caller is an Active member of. One that requires 2FA asks
/// for a second factor first when this session has not passed one (the outcome says which).
#[server(endpoint = "switch_organization")]
pub async fn switch_organization(org_id: i64) -> Result<SignInOutcome, AppError> {
    // Someone yet to accept this organization's new agreement may still leave for another.
    let (caller, state) = (auth::signed_in_before_agreement().await?, state());
    if db::accounts::active_membership(&state.db, caller.account_id, org_id).await?.is_none() {
        return Err(AppError::NotFound);
    }
    let outcome =
        sign_in::enter(&state, &auth::session().await?, caller.account_id, org_id, sign_in::Entry::SignedIn).await?;
    redirect_plain_form(if outcome == SignInOutcome::SignedIn { "/" } else { "/verify" });
    Ok(outcome)
}

/// What a set-password link is for. Only looks: opening the page must not spend the link.
#[server(input = GetUrl, endpoint = "password_link")]
pub async fn password_link(token: String) -> Result<PasswordLinkInfo, AppError> {
    let link = db::password_links::peek(&state().db, &crate::server::secret::token_hash(&token)).await?;
    match link {
        None => Err(AppError::NotFound),
        Some(l) if l.used_at.is_some() => Err(AppError::Conflict(
            "This link was already used. Sign in with your password, or ask an owner for a new link.".into(),
        )),
        Some(l) if l.expires_at <= db::now_ms() => {
            Err(AppError::Conflict("This link has expired. Ask an owner of your organization for a new one.".into()))
        }
        Some(l) => Ok(PasswordLinkInfo { email: l.email }),
    }
}

#[server(endpoint = "set_password")]
pub async fn set_password(token: String, password: String, confirm: String) -> Result<SignInOutcome, AppError> {
    if password != confirm {
        return Err(AppError::invalid("confirm", "The two passwords do not match."));
    }
    let (state, session) = (state(), auth::session().await?);
    let outcome = sign_in::set_password_with_link(&state, &session, &token, Secret::new(password)).await?;
    redirect_plain_form(if outcome == SignInOutcome::SignedIn { "/" } else { "/verify" });
    Ok(outcome)
}
