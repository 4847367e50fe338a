//! Who is calling and what they may do; passwords, one-time tokens and signing in.

use super::db::{self, accounts::ActiveMembership, now_ms};
use super::secret::Secret;
use super::sessions::{ACCOUNT_KEY, ORG_KEY};
use super::AppState;
use crate::domain::{password, EmailAddress, Permission, PermissionSet};
use crate::AppError;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use leptos::prelude::{expect_context, use_context};
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;
use tower_sessions::Session;

/// The signed-in person acting inside one organization.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: i64,
    pub org_id: i64,
    pub permissions: PermissionSet,
    pub membership: ActiveMembership,
}

pub fn state() -> AppState {
    expect_context::<AppState>()
}

/// Sets the HTTP status of the server function's response to match the error.
pub fn fail(error: AppError) -> AppError {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = axum::http::StatusCode::from_u16(error.status()) {
            response.set_status(status);
        }
    }
    error
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session layer on this request");
        AppError::Internal
    })
}

pub async fn client_ip() -> IpAddr {
    leptos_axum::extract::<axum::extract::ConnectInfo<SocketAddr>>()
        .await
        .map(|info| info.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

pub fn session_error(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session store failed");
    match e {
        tower_sessions::session::Error::Store(tower_sessions::session_store::Error::Backend(m))
            if m.starts_with(super::sessions::UNREACHABLE) =>
        {
            fail(AppError::Unavailable)
        }
        _ => AppError::Internal,
    }
}

/// The caller, if signed in with an Active membership in the organization their session names.
pub async fn current() -> Result<Option<Caller>, AppError> {
    caller_of(&state(), &session().await?).await
}

/// Like `current`, for plain axum handlers that have the state and session in hand.
pub async fn caller_of(state: &AppState, session: &Session) -> Result<Option<Caller>, AppError> {
    let account: Option<i64> = session.get(ACCOUNT_KEY).await.map_err(session_error)?;
    let org: Option<i64> = session.get(ORG_KEY).await.map_err(session_error)?;
    let (Some(account_id), Some(org_id)) = (account, org) else {
        return Ok(None);
    };
    match db::accounts::active_membership(&state.db, account_id, org_id).await? {
        Some(membership) => {
            Ok(Some(Caller { account_id, org_id, permissions: membership.permission_set(), membership }))
        }
        None => {
            // Paused, removed, or the organization is gone: the session is over.
            session.flush().await.map_err(session_error)?;
            Ok(None)
        }
    }
}

/// Every server function starts here: the caller must be signed in and hold `permission` in
/// the organization they are acting in. Everything they then touch is scoped to `caller.org_id`.
pub async fn require(permission: Permission) -> Result<Caller, AppError> {
    let caller = signed_in().await?;
    if caller.permissions.contains(permission) {
        Ok(caller)
    } else {
        tracing::info!(account = caller.account_id, org = caller.org_id, %permission, "permission refused");
        Err(fail(AppError::NotAllowed))
    }
}

/// Like `require`, for pages open to holders of any one of several permissions.
pub async fn require_any(permissions: &[Permission]) -> Result<Caller, AppError> {
    let caller = signed_in().await?;
    if permissions.iter().any(|p| caller.permissions.contains(*p)) {
        Ok(caller)
    } else {
        tracing::info!(account = caller.account_id, org = caller.org_id, "permission refused");
        Err(fail(AppError::NotAllowed))
    }
}

/// For the few functions any member may call (their own profile, switching organization).
pub async fn signed_in() -> Result<Caller, AppError> {
    current().await?.ok_or_else(|| fail(AppError::Unauthenticated))
}

fn argon2() -> Argon2<'static> {
    // OWASP's Argon2id minimum: 19 MiB, two passes, one lane.
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19_456, 2, 1, None).expect("valid Argon2 parameters"))
}

/// Hashing takes tens of milliseconds of CPU, so it runs off the async executor.
pub async fn hash_password(password: Secret) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2().hash_password(password.expose().as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .map_err(|_| AppError::Internal)?
    .map_err(|e| {
        tracing::error!(error = %e, "hashing a password failed");
        AppError::Internal
    })
}

