use super::{Backend, Db};
use crate::api::types::MemberRow;
use crate::domain::members::{MemberFilter, Search, Seek, PAGE_SIZE, SEARCH_COUNT_LIMIT};
use crate::domain::MembershipStatus;
use sqlx::{Any, Transaction};
use std::collections::HashMap;

/// One page of the Users list, in address order.
#[derive(Debug)]
pub struct Listed {
    pub rows: Vec<MemberRow>,
    /// How many members match; with a search, counting stops past `SEARCH_COUNT_LIMIT`.
    pub total: i64,
    pub has_previous: bool,
    pub has_next: bool,
}

/// On SQLite, a search whose phrase matches fewer index rows than this (in every organization)
/// starts from those rows and sorts them; a commoner one walks the list in order and checks
/// each member against the index, and stops at the page's end.
const FEW_SEARCH_MATCHES: i64 = 2_000;

/// A statement's text and its values, numbered as they are added.
#[derive(Clone, Default)]
struct Statement {
    conditions: Vec<String>,
    values: Vec<Value>,
}

#[derive(Clone)]
enum Value {
    Int(i64),
    Text(String),
}

impl Statement {
    fn value(&mut self, value: Value) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }

    fn condition(&mut self, condition: impl Into<String>) {
        self.conditions.push(condition.into());
    }

    fn bind<'q, O>(
        &self,
        mut q: sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments<'q>> {
        for value in &self.values {
            q = match value.clone() {
                Value::Int(i) => q.bind(i),
                Value::Text(t) => q.bind(t),
            };
        }
        q
    }

    fn filter(&self) -> String {
        self.conditions.join(" AND ")
    }
}

/// The conditions of the filter (not of the place in the list). Only the filters in use are
/// written, so each statement can use the index that serves them.
async fn matching(db: &Db, org_id: i64, f: &MemberFilter) -> Result<Statement, sqlx::Error> {
    let mut s = Statement::default();
    let org = s.value(Value::Int(org_id));
    s.condition(format!("m.org_id = {org}"));
    if let Some(status) = f.status {
        let v = s.value(Value::Text(status.key().into()));
        s.condition(format!("m.status = {v}"));
    }
    if let Some(area) = f.area {
        let v = s.value(Value::Int(area));
        s.condition(format!("m.service_area_id = {v}"));
    }
    if let Some(role) = f.role {
        let v = s.value(Value::Int(role));
        s.condition(format!("m.role_id = {v}"));
    }
    match f.search() {
        Search::Everyone => {}
        Search::AddressPrefix(prefix) => {
            let from = s.value(Value::Text(prefix.clone()));
            let to = s.value(Value::Text(Search::prefix_end(&prefix)));
            s.condition(format!("m.email >= {from} AND m.email < {to}"));
        }
        search @ Search::Anywhere(_) => match db.backend {
            Backend::Postgres => {
                let v = s.value(Value::Text(search.like_pattern()));
                s.condition(format!(
                    "(LOWER(m.email) LIKE LOWER({v}) ESCAPE '\\' OR LOWER(m.full_name) LIKE LOWER({v}) ESCAPE '\\')"
                ));
            }
            Backend::Sqlite => {
                let phrase = search.fts_phrase();
                let (found,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM member_search WHERE member_search MATCH $1 LIMIT $2)",
                )
                .bind(&phrase)
                .bind(FEW_SEARCH_MATCHES)
                .fetch_one(&db.pool)
                .await?;
                let v = s.value(Value::Text(phrase));
                s.condition(if found < FEW_SEARCH_MATCHES {
                    format!("m.id IN (SELECT rowid FROM member_search WHERE member_search MATCH {v})")
                } else {
                    format!("EXISTS (SELECT 1 FROM member_search WHERE member_search MATCH {v} AND rowid = m.id)")
                });
            }
        },
    }
    Ok(s)
}

