//! Memberships: a person's place in an organization, its status and what may change it.

use super::Db;
use crate::domain::MembershipStatus;
use sqlx::{Any, Transaction};
use std::collections::HashMap;

/// The organization's members still to register (Pending or Expired) whose role is one of `roles`.
pub async fn unregistered_with_roles(
    db: &super::Db,
    org_id: i64,
    roles: &[i64],
) -> Result<std::collections::HashSet<i64>, sqlx::Error> {
    if roles.is_empty() {
        return Ok(Default::default());
    }
    let placeholders = (0..roles.len()).map(|i| format!("${}", i + 2)).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT id FROM memberships WHERE org_id = $1 AND status IN ('pending', 'expired') AND role_id IN ({placeholders})"
    );
    let mut query = sqlx::query_scalar::<_, i64>(&sql).bind(org_id);
    for role in roles {
        query = query.bind(*role);
    }
    Ok(query.fetch_all(&db.pool).await?.into_iter().collect())
}

/// How many memberships the account has in organizations other than `org_id` (any status but
/// an invitation that lapsed or was withdrawn).
pub async fn count_elsewhere(
    tx: &mut Transaction<'static, Any>,
    account_id: i64,
    org_id: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM memberships WHERE account_id = $1 AND org_id <> $2 AND status IN ('active', 'inactive', 'pending')",
    )
    .bind(account_id)
    .bind(org_id)
    .fetch_one(&mut **tx)
    .await
}

/// Whether the membership has the organization's Owner role.
pub async fn is_owner(tx: &mut Transaction<'static, Any>, membership_id: i64) -> Result<bool, sqlx::Error> {
    let owners: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM memberships m JOIN roles r ON r.id = m.role_id WHERE m.id = $1 AND r.locked = TRUE",
    )
    .bind(membership_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(owners > 0)
}

/// The organization's active Owners other than `membership_id`, counted after locking the
/// organization's row: two Owners pausing each other at once take turns, and the second sees
/// the first's change (PostgreSQL reads committed rows afresh after the lock; SQLite's write
/// transactions are already one at a time).
pub async fn other_active_owners(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    membership_id: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query("UPDATE organizations SET name = name WHERE id = $1").bind(org_id).execute(&mut **tx).await?;
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM memberships m JOIN roles r ON r.id = m.role_id
         WHERE m.org_id = $1 AND m.id <> $2 AND m.status = 'active' AND r.locked = TRUE",
    )
    .bind(org_id)
    .bind(membership_id)
    .fetch_one(&mut **tx)
    .await
}

#[derive(Debug, sqlx::FromRow)]
pub struct Target {
    pub account_id: i64,
    pub email: String,
    pub status: String,
    pub permissions: String,
}

/// A member of this organization, as an admin action needs to judge it.
pub async fn target(tx: &mut Transaction<'static, Any>, org_id: i64, id: i64) -> Result<Option<Target>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.account_id, a.email, m.status, r.permissions
         FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN roles r ON r.id = m.role_id
         WHERE m.id = $2 AND m.org_id = $1",
    )
    .bind(org_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

/// Moves a member from one status to another; false if it was not in `from` any more.
pub async fn change_status(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    id: i64,
    from: MembershipStatus,
    to: MembershipStatus,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE memberships SET status = $4 WHERE id = $2 AND org_id = $1 AND status = $3")
        .bind(org_id)
        .bind(id)
        .bind(from.key())
        .bind(to.key())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The membership, in this organization, of each address that has one: its id and status.
/// Read from the address each membership carries (index `memberships_list`), not the accounts.
pub async fn by_email(
    db: &Db,
    org_id: i64,
    emails: &[&str],
) -> Result<HashMap<String, (i64, MembershipStatus)>, sqlx::Error> {
    let mut found = HashMap::new();
    // In index order, so each lookup finds the index pages the one before read still cached
    // (a quarter less time for 1,000 pasted addresses at a million members).
    let mut emails = emails.to_vec();
    emails.sort_unstable();
    // A part at a time, so a paste of 100,000 never becomes one JSON text of megabytes.
    for chunk in emails.chunks(5_000) {
        let sql = format!(
            "SELECT m.email, m.id, m.status FROM {} e CROSS JOIN memberships m WHERE m.org_id = $1 AND m.email = e.value",
            db.backend.json_rows(2, true)
        );
        let json = serde_json::to_string(chunk).expect("strings serialize");
        let rows = sqlx::query_as::<_, (String, i64, String)>(&sql).bind(org_id).bind(json).fetch_all(&db.pool).await?;
        for (email, id, status) in rows {
            if let Some(s) = MembershipStatus::parse(&status) {
                found.insert(email, (id, s));
            }
        }
    }
    Ok(found)
}

/// What the `member.*` events tell of a membership, as it stands in the transaction; until
/// registration the names are those the inviter gave.
pub async fn event_data(
    tx: &mut Transaction<'static, Any>,
    id: i64,
) -> Result<Option<crate::domain::events::MemberData>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.id AS membership_id, a.email,
                CASE WHEN a.first_name = '' THEN m.prefill_first_name ELSE a.first_name END AS first_name,
                CASE WHEN a.last_name = '' THEN m.prefill_last_name ELSE a.last_name END AS last_name,
                m.status, sa.name AS service_area, r.name AS role
         FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN roles r ON r.id = m.role_id
         LEFT JOIN service_areas sa ON sa.id = m.service_area_id
         WHERE m.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}
