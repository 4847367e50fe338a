//! Signing in: passwords (Argon2id), the second factor a session passed, entering an
//! organization, and the links that set a password.

use super::auth::{network_of, session_error};
use super::db::{self, limits, now_ms};
use super::secret::{new_token, token_hash, Secret};
use super::sessions::{ACCOUNT_KEY, FACTOR_KEY, ORG_KEY};
use super::AppState;
use crate::api::account::types::SignInOutcome;
use crate::domain::second_factor::SecondFactor;
use crate::domain::{password, EmailAddress};
use crate::AppError;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::net::IpAddr;
use std::sync::OnceLock;
use tower_sessions::Session;

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

/// The second factor a session passed, and when (milliseconds since the epoch). Entering an
/// organization that requires 2FA asks for one only when the session holds none (OWASP ASVS 4.0
/// V2.8 and V3.7: re-authentication before a change of privilege).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PassedFactor {
    pub kind: SecondFactor,
    pub at: i64,
}

impl PassedFactor {
    pub fn now(kind: SecondFactor) -> Self {
        Self { kind, at: now_ms() }
    }
}

/// The factor this session passed, if it is signed in as `account_id`.
async fn passed_factor(session: &Session, account_id: i64) -> Result<Option<PassedFactor>, AppError> {
    let signed_in_as: Option<i64> = session.get(ACCOUNT_KEY).await.map_err(session_error)?;
    if signed_in_as != Some(account_id) {
        return Ok(None);
    }
    session.get(FACTOR_KEY).await.map_err(session_error)
}

/// Starts a signed-in session under a fresh id, so an id planted before sign-in is worthless.
/// A factor passed by another account in this browser is forgotten; `factor` is recorded.
pub async fn establish(
    session: &Session,
    account_id: i64,
    org_id: i64,
    factor: Option<PassedFactor>,
) -> Result<(), AppError> {
    let previous: Option<i64> = session.get(ACCOUNT_KEY).await.map_err(session_error)?;
    session.cycle_id().await.map_err(session_error)?;
    if previous != Some(account_id) {
        session.remove::<PassedFactor>(FACTOR_KEY).await.map_err(session_error)?;
    }
    if let Some(factor) = factor {
        session.insert(FACTOR_KEY, factor).await.map_err(session_error)?;
    }
    session.insert(ACCOUNT_KEY, account_id).await.map_err(session_error)?;
    session.insert(ORG_KEY, org_id).await.map_err(session_error)?;
    Ok(())
}

/// How a person is let into an organization.
#[derive(Clone, Copy, PartialEq)]
pub enum Entry {
    /// Right after the password: the account's own second factor is asked whenever it has one.
    SignIn,
    /// Switching organization or joining one while signed in: a factor is asked only when the
    /// organization requires 2FA and this session has not passed one.
    SignedIn,
}

