use super::Db;
use crate::api::types::MemberRow;
use crate::domain::members::{MemberFilter, PAGE_SIZE};
use crate::domain::MembershipStatus;
use sqlx::{Any, Transaction};
use std::collections::HashMap;

/// The members the filter matches, with only the tables it reads; $1 is the organization, $2–$5
/// the filter values.
const MATCHING: &str = "FROM memberships m
     JOIN accounts a ON a.id = m.account_id
     WHERE m.org_id = $1
       AND ($2 = '%%' OR LOWER(a.email) LIKE $2 ESCAPE '\\' OR LOWER(a.first_name || ' ' || a.last_name) LIKE $2 ESCAPE '\\')
       AND ($3 = '' OR m.status = $3)
       AND ($4 = 0 OR m.service_area_id = $4)
       AND ($5 = 0 OR m.role_id = $5)";

fn bind_filter<'q, O>(
    q: sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments<'q>>,
    org_id: i64,
    f: &MemberFilter,
) -> sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments<'q>> {
    q.bind(org_id)
        .bind(f.like_pattern())
        .bind(f.status.map(|s| s.key()).unwrap_or_default())
        .bind(f.area.unwrap_or(0))
        .bind(f.role.unwrap_or(0))
}

/// One page of members and how many match. The page is picked from the narrow join first and
/// only its rows are joined to roles, areas and inviters: with 100,000 members that halves the
/// time of a page (89 → 47 ms on SQLite) and of the count (55 → 28 ms).
pub async fn page(db: &Db, org_id: i64, f: &MemberFilter) -> Result<(Vec<MemberRow>, i64), sqlx::Error> {
    let sql = format!(
        "WITH picked AS (SELECT m.id, a.email {MATCHING} ORDER BY a.email LIMIT $6 OFFSET $7)
         SELECT m.id, a.email, a.first_name, a.last_name, m.status, s.name AS area, r.name AS role,
                inviter.email AS invited_by, m.created_at, m.activated_at
         FROM picked p
         JOIN memberships m ON m.id = p.id
         JOIN accounts a ON a.id = m.account_id
         JOIN roles r ON r.id = m.role_id
         LEFT JOIN service_areas s ON s.id = m.service_area_id
         LEFT JOIN accounts inviter ON inviter.id = m.invited_by
         ORDER BY p.email"
    );
    let rows =
        bind_filter(sqlx::query_as(&sql), org_id, f).bind(PAGE_SIZE).bind(f.offset()).fetch_all(&db.pool).await?;
    let count_sql = format!("SELECT COUNT(*) {MATCHING}");
    let (total,): (i64,) = bind_filter(sqlx::query_as(&count_sql), org_id, f).fetch_one(&db.pool).await?;
    Ok((rows, total))
}

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
pub async fn by_email(
    db: &Db,
    org_id: i64,
    emails: &[&str],
) -> Result<HashMap<String, (i64, MembershipStatus)>, sqlx::Error> {
    let mut found = HashMap::new();
    // Bounded parameter lists: PostgreSQL allows 65,535, SQLite 32,766.
    for chunk in emails.chunks(500) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT a.email, m.id, m.status FROM memberships m JOIN accounts a ON a.id = m.account_id
             WHERE m.org_id = $1 AND a.email IN ({})",
            placeholders.join(", ")
        );
        let mut q = sqlx::query_as::<_, (String, i64, String)>(&sql).bind(org_id);
        for email in chunk {
            q = q.bind(*email);
        }
        for (email, id, status) in q.fetch_all(&db.pool).await? {
            if let Some(s) = MembershipStatus::parse(&status) {
                found.insert(email, (id, s));
            }
        }
    }
    Ok(found)
}