/// Verifies against the stored hash, or against a dummy one when there is none, so an unknown
/// address takes as long as a wrong password and timing reveals nothing.
pub async fn verify_password(password: Secret, stored: Option<String>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    tokio::task::spawn_blocking(move || {
        let dummy = DUMMY.get_or_init(|| {
            argon2()
                .hash_password(b"not a real password", &SaltString::generate(&mut OsRng))
                .map(|h| h.to_string())
                .unwrap_or_default()
        });
        let (hash, real) = match &stored {
            Some(h) => (h.as_str(), true),
            None => (dummy.as_str(), false),
        };
        let ok = PasswordHash::new(hash)
            .map(|parsed| argon2().verify_password(password.expose().as_bytes(), &parsed).is_ok())
            .unwrap_or(false);
        ok && real
    })
    .await
    .unwrap_or(false)
}

/// A one-time token for a link: 32 random bytes, base64url. Only its SHA-256 is stored.
pub fn new_token() -> (Secret, String) {
    let bytes: [u8; 32] = rand::random();
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (Secret::new(token), hash)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares secrets in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Starts a signed-in session under a fresh id, so an id planted before sign-in is worthless.
pub async fn establish(session: &Session, account_id: i64, org_id: i64) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_error)?;
    session.insert(ACCOUNT_KEY, account_id).await.map_err(session_error)?;
    session.insert(ORG_KEY, org_id).await.map_err(session_error)?;
    Ok(())
}

const WRONG_CREDENTIALS: &str = "The email address or password is incorrect.";

/// A sign-in that passed the password and waits for its second factor.
#[derive(serde::Serialize, serde::Deserialize)]
struct PendingSignIn {
    account_id: i64,
    org_id: i64,
    email: String,
    /// Set when codes go by text message.
    sms_to: Option<String>,
    /// Set while the code is to come from an authenticator app rather than a message.
    #[serde(default)]
    authenticator: bool,
    at: i64,
}

impl PendingSignIn {
    fn code_to(&self) -> super::registration::CodeTo<'_> {
        match &self.sms_to {
            Some(number) => super::registration::CodeTo::Sms(number),
            None => super::registration::CodeTo::Email(&self.email),
        }
    }
}

const PENDING_KEY: &str = "pending_sign_in";

