//! Self-registration from an invitation link. Anyone holding the link may call these: the
//! token is the credential, and each function checks it.

pub mod types;

use super::account::types::SignInOutcome;
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use types::{RegistrationInfo, RegistrationStep, SecondFactorSetup};

#[cfg(feature = "ssr")]
use super::ssr::*;
#[cfg(feature = "ssr")]
use crate::server::registration;

/// Where the person is in registering. Opening the link spends nothing (mail scanners open
/// links); the onboarding funnel counts the open.
#[server(input = GetUrl, endpoint = "registration")]
pub async fn registration(token: String) -> Result<RegistrationInfo, AppError> {
    registration::info(&state(), &auth::session().await?, &token, auth::head_request()).await
}

#[server(endpoint = "register_details")]
pub async fn register_details(
    token: String,
    first_name: String,
    last_name: String,
    mobile: String,
    password: String,
    country: Option<String>,
) -> Result<RegistrationStep, AppError> {
    let country = country.unwrap_or_default();
    let details = registration::Details { first_name, last_name, mobile, country, password: Secret::new(password) };
    registration::save_details(&state(), &auth::session().await?, &token, details).await
}

/// `factor` is "email", "sms" or "totp" (an authenticator app).
#[server(endpoint = "send_registration_code")]
pub async fn send_registration_code(token: String, factor: String) -> Result<SecondFactorSetup, AppError> {
    registration::send_registration_code(&state(), &auth::session().await?, &token, &factor).await
}

#[server(endpoint = "verify_registration_code")]
pub async fn verify_registration_code(token: String, code: String) -> Result<RegistrationStep, AppError> {
    let (state, session) = (state(), auth::session().await?);
    let check = registration::verify_registration_code(&state, &session, &token, &code);
    sign_in::check_code_from(&state, auth::client_ip().await, check).await
}

/// `accept` is the agreement's checkbox: present when ticked.
#[server(endpoint = "complete_registration")]
pub async fn complete_registration(token: String, eula: Option<i64>, accept: Option<String>) -> Result<(), AppError> {
    let acceptance = acceptance(eula, accept).await;
    registration::complete(&state(), &auth::session().await?, &token, &acceptance).await
}

/// Joins the inviting organization with an existing account: the caller must be signed in as
/// the invited address. The outcome says whether a second factor is due before entering it.
#[server(endpoint = "join_organization")]
pub async fn join_organization(
    token: String,
    eula: Option<i64>,
    accept: Option<String>,
) -> Result<SignInOutcome, AppError> {
    let acceptance = acceptance(eula, accept).await;
    registration::join(&state(), &auth::session().await?, &token, &acceptance).await
}

/// What accepting the agreement records: the version read, the ticked box, and the client's
/// address and User-Agent (at most 400 characters).
#[cfg(feature = "ssr")]
async fn acceptance(eula: Option<i64>, accept: Option<String>) -> registration::Acceptance {
    let ip = auth::client_ip().await.to_string();
    registration::Acceptance { eula_version_id: eula, accepted: accept.is_some(), ip, user_agent: auth::user_agent() }
}
