//! The organization's agreement (EULA): its published versions, and who accepted which.

use super::{now_ms, Db};
use crate::domain::members::SEARCH_COUNT_LIMIT;
use crate::domain::settings::{AgreementStanding, EulaVersion};
use crate::domain::MembershipStatus;
use sqlx::{Any, Transaction};

const VERSION_COLUMNS: &str = "e.id, e.version, e.body, e.published_at, a.email AS published_by, e.reaccept_required";

/// An account has accepted `v` when it accepted `v` or any later version: the later text
/// replaces the earlier. `{account}`, `{org}` and `{version}` are SQL expressions.
fn accepted_since(account: &str, org: &str, version: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM eula_acceptances x JOIN eula_versions v ON v.id = x.eula_version_id
                 WHERE x.account_id = {account} AND v.org_id = {org} AND v.version >= {version})"
    )
}

/// The account has not accepted the organization's current version (nor a later one, as there
/// is none); false when no version is published. `{account}` and `{org}` are SQL expressions;
/// `{org}` should be a bound value, so the current version is read once per statement.
pub(super) fn not_accepted_current(account: &str, org: &str) -> String {
    let current = format!("(SELECT MAX(e.version) FROM eula_versions e WHERE e.org_id = {org})");
    format!("{current} IS NOT NULL AND NOT {}", accepted_since(account, org, &current))
}

/// Whether the account must accept the agreement again before anything else: a version that
/// requires it was published, and the account has accepted neither it nor a later one.
/// `{account}` and `{org}` are SQL expressions (`active_membership` reads it per request).
pub fn agreement_pending(account: &str, org: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM eula_versions r WHERE r.org_id = {org} AND r.reaccept_required = TRUE
                 AND NOT {})",
        accepted_since(account, org, "r.version")
    )
}

/// Every version, newest first.
pub async fn list(db: &Db, org_id: i64) -> Result<Vec<EulaVersion>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {VERSION_COLUMNS} FROM eula_versions e LEFT JOIN accounts a ON a.id = e.published_by
         WHERE e.org_id = $1 ORDER BY e.version DESC"
    ))
    .bind(org_id)
    .fetch_all(&db.pool)
    .await
}

/// The version people accept now: the newest, if any was published.
pub async fn current(db: &Db, org_id: i64) -> Result<Option<EulaVersion>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {VERSION_COLUMNS} FROM eula_versions e LEFT JOIN accounts a ON a.id = e.published_by
         WHERE e.org_id = $1 ORDER BY e.version DESC LIMIT 1"
    ))
    .bind(org_id)
    .fetch_optional(&db.pool)
    .await
}

/// Publishes the next version. Versions are never edited: the table refuses updates.
/// `reaccept_required`: everyone must accept this version again.
pub async fn publish(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    body: &str,
    by: i64,
    reaccept_required: bool,
) -> Result<i64, sqlx::Error> {
    let next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) + 1 FROM eula_versions WHERE org_id = $1")
        .bind(org_id)
        .fetch_one(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO eula_versions (org_id, version, body, published_by, published_at, reaccept_required)
         VALUES ($1, $2, $3, $4, $5, $6 <> 0)",
    )
    .bind(org_id)
    .bind(next)
    .bind(body)
    .bind(by)
    .bind(now_ms())
    .bind(i64::from(reaccept_required))
    .execute(&mut **tx)
    .await?;
    Ok(next)
}

/// Records that the account accepted version `eula_version_id`, if that is still the
/// organization's current version and the account has not accepted it yet: one statement, so
/// a version published meanwhile cannot be skipped, and the unique index (migration 0017) keeps
/// two clicks at once to one row. False when nothing was recorded.
pub async fn accept_current(
    db: &Db,
    org_id: i64,
    account_id: i64,
    eula_version_id: i64,
    ip: &str,
    user_agent: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO eula_acceptances (account_id, eula_version_id, accepted_at, ip, user_agent)
         SELECT $1, e.id, $3, $4, $5 FROM eula_versions e
         WHERE e.id = $2 AND e.org_id = $6
           AND e.version = (SELECT MAX(version) FROM eula_versions WHERE org_id = $6)
         ON CONFLICT (eula_version_id, account_id) DO NOTHING",
    )
    .bind(account_id)
    .bind(eula_version_id)
    .bind(now_ms())
    .bind(ip)
    .bind(user_agent)
    .bind(org_id)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records that the account accepted version `eula_version_id` within a larger change
/// (registering, joining an organization) that has checked it is the current version.
pub async fn record_acceptance(
    tx: &mut Transaction<'static, Any>,
    account_id: i64,
    eula_version_id: i64,
    ip: &str,
    user_agent: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO eula_acceptances (account_id, eula_version_id, accepted_at, ip, user_agent)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (eula_version_id, account_id) DO NOTHING",
    )
    .bind(account_id)
    .bind(eula_version_id)
    .bind(now_ms())
    .bind(ip)
    .bind(user_agent)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// When the account accepted the current version or a later one, if it has.
pub async fn accepted_at(db: &Db, org_id: i64, account_id: i64, version: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT MAX(x.accepted_at) FROM eula_acceptances x JOIN eula_versions v ON v.id = x.eula_version_id
         WHERE x.account_id = $1 AND v.org_id = $2 AND v.version >= $3",
    )
    .bind(account_id)
    .bind(org_id)
    .bind(version)
    .fetch_one(&db.pool)
    .await
}

/// How many accepted each version, and how many Active members have not accepted the current one.
pub async fn standing(db: &Db, org_id: i64) -> Result<AgreementStanding, sqlx::Error> {
    let accepted: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT e.id, (SELECT COUNT(*) FROM eula_acceptances x WHERE x.eula_version_id = e.id)
         FROM eula_versions e WHERE e.org_id = $1 ORDER BY e.version DESC",
    )
    .bind(org_id)
    .fetch_all(&db.pool)
    .await?;
    let not_yet: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM (
           SELECT 1 FROM memberships m WHERE m.org_id = $1 AND m.status = $2 AND {} LIMIT $3) x",
        not_accepted_current("m.account_id", "$1")
    ))
    .bind(org_id)
    .bind(MembershipStatus::Active.key())
    .bind(SEARCH_COUNT_LIMIT + 1)
    .fetch_one(&db.pool)
    .await?;
    Ok(AgreementStanding { not_yet, accepted })
}

/// One acceptance as the evidence export gives it.
#[derive(Debug, sqlx::FromRow)]
pub struct Acceptance {
    pub id: i64,
    pub account_id: i64,
    pub email: String,
    pub version: i64,
    pub accepted_at: i64,
    pub ip: String,
    pub user_agent: String,
}

/// The organization's acceptances after acceptance `after_id`, at most `limit`, in the order
/// they were recorded: the export reads them a page at a time, holding no connection between pages.
pub async fn acceptances_after(
    db: &Db,
    org_id: i64,
    after_id: i64,
    limit: i64,
) -> Result<Vec<Acceptance>, sqlx::Error> {
    sqlx::query_as(
        "SELECT x.id, x.account_id, a.email, v.version, x.accepted_at, x.ip, x.user_agent
         FROM eula_acceptances x
         JOIN eula_versions v ON v.id = x.eula_version_id
         JOIN accounts a ON a.id = x.account_id
         WHERE v.org_id = $1 AND x.id > $2
         ORDER BY x.id LIMIT $3",
    )
    .bind(org_id)
    .bind(after_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await
}
