//! The writes that complete a registration.

use super::now_ms;
use crate::domain::second_factor::SecondFactor;
use crate::server::sealing::{self, ServerKey};
use sqlx::{Any, Transaction};

/// What registering sets on the account.
pub struct CompletedAccount<'a> {
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub mobile: &'a str,
    pub password_hash: &'a str,
    /// The proven second factor, if any.
    pub second_factor: Option<SecondFactor>,
    /// With "totp": the app's secret and the step of the code that proved it.
    pub totp: Option<(&'a str, i64)>,
}

/// Sets the credentials of an account that has none; false if it already has a password or is
/// a member somewhere, which registering never takes over (its owner joins by signing in).
pub async fn complete_account(
    tx: &mut Transaction<'static, Any>,
    key: &ServerKey,
    account_id: i64,
    a: &CompletedAccount<'_>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE accounts SET first_name = $2, last_name = $3, mobile = $4, password_hash = $5,
                second_factor = COALESCE($6, second_factor),
                totp_secret = COALESCE($7, totp_secret), totp_last_step = COALESCE($8, totp_last_step)
         WHERE id = $1 AND password_hash IS NULL
           AND NOT EXISTS (SELECT 1 FROM memberships WHERE account_id = $1 AND status IN ('active', 'inactive'))",
    )
    .bind(account_id)
    .bind(a.first_name)
    .bind(a.last_name)
    .bind(a.mobile)
    .bind(a.password_hash)
    .bind(a.second_factor)
    .bind(a.totp.map(|(secret, _)| key.seal(sealing::TOTP_SECRET, secret)))
    .bind(a.totp.map(|(_, step)| step))
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Makes a Pending membership Active; false if it was not Pending.
pub async fn activate(tx: &mut Transaction<'static, Any>, membership_id: i64) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE memberships SET status = 'active', activated_at = $2 WHERE id = $1 AND status = 'pending'")
            .bind(membership_id)
            .bind(now_ms())
            .execute(&mut **tx)
            .await?;
    Ok(done.rows_affected() == 1)
}