/// Lets `account_id` into `org_id`, or, when a second factor is due first, sends the code (or
/// waits for the authenticator app's) and keeps the entry pending until `verify_sign_in_code`.
pub async fn enter(
    state: &AppState,
    session: &Session,
    account_id: i64,
    org_id: i64,
    entry: Entry,
) -> Result<SignInOutcome, AppError> {
    let account = db::accounts::factor_of(&state.db, account_id).await?.ok_or(AppError::Internal)?;
    let org_requires = db::organizations::general(&state.db, org_id).await?.is_some_and(|g| g.require_2fa);
    let needs_code = match entry {
        Entry::SignIn => account.second_factor.is_some() || org_requires,
        Entry::SignedIn => org_requires && passed_factor(session, account_id).await?.is_none(),
    };
    if !needs_code {
        establish(session, account_id, org_id, None).await?;
        tracing::info!(account = account_id, org = org_id, "entered the organization");
        return Ok(SignInOutcome::SignedIn);
    }
    // Codes go by text message to those who chose it, while an SMS provider is configured.
    let sms_to =
        account.mobile.clone().filter(|_| account.second_factor == Some(SecondFactor::Sms) && state.sms.is_some());
    let authenticator = account.second_factor == Some(SecondFactor::Totp) && account.has_totp;
    // A fresh id before anything is stored, as at any change of privilege.
    session.cycle_id().await.map_err(session_error)?;
    let pending = PendingSignIn { account_id, org_id, email: account.email, sms_to, authenticator, at: now_ms() };
    session.insert(PENDING_KEY, &pending).await.map_err(session_error)?;
    if authenticator {
        return Ok(SignInOutcome::AuthenticatorCode);
    }
    match super::codes::send_code(state, org_id, account_id, pending.code_to(), super::codes::SIGN_IN).await {
        // The code sent a moment ago still works: no need for another.
        Err(AppError::TooManyAttempts(m)) if m == super::codes::CODE_JUST_SENT => {}
        other => other?,
    }
    Ok(SignInOutcome::CodeSent)
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
    fn code_to(&self) -> super::codes::CodeTo<'_> {
        match &self.sms_to {
            Some(number) => super::codes::CodeTo::Sms(number),
            None => super::codes::CodeTo::Email(&self.email),
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
) -> Result<crate::api::account::types::SignInOutcome, AppError> {
    let typed = email.trim().to_lowercase();
    if typed.is_empty() {
        return Err(AppError::invalid("email", "Enter your email address."));
    }
    if password.is_empty() {
        return Err(AppError::invalid("password", "Enter your password."));
    }
    let security = &state.settings.security;
    let network = network_of(ip);
    // An address's failures count per client network: an outsider guessing from elsewhere
    // spends their own budget, not the one its owner signs in with.
    let account_subject = format!("account:{typed}:{network}");
    let ip_subject = format!("ip:{network}");
    // Each attempt takes from both budgets before the password is checked, so parallel guesses
    // cannot all slip past a limit; a right password gives its attempt back. The network's
    // budget first: a throttled network cannot create a row for every address it types.
    let window = security.throttle_window_minutes * crate::domain::time::MINUTE_MS;
    let now = now_ms();
    let ip_ok = limits::take(&state.db, &ip_subject, security.max_failed_sign_ins_per_ip, window, now).await?;
    let account_ok = ip_ok
        && limits::take(&state.db, &account_subject, security.max_failed_sign_ins_per_account, window, now).await?;
    if !account_ok {
        if ip_ok {
            limits::refund(&state.db, &ip_subject).await?;
        }
        return Err(AppError::TooManyAttempts(format!(
            "Too many failed sign-in attempts. Wait {} minutes and try again.",
            security.throttle_window_minutes
        )));
    }
    let credentials = match EmailAddress::parse(&typed) {
        Ok(address) => db::accounts::credentials(&state.db, &address).await?,
        Err(_) => None,
    };
    let hash = credentials.as_ref().and_then(|c| c.password_hash.clone());
    if !verify_password(password, hash).await {
        tracing::info!("sign-in refused: wrong credentials");
        return Err(AppError::invalid("password", WRONG_CREDENTIALS));
    }
    limits::refund(&state.db, &ip_subject).await?;
    let credentials = credentials.ok_or(AppError::Internal)?;
    let Some(org) = db::organizations::choices_for_account(&state.db, credentials.id).await?.into_iter().next() else {
        return Err(AppError::NotAllowed);
    };
    limits::clear(&state.db, &account_subject).await?;
    enter(state, session, credentials.id, org.id, Entry::SignIn).await
}

/// The second step of a sign-in that needs a code: within ten minutes of the password.
pub async fn verify_sign_in_code(state: &AppState, session: &Session, code: &str) -> Result<(), AppError> {
    let pending: Option<PendingSignIn> = session.get(PENDING_KEY).await.map_err(session_error)?;
    let Some(p) = pending.filter(|p| now_ms() - p.at < crate::domain::invites::CODE_LIFETIME_MS) else {
        return Err(AppError::Conflict(
            "Your sign-in has timed out. Enter your email address and password again.".into(),
        ));
    };
    if p.authenticator {
        check_authenticator_code(state, p.account_id, code).await?;
    } else {
        super::codes::check_code(state, p.account_id, super::codes::SIGN_IN, code).await?;
    }
    session.remove::<PendingSignIn>(PENDING_KEY).await.map_err(session_error)?;
    let kind = if p.authenticator {
        SecondFactor::Totp
    } else if p.sms_to.is_some() {
        SecondFactor::Sms
    } else {
        SecondFactor::Email
    };
    establish(session, p.account_id, p.org_id, Some(PassedFactor::now(kind))).await?;
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
    let subject = format!("code-ip:{}", network_of(ip));
    let security = &state.settings.security;
    let window = security.throttle_window_minutes * crate::domain::time::MINUTE_MS;
    if !limits::take(&state.db, &subject, security.max_failed_sign_ins_per_ip, window, now_ms()).await? {
        return Err(AppError::TooManyAttempts(format!(
            "Too many wrong codes from your network. Wait {} minutes and try again.",
            security.throttle_window_minutes
        )));
    }
    let outcome = check.await;
    // Only wrong codes count against the network.
    if !matches!(outcome, Err(AppError::Invalid { .. })) {
        limits::refund(&state.db, &subject).await?;
    }
    outcome
}

/// An authenticator code: at most five wrong ones per throttle window, and each works once.
async fn check_authenticator_code(state: &AppState, account_id: i64, code: &str) -> Result<(), AppError> {
    let subject = format!("totp:{account_id}");
    let window = state.settings.security.throttle_window_minutes * crate::domain::time::MINUTE_MS;
    if !limits::take(&state.db, &subject, crate::domain::invites::CODE_MAX_ATTEMPTS, window, now_ms()).await? {
        return Err(AppError::TooManyAttempts(
            "Too many wrong codes. Wait a while, or ask an owner of your organization to reset your second factor."
                .into(),
        ));
    }
    let secret = db::accounts::totp_secret(&state.db, account_id).await?.ok_or(AppError::Internal)?;
    let Some(step) = super::totp::matching_step(secret.expose(), code, now_ms()) else {
        return Err(AppError::invalid("code", "That is not the code your authenticator app shows now."));
    };
    if !db::accounts::spend_totp_step(&state.db, account_id, step).await? {
        return Err(AppError::invalid("code", "That code was already used. Wait for your app to show the next one."));
    }
    limits::clear(&state.db, &subject).await?;
    Ok(())
}

/// Sends another sign-in code, within the resend limits. An account that uses an authenticator
/// app is not offered an emailed code instead: that would let a stolen password plus a mailbox
/// replace the app. Its recovery is a reset by an owner (`users::reset_second_factor`).
pub async fn resend_sign_in_code(state: &AppState, session: &Session) -> Result<(), AppError> {
    let pending: Option<PendingSignIn> = session.get(PENDING_KEY).await.map_err(session_error)?;
    let Some(p) = pending else {
        return Err(AppError::Conflict("Enter your email address and password first.".into()));
    };
    if p.authenticator {
        return Err(AppError::Conflict(
            "Your account uses an authenticator app, so no code is sent by message. If you lost the app, ask an \
             owner of your organization to reset your second factor."
                .into(),
        ));
    }
    super::codes::send_code(state, p.org_id, p.account_id, p.code_to(), super::codes::SIGN_IN).await
}

/// Sets a password through a one-time link and signs the person in.
pub async fn set_password_with_link(
    state: &AppState,
    session: &Session,
    token: &str,
    new_password: Secret,
) -> Result<SignInOutcome, AppError> {
    password::check(new_password.expose()).map_err(|reason| AppError::invalid("password", reason))?;
    let hash = hash_password(new_password).await?;
    let mut tx = state.db.begin().await?;
    let Some(account_id) = db::password_links::redeem(&mut tx, &token_hash(token)).await? else {
        return Err(AppError::Conflict(
            "This link has expired or was already used. Ask an owner of your organization for a new one.".into(),
        ));
    };
    db::accounts::set_password_hash(&mut tx, account_id, &hash).await?;
    tx.commit().await?;
    // A new password ends every other session of the account.
    db::sessions::delete_for_account(&state.db, account_id).await?;
    // The link proves the mailbox, not a second factor: one is still asked where it is due.
    match db::organizations::choices_for_account(&state.db, account_id).await?.into_iter().next() {
        Some(org) => enter(state, session, account_id, org.id, Entry::SignIn).await,
        None => Err(AppError::NotAllowed),
    }
}

/// Issues a one-time link for an account to set its password, valid for `hours`.
pub async fn issue_password_link(state: &AppState, account_id: i64, hours: i64) -> Result<String, AppError> {
    let (token, hash) = new_token();
    db::password_links::create(&state.db, account_id, &hash, now_ms() + hours * 3_600_000).await?;
    Ok(format!("{}/set-password/{}", state.settings.public_base(), token.expose()))
}
