//! One-time codes by email or text message: sending one within the resend limits, and
//! checking one (single use, ten minutes, five tries). Registering and signing in both use them.

use super::db::{self, now_ms};
use super::outbox::{enqueue_code, OneTimeCode};
use super::AppState;
use crate::domain::invites::{CODES_PER_HOUR, CODE_LIFETIME_MS, CODE_MAX_ATTEMPTS, CODE_RESEND_GAP_MS};
use crate::AppError;
use subtle::ConstantTimeEq;

/// What a code is for: each purpose has its own codes and limits.
pub const REGISTER: &str = "register";
pub const SIGN_IN: &str = "sign_in";
pub const CODE_JUST_SENT: &str = "A code was just sent. Wait half a minute before asking for another.";

fn code_hash(account_id: i64, code: &str) -> String {
    super::secret::token_hash(&format!("{account_id}:{code}"))
}

/// Where a one-time code goes.
pub enum CodeTo<'a> {
    Email(&'a str),
    Sms(&'a str),
}

/// Sends a fresh six-digit code by email or text message, within the resend limits.
pub async fn send_code(
    state: &AppState,
    org_id: i64,
    account_id: i64,
    to: CodeTo<'_>,
    purpose: &str,
) -> Result<(), AppError> {
    let now = now_ms();
    // Each limit is one conditional statement: parallel requests cannot both pass it.
    if !db::limits::take(&state.db, &resend_gap_subject(account_id, purpose), 1, CODE_RESEND_GAP_MS, now).await? {
        return Err(AppError::TooManyAttempts(CODE_JUST_SENT.into()));
    }
    let hourly = format!("code-send:{account_id}:{purpose}");
    if !db::limits::take(&state.db, &hourly, CODES_PER_HOUR, crate::domain::time::HOUR_MS, now).await? {
        return Err(AppError::TooManyAttempts("Too many codes were sent this hour. Try again later.".into()));
    }
    let code = format!("{:06}", rand::random::<u32>() % 1_000_000);
    db::one_time_codes::create(&state.db, account_id, purpose, &code_hash(account_id, &code), now + CODE_LIFETIME_MS)
        .await?;
    let general = db::organizations::general(&state.db, org_id).await?.ok_or(AppError::NotFound)?;
    let purpose = if purpose == REGISTER { "registering" } else { "signing in" };
    let (to, by_sms) = match to {
        CodeTo::Email(email) => (email, false),
        CodeTo::Sms(number) => (number, true),
    };
    let code = OneTimeCode { to: to.to_string(), by_sms, sender: general.sender_name, code, purpose: purpose.into() };
    let mut tx = state.db.begin().await?;
    enqueue_code(&mut tx, state, org_id, code).await?;
    tx.commit().await?;
    state.outbox_wake.notify_waiters();
    Ok(())
}

/// The wait between two codes: a code just sent may still be on its way.
fn resend_gap_subject(account_id: i64, purpose: &str) -> String {
    format!("code-gap:{account_id}:{purpose}")
}

/// Checks a code: single use, ten minutes, at most five tries. Each try is counted by one
/// conditional update before the code is compared, so parallel guesses cannot exceed five.
pub async fn check_code(state: &AppState, account_id: i64, purpose: &str, typed: &str) -> Result<(), AppError> {
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(code) = db::one_time_codes::live(&state.db, account_id, purpose).await? else {
        return Err(AppError::invalid("code", "This code has expired or was already used. Ask for a new code."));
    };
    let Some(attempts) = db::one_time_codes::take_attempt(&state.db, code.id, CODE_MAX_ATTEMPTS).await? else {
        return Err(AppError::TooManyAttempts("Too many wrong codes. Ask for a new code.".into()));
    };
    let right = bool::from(code.code_hash.as_bytes().ct_eq(code_hash(account_id, &typed).as_bytes()));
    if !right {
        let left = CODE_MAX_ATTEMPTS - attempts;
        return Err(AppError::invalid("code", format!("That code is not right. {left} tries left.")));
    }
    if !db::one_time_codes::spend(&state.db, code.id).await? {
        return Err(AppError::invalid("code", "This code was already used. Ask for a new code."));
    }
    // Spent: the next sign-in may have a new code at once.
    db::limits::clear(&state.db, &resend_gap_subject(account_id, purpose)).await?;
    Ok(())
}
