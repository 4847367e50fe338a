//! Identity mappings: which Slack user or Teams (Entra) user each member is.

use super::{now_ms, Db};
use crate::domain::members::PAGE_SIZE;
use crate::domain::onboarding::MappingRow;
use crate::domain::onboarding::Provider;
use sqlx::{Any, Transaction};

/// Members (the organization's, in email order) with their mapping on `provider`, if any.
pub async fn page(db: &Db, org_id: i64, provider: Provider, page: i64) -> Result<(Vec<MappingRow>, i64), sqlx::Error> {
    let rows = sqlx::query_as(
        "SELECT m.id AS membership_id, a.email, a.first_name, a.last_name,
                i.external_id, i.external_name, i.source
         FROM memberships m
         JOIN accounts a ON a.id = m.account_id
         LEFT JOIN identity_mappings i ON i.membership_id = m.id AND i.provider = $2
         WHERE m.org_id = $1
         ORDER BY a.email LIMIT $3 OFFSET $4",
    )
    .bind(org_id)
    .bind(provider.key())
    .bind(PAGE_SIZE)
    .bind((page.max(1) - 1) * PAGE_SIZE)
    .fetch_all(&db.pool)
    .await?;
    let (total,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM memberships WHERE org_id = $1").bind(org_id).fetch_one(&db.pool).await?;
    Ok((rows, total))
}

/// Members not mapped on `provider` yet: (membership id, email).
pub async fn unmapped(db: &Db, org_id: i64, provider: Provider) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.id, a.email FROM memberships m JOIN accounts a ON a.id = m.account_id
         WHERE m.org_id = $1
           AND NOT EXISTS (SELECT 1 FROM identity_mappings i WHERE i.membership_id = m.id AND i.provider = $2)
         ORDER BY a.email",
    )
    .bind(org_id)
    .bind(provider.key())
    .fetch_all(&db.pool)
    .await
}

pub struct NewMapping<'a> {
    pub org_id: i64,
    pub membership_id: i64,
    pub provider: Provider,
    pub external_id: &'a str,
    pub external_name: &'a str,
    /// 'manual', 'email' or 'oauth'.
    pub source: &'a str,
    pub created_by: i64,
    /// The account's picture, for one the member connected (an https or data: URL).
    pub picture: Option<&'a str>,
}

/// Maps a member, replacing any earlier mapping on the same provider.
pub async fn set(tx: &mut Transaction<'static, Any>, m: &NewMapping<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO identity_mappings (org_id, membership_id, provider, external_id, external_name, source, created_by, created_at,
                                        picture)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (membership_id, provider) DO UPDATE SET external_id = excluded.external_id,
             external_name = excluded.external_name, source = excluded.source,
             created_by = excluded.created_by, created_at = excluded.created_at, picture = excluded.picture",
    )
    .bind(m.org_id)
    .bind(m.membership_id)
    .bind(m.provider.key())
    .bind(m.external_id)
    .bind(m.external_name)
    .bind(m.source)
    .bind(m.created_by)
    .bind(now_ms())
    .bind(m.picture)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The picture of the chat account the member connected most recently, if any (an https or
/// data: URL).
pub async fn picture(db: &Db, membership_id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT picture FROM identity_mappings WHERE membership_id = $1 AND picture IS NOT NULL
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(membership_id)
    .fetch_optional(&db.pool)
    .await
}

pub async fn remove(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    membership_id: i64,
    provider: Provider,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM identity_mappings WHERE org_id = $1 AND membership_id = $2 AND provider = $3")
        .bind(org_id)
        .bind(membership_id)
        .bind(provider.key())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The member's email, if the membership is this organization's.
pub async fn member_email(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    membership_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT a.email FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.org_id = $1 AND m.id = $2",
    )
    .bind(org_id)
    .bind(membership_id)
    .fetch_optional(&mut **tx)
    .await
}

/// A member's mappings: (provider key, external name or id, source).
pub async fn of_member(db: &Db, membership_id: i64) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT provider, CASE WHEN external_name = '' THEN external_id ELSE external_name END, source
         FROM identity_mappings WHERE membership_id = $1",
    )
    .bind(membership_id)
    .fetch_all(&db.pool)
    .await
}

/// The member whose `provider` identity is `external_id`, while Active in the organization:
/// (their account id, their role's permissions as stored). `None` also
/// when the identity is mapped to more than one Active member: nobody can tell which one acts.
pub async fn active_member(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    provider: &str,
    external_id: &str,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    let mut found: Vec<(i64, String)> = sqlx::query_as(
        "SELECT m.account_id, r.permissions
         FROM identity_mappings im
         JOIN memberships m ON m.id = im.membership_id AND m.org_id = im.org_id
         JOIN roles r ON r.id = m.role_id
         WHERE im.org_id = $1 AND im.provider = $2 AND im.external_id = $3 AND m.status = 'active'
         LIMIT 2",
    )
    .bind(org_id)
    .bind(provider)
    .bind(external_id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(if found.len() == 1 { found.pop() } else { None })
}
