use super::{now_ms, Db};
use crate::domain::second_factor::SecondFactor;
use crate::domain::{EmailAddress, MembershipStatus, PermissionSet};
use crate::server::sealing;
use crate::server::secret::Secret;
use sqlx::{Any, Transaction};

#[derive(Debug, sqlx::FromRow)]
pub struct Credentials {
    pub id: i64,
    pub password_hash: Option<String>,
    pub second_factor: Option<SecondFactor>,
    pub mobile: Option<String>,
}

/// Once, on the first start after migration 0008: rewrites stored addresses whose domain has
/// an A-label or non-ASCII letters into the one form `EmailAddress::parse` now gives. Clearing
/// the marker is the one conditional statement that lets a single instance do it. An address
/// whose new form another account already holds is left as it is and logged: two accounts
/// cannot be merged without a person deciding.
pub async fn canonicalize_international_domains(db: &Db) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    let claimed = sqlx::query("DELETE FROM pending_data_fixes WHERE name = 'international_domains'")
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if claimed == 0 {
        return Ok(());
    }
    let non_ascii = match db.backend {
        super::Backend::Sqlite => "email GLOB '*[^ -~]*'",
        super::Backend::Postgres => "email ~ '[^ -~]'",
    };
    let stored: Vec<(i64, String)> =
        sqlx::query_as(&format!("SELECT id, email FROM accounts WHERE email LIKE '%xn--%' OR {non_ascii}"))
            .fetch_all(&mut *tx)
            .await?;
    for (id, email) in stored {
        let canonical = match EmailAddress::parse(&email) {
            Ok(canonical) if canonical.as_str() != email => canonical,
            Ok(_) => continue,
            Err(e) => {
                // Accepted by the earlier rules, refused by IDNA: the person can no longer sign in
                // with it, and an operator has to change the address.
                tracing::warn!(account = id, problem = %e, "a stored address is not a valid international address; left as it is");
                continue;
            }
        };
        let moved = sqlx::query(
            "UPDATE accounts SET email = $1 WHERE id = $2 AND NOT EXISTS (SELECT 1 FROM accounts WHERE email = $1)",
        )
        .bind(canonical.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved == 0 {
            tracing::warn!(account = id, "an account's address is the same as another's in IDNA form; left as it is");
        }
    }
    tx.commit().await
}

pub async fn credentials(db: &Db, email: &EmailAddress) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as("SELECT id, password_hash, second_factor, mobile FROM accounts WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(&db.pool)
        .await
}

/// What entering an organization needs to know of an account's second factor.
#[derive(Debug, sqlx::FromRow)]
pub struct AccountFactor {
    pub email: String,
    pub mobile: Option<String>,
    /// None until the person proves one.
    pub second_factor: Option<SecondFactor>,
    #[sqlx(try_from = "super::Flag")]
    pub has_totp: bool,
}

pub async fn factor_of(db: &Db, account_id: i64) -> Result<Option<AccountFactor>, sqlx::Error> {
    sqlx::query_as(
        "SELECT email, mobile, second_factor, CASE WHEN totp_secret IS NULL THEN 0 ELSE 1 END AS has_totp
         FROM accounts WHERE id = $1",
    )
    .bind(account_id)
    .fetch_optional(&db.pool)
    .await
}

pub async fn id_by_email(db: &Db, email: &EmailAddress) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM accounts WHERE email = $1").bind(email.as_str()).fetch_optional(&db.pool).await
}

/// Creates the account, or returns the existing one with that address.
pub async fn find_or_create(tx: &mut Transaction<'static, Any>, email: &EmailAddress) -> Result<i64, sqlx::Error> {
    sqlx::query("INSERT INTO accounts (email, first_name, last_name, created_at) VALUES ($1, '', '', $2) ON CONFLICT (email) DO NOTHING")
        .bind(email.as_str())
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    sqlx::query_scalar("SELECT id FROM accounts WHERE email = $1").bind(email.as_str()).fetch_one(&mut **tx).await
}