#[tracing::instrument(skip_all, fields(ip = %ip))]
pub async fn sign_in(
    state: &AppState,
    session: &Session,
    ip: IpAddr,
    email: &str,
    password: Secret,
) -> Result<crate::api::types::SignInOutcome, AppError> {
    let typed = email.trim().to_lowercase();
    if typed.is_empty() {
        return Err(fail(AppError::invalid("email", "Enter your email address.")));
    }
    if password.is_empty() {
        return Err(fail(AppError::invalid("password", "Enter your password.")));
    }
    let security = &state.settings.security;
    let window_start = now_ms() - security.throttle_window_minutes * crate::domain::time::MINUTE_MS;
    let account_subject = format!("account:{typed}");
    let ip_subject = format!("ip:{ip}");
    let too_many = db::sign_in_failures::count_since(&state.db, &account_subject, window_start).await?
        >= security.max_failed_sign_ins_per_account
        || db::sign_in_failures::count_since(&state.db, &ip_subject, window_start).await?
            >= security.max_failed_sign_ins_per_ip;
    if too_many {
        return Err(fail(AppError::TooManyAttempts(format!(
            "Too many failed sign-in attempts. Wait {} minutes and try again.",
            security.throttle_window_minutes
        ))));
    }
    let credentials = match EmailAddress::parse(&typed) {
        Ok(address) => db::accounts::credentials(&state.db, &address).await?,
        Err(_) => None,
    };
    let hash = credentials.as_ref().and_then(|c| c.password_hash.clone());
    if !verify_password(password, hash).await {
        db::sign_in_failures::record(&state.db, &[&account_subject, &ip_subject], now_ms()).await?;
        tracing::info!("sign-in refused: wrong credentials");
        return Err(fail(AppError::invalid("password", WRONG_CREDENTIALS)));
    }
    let credentials = credentials.ok_or(AppError::Internal)?;
    let (account_id, second_factor) = (credentials.id, credentials.second_factor.clone());
    // Codes go by text message to those who chose it, while an SMS provider is configured.
    let sms_to = credentials.mobile.filter(|_| second_factor.as_deref() == Some("sms") && state.sms.is_some());
    let Some(org) = db::organizations::choices_for_account(&state.db, account_id).await?.into_iter().next() else {
        return Err(fail(AppError::NotAllowed));
    };
    db::sign_in_failures::clear(&state.db, &account_subject).await?;
    let requires_code =
        second_factor.is_some() || db::organizations::general(&state.db, org.id).await?.is_some_and(|g| g.require_2fa);
    if requires_code {
        // A fresh id before anything is stored, as at any change of privilege.
        session.cycle_id().await.map_err(session_error)?;
        let authenticator = second_factor.as_deref() == Some("totp") && credentials.totp_secret.is_some();
        let pending =
            PendingSignIn { account_id, org_id: org.id, email: typed.clone(), sms_to, authenticator, at: now_ms() };
        session.insert(PENDING_KEY, &pending).await.map_err(session_error)?;
        if authenticator {
            return Ok(crate::api::types::SignInOutcome::AuthenticatorCode);
        }
        match super::registration::send_code(state, org.id, account_id, pending.code_to(), super::registration::SIGN_IN)
            .await
        {
            // The code sent a moment ago still works: no need for another.
            Err(AppError::TooManyAttempts(m)) if m == super::registration::CODE_JUST_SENT => {}
            other => other?,
        }
        return Ok(crate::api::types::SignInOutcome::CodeSent);
    }
    establish(session, account_id, org.id).await?;
    tracing::info!(account = account_id, org = org.id, "signed in");
    Ok(crate::api::types::SignInOutcome::SignedIn)
}

/// The second step of a sign-in that needs a code: within ten minutes of the password.
pub async fn verify_sign_in_code(state: &AppState, session: &Session, code: &str) -> Result<(), AppError> {
    let pending: Option<PendingSignIn> = session.get(PENDING_KEY).await.map_err(session_error)?;
    let Some(p) = pending.filter(|p| now_ms() - p.at < crate::domain::invites::CODE_LIFETIME_MS) else {
        return Err(fail(AppError::Conflict(
            "Your sign-in has timed out. Enter your email address and password again.".into(),
        )));
    };
    if p.authenticator {
        check_authenticator_code(state, p.account_id, code).await?;
    } else {
        super::registration::check_code(state, p.account_id, super::registration::SIGN_IN, code).await?;
    }
    session.remove::<PendingSignIn>(PENDING_KEY).await.map_err(session_error)?;
    establish(session, p.account_id, p.org_id).await?;
    tracing::info!(account = p.account_id, org = p.org_id, "signed in with a code");
    Ok(())
}

/// Runs a second-factor code check while counting wrong codes from `ip` across all accounts:
/// the per-code and per-account limits stop guessing one person's code, this stops one address
/// trying codes against many sign-ins or registrations.
pub async fn check_code_from<T>(
    state: &AppState,
    ip: IpAddr,
    check: impl std::future::Future<Output = Result<T, AppError>>,
) -> Result<T, AppError> {
    let subject = format!("code-ip:{ip}");
    let security = &state.settings.security;
    let window_start = now_ms() - security.throttle_window_minutes * crate::domain::time::MINUTE_MS;
    if db::sign_in_failures::count_since(&state.db, &subject, window_start).await?
        >= security.max_failed_sign_ins_per_ip
    {
        return Err(fail(AppError::TooManyAttempts(format!(
            "Too many wrong codes from your network. Wait {} minutes and try again.",
            security.throttle_window_minutes
        ))));
    }
    let outcome = check.await;
    if matches!(outcome, Err(AppError::Invalid { .. })) {
        db::sign_in_failures::record(&state.db, &[&subject], now_ms()).await?;
    }
    outcome
}

