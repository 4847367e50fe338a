//! The writes that complete a registration.

use super::now_ms;
use sqlx::{Any, Transaction};

pub async fn complete_account(
    tx: &mut Transaction<'static, Any>,
    account_id: i64,
    first_name: &str,
    last_name: &str,
    mobile: &str,
    password_hash: &str,
    second_factor: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE accounts SET first_name = $2, last_name = $3, mobile = $4, password_hash = $5,
                second_factor = COALESCE($6, second_factor) WHERE id = $1",
    )
    .bind(account_id)
    .bind(first_name)
    .bind(last_name)
    .bind(mobile)
    .bind(password_hash)
    .bind(second_factor)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn accept_eula(
    tx: &mut Transaction<'static, Any>,
    account_id: i64,
    eula_version_id: i64,
    ip: &str,
    user_agent: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO eula_acceptances (account_id, eula_version_id, accepted_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5)")
        .bind(account_id)
        .bind(eula_version_id)
        .bind(now_ms())
        .bind(ip)
        .bind(user_agent)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn activate(tx: &mut Transaction<'static, Any>, membership_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE memberships SET status = 'active', activated_at = $2 WHERE id = $1 AND status = 'pending'")
        .bind(membership_id)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    Ok(())
}