pub async fn set_password_hash(
    tx: &mut Transaction<'static, Any>,
    account_id: i64,
    hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET password_hash = $2 WHERE id = $1")
        .bind(account_id)
        .bind(hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The account's authenticator secret (base32), opened from its sealed column.
pub async fn totp_secret(db: &Db, account_id: i64) -> Result<Option<Secret>, sqlx::Error> {
    let sealed: Option<Option<String>> = sqlx::query_scalar("SELECT totp_secret FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_optional(&db.pool)
        .await?;
    sealed.flatten().map(|s| db.key.open_stored(sealing::TOTP_SECRET, &s).map(Secret::new)).transpose()
}

/// Clears the account's second factor (the recovery for a lost authenticator app).
pub async fn reset_second_factor(tx: &mut Transaction<'static, Any>, account_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET second_factor = NULL, totp_secret = NULL, totp_last_step = NULL WHERE id = $1")
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Records an authenticator code's time step as used, unless it or a later one already was:
/// false means the code was replayed.
pub async fn spend_totp_step(db: &Db, account_id: i64, step: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE accounts SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
    )
    .bind(account_id)
    .bind(step)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Who is calling, as far as authorization needs to know: their Active membership in one organization.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActiveMembership {
    pub membership_id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub role_id: i64,
    pub role_name: String,
    pub permissions: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// A version of the agreement everyone must accept again awaits their acceptance: until
    /// then they may reach nothing but it (`auth::signed_in`).
    #[sqlx(try_from = "crate::domain::columns::Flag")]
    pub agreement_pending: bool,
}

impl ActiveMembership {
    pub fn permission_set(&self) -> PermissionSet {
        PermissionSet::parse(&self.permissions)
    }
}

pub async fn active_membership(db: &Db, account_id: i64, org_id: i64) -> Result<Option<ActiveMembership>, sqlx::Error> {
    // Read on every request: the statement is written once per process.
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT m.id AS membership_id, o.id AS org_id, o.name AS org_name, m.role_id, r.name AS role_name,
                    r.permissions, a.email, a.first_name, a.last_name, {} AS agreement_pending
             FROM memberships m
             JOIN organizations o ON o.id = m.org_id
             JOIN roles r ON r.id = m.role_id
             JOIN accounts a ON a.id = m.account_id
             WHERE m.account_id = $1 AND m.org_id = $2 AND m.status = $3",
            super::eula::agreement_pending("m.account_id", "m.org_id")
        )
    });
    sqlx::query_as(SQL.as_str())
        .bind(account_id)
        .bind(org_id)
        .bind(MembershipStatus::Active.key())
        .fetch_optional(&db.pool)
        .await
}

/// Adds the account to an organization with its Owner role, or makes an existing member Owner.
pub async fn make_owner(tx: &mut Transaction<'static, Any>, org_id: i64, account_id: i64) -> Result<(), sqlx::Error> {
    let role_id: i64 =
        sqlx::query_scalar("SELECT id FROM roles WHERE org_id = $1 AND locked = TRUE ORDER BY id LIMIT 1")
            .bind(org_id)
            .fetch_one(&mut **tx)
            .await?;
    let area_id: Option<i64> = sqlx::query_scalar("SELECT id FROM service_areas WHERE org_id = $1 ORDER BY id LIMIT 1")
        .bind(org_id)
        .fetch_optional(&mut **tx)
        .await?;
    let now = now_ms();
    sqlx::query(
        "INSERT INTO memberships (org_id, account_id, service_area_id, role_id, status, created_at, activated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         ON CONFLICT (org_id, account_id) DO UPDATE SET role_id = $4, status = $5",
    )
    .bind(org_id)
    .bind(account_id)
    .bind(area_id)
    .bind(role_id)
    .bind(MembershipStatus::Active.key())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