/// An authenticator code: at most five wrong ones per throttle window, and each works once.
async fn check_authenticator_code(state: &AppState, account_id: i64, code: &str) -> Result<(), AppError> {
    let subject = format!("totp:{account_id}");
    let window_start = now_ms() - state.settings.security.throttle_window_minutes * crate::domain::time::MINUTE_MS;
    if db::sign_in_failures::count_since(&state.db, &subject, window_start).await?
        >= crate::domain::invites::CODE_MAX_ATTEMPTS
    {
        return Err(fail(AppError::TooManyAttempts(
            "Too many wrong codes. Wait a while, or have a code emailed to you instead.".into(),
        )));
    }
    let secret = db::accounts::totp_secret(&state.db, account_id).await?.ok_or(AppError::Internal)?;
    let Some(step) = super::totp::matching_step(&secret, code, now_ms()) else {
        db::sign_in_failures::record(&state.db, &[&subject], now_ms()).await?;
        return Err(fail(AppError::invalid("code", "That is not the code your authenticator app shows now.")));
    };
    if !db::accounts::spend_totp_step(&state.db, account_id, step).await? {
        return Err(fail(AppError::invalid(
            "code",
            "That code was already used. Wait for your app to show the next one.",
        )));
    }
    db::sign_in_failures::clear(&state.db, &subject).await?;
    Ok(())
}

/// Sends another sign-in code, within the resend limits. Someone using an authenticator app
/// who cannot reach it gets the code by email instead.
pub async fn resend_sign_in_code(state: &AppState, session: &Session) -> Result<(), AppError> {
    let pending: Option<PendingSignIn> = session.get(PENDING_KEY).await.map_err(session_error)?;
    let Some(mut p) = pending else {
        return Err(fail(AppError::Conflict("Enter your email address and password first.".into())));
    };
    if p.authenticator {
        p.authenticator = false;
        session.insert(PENDING_KEY, &p).await.map_err(session_error)?;
    }
    super::registration::send_code(state, p.org_id, p.account_id, p.code_to(), super::registration::SIGN_IN).await
}

/// Sets a password through a one-time link and signs the person in.
pub async fn set_password_with_link(
    state: &AppState,
    session: &Session,
    token: &str,
    new_password: Secret,
) -> Result<(), AppError> {
    password::check(new_password.expose()).map_err(|reason| fail(AppError::invalid("password", reason)))?;
    let hash = hash_password(new_password).await?;
    let mut tx = state.db.begin().await?;
    let Some(account_id) = db::password_links::redeem(&mut tx, &token_hash(token)).await? else {
        return Err(fail(AppError::Conflict(
            "This link has expired or was already used. Ask an owner of your organization for a new one.".into(),
        )));
    };
    db::accounts::set_password_hash(&mut tx, account_id, &hash).await?;
    tx.commit().await?;
    // A new password ends every other session of the account.
    db::sessions::delete_for_account(&state.db, account_id).await?;
    let org = db::organizations::choices_for_account(&state.db, account_id).await?.into_iter().next();
    if let Some(org) = org {
        establish(session, account_id, org.id).await?;
    }
    Ok(())
}

/// Issues a one-time link for an account to set its password, valid for `hours`.
pub async fn issue_password_link(state: &AppState, account_id: i64, hours: i64) -> Result<String, AppError> {
    let (token, hash) = new_token();
    db::password_links::create(&state.db, account_id, &hash, now_ms() + hours * 3_600_000).await?;
    Ok(format!("{}/set-password/{}", state.settings.public_base(), token.expose()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_only_their_hash_is_kept() {
        let (a, hash_a) = new_token();
        let (b, _) = new_token();
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.expose().len(), 43);
        assert_eq!(hash_a, token_hash(a.expose()));
        assert_ne!(hash_a, a.expose());
    }
}