/// One page of members at the filter's place in the list, and how many match. The page is
/// picked from memberships alone (each carries its address) and only its rows are joined to
/// accounts, roles, areas and inviters.
pub async fn page(db: &Db, org_id: i64, f: &MemberFilter) -> Result<Listed, sqlx::Error> {
    let seek = f.seek();
    let mut s = matching(db, org_id, f).await?;
    let total = count(db, org_id, f, &s).await?;
    match &seek {
        Seek::First | Seek::Last => {}
        Seek::After(key) => {
            let v = s.value(Value::Text(key.clone()));
            s.condition(format!("m.email > {v}"));
        }
        Seek::Before(key) => {
            let v = s.value(Value::Text(key.clone()));
            s.condition(format!("m.email < {v}"));
        }
        Seek::From(key) => {
            let v = s.value(Value::Text(key.clone()));
            s.condition(format!("m.email >= {v}"));
        }
    }
    let direction = if seek.backwards() { "DESC" } else { "ASC" };
    let limit = s.value(Value::Int(PAGE_SIZE + 1));
    let sql = format!(
        "WITH picked AS (SELECT m.id, m.email FROM memberships m WHERE {} ORDER BY m.email {direction} LIMIT {limit})
         SELECT m.id, a.email, a.first_name, a.last_name, m.status, s.name AS area, r.name AS role,
                inviter.email AS invited_by, m.created_at, m.activated_at
         FROM picked p
         JOIN memberships m ON m.id = p.id
         JOIN accounts a ON a.id = m.account_id
         JOIN roles r ON r.id = m.role_id
         LEFT JOIN service_areas s ON s.id = m.service_area_id
         LEFT JOIN accounts inviter ON inviter.id = m.invited_by
         ORDER BY p.email {direction}",
        s.filter()
    );
    let mut rows: Vec<MemberRow> = s.bind(sqlx::query_as(&sql)).fetch_all(&db.pool).await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    if seek.backwards() {
        rows.reverse();
    }
    let (has_previous, has_next) = match &seek {
        Seek::First => (false, more),
        // The key came from a row of the list, so the list goes on past it.
        Seek::After(_) => (true, more),
        Seek::Before(_) => (more, true),
        Seek::Last => (more, false),
        Seek::From(key) => (any_before(db, org_id, f, key).await?, more),
    };
    Ok(Listed { rows, total, has_previous, has_next })
}

/// Whether a member of the filter comes before `key` ("jump to letter" has a page before it).
async fn any_before(db: &Db, org_id: i64, f: &MemberFilter, key: &str) -> Result<bool, sqlx::Error> {
    let mut s = matching(db, org_id, f).await?;
    let v = s.value(Value::Text(key.into()));
    s.condition(format!("m.email < {v}"));
    let sql = format!("SELECT COUNT(*) FROM (SELECT 1 FROM memberships m WHERE {} LIMIT 1) x", s.filter());
    let (before,): (i64,) = s.bind(sqlx::query_as(&sql)).fetch_one(&db.pool).await?;
    Ok(before > 0)
}

/// How many members match. Without a search, the kept counts per status, area and role
/// (`member_counts`) answer at once; a search is counted up to `SEARCH_COUNT_LIMIT` + 1.
async fn count(db: &Db, org_id: i64, f: &MemberFilter, s: &Statement) -> Result<i64, sqlx::Error> {
    if f.search() != Search::Everyone {
        let mut s = s.clone();
        let limit = s.value(Value::Int(SEARCH_COUNT_LIMIT + 1));
        let sql = format!("SELECT COUNT(*) FROM (SELECT 1 FROM memberships m WHERE {} LIMIT {limit}) x", s.filter());
        let (n,): (i64,) = s.bind(sqlx::query_as(&sql)).fetch_one(&db.pool).await?;
        return Ok(n);
    }
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(members), 0) AS BIGINT) FROM member_counts
         WHERE org_id = $1 AND ($2 = '' OR status = $2) AND ($3 = 0 OR service_area_id = $3) AND ($4 = 0 OR role_id = $4)",
    )
    .bind(org_id)
    .bind(f.status.map(|s| s.key()).unwrap_or_default())
    .bind(f.area.unwrap_or(0))
    .bind(f.role.unwrap_or(0))
    .fetch_one(&db.pool)
    .await?;
    Ok(n)
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
