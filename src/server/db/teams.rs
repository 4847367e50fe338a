//! Teams and who is on them, with the counts the onboarding dashboard shows.

use super::{now_ms, Db};
use crate::domain::members::{like_pattern, PAGE_SIZE};
use crate::domain::onboarding::{StatusCounts, TeamMemberRow, TeamSummary};
use crate::domain::onboarding::{TeamFilter, TEAMS_PER_PAGE};
use sqlx::{Any, Transaction};

/// Registered members (Active, or paused after registering) count as onboarded.
const ONBOARDED: &str = "m.status IN ('active', 'inactive')";

/// A team's members with their accounts and latest message; $1 is the organization, $2 the team.
const TEAM_MEMBERS: &str = "FROM team_members tm
         JOIN teams t ON t.id = tm.team_id
         JOIN memberships m ON m.id = tm.membership_id
         JOIN accounts a ON a.id = m.account_id";

/// One page of teams by name, with their counts, which triggers keep (see the 0003
/// migration): no member is read. `find` keeps the teams whose name contains it, in any case
/// (on SQLite, LOWER folds ASCII letters only).
/// Returns the page and how many teams there are in all.
pub async fn summaries(db: &Db, org_id: i64, f: &TeamFilter) -> Result<(Vec<TeamSummary>, i64), sqlx::Error> {
    let pattern = like_pattern(&f.find);
    let teams = sqlx::query_as(
        "SELECT id, name, members, onboarded FROM teams
         WHERE org_id = $1 AND ($2 = '%%' OR LOWER(name) LIKE LOWER($2) ESCAPE '\\')
         ORDER BY LOWER(name), id LIMIT $3 OFFSET $4",
    )
    .bind(org_id)
    .bind(&pattern)
    .bind(TEAMS_PER_PAGE)
    .bind(f.offset())
    .fetch_all(&db.pool)
    .await?;
    let (total,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM teams WHERE org_id = $1 AND ($2 = '%%' OR LOWER(name) LIKE LOWER($2) ESCAPE '\\')",
    )
    .bind(org_id)
    .bind(&pattern)
    .fetch_one(&db.pool)
    .await?;
    Ok((teams, total))
}

pub async fn summary(db: &Db, org_id: i64, team_id: i64) -> Result<Option<TeamSummary>, sqlx::Error> {
    sqlx::query_as("SELECT id, name, members, onboarded FROM teams WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(team_id)
        .fetch_optional(&db.pool)
        .await
}

/// The whole organization by onboarding status, team or no team, as the triggers count it.
pub async fn overall(db: &Db, org_id: i64) -> Result<StatusCounts, sqlx::Error> {
    let counts =
        sqlx::query_as("SELECT total, onboarded, notified, connected FROM onboarding_counts WHERE org_id = $1")
            .bind(org_id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(counts.unwrap_or_default())
}

/// The columns of a `TeamMemberRow`, from memberships `m` joined to accounts `a`.
pub const MEMBER_COLUMNS: &str =
    "m.id AS membership_id, a.email, a.first_name, a.last_name, m.status AS membership_status,
        m.notified_at,
        (SELECT external_id FROM identity_mappings i WHERE i.membership_id = m.id AND i.provider = 'slack') AS slack_id,
        (SELECT external_id FROM identity_mappings i WHERE i.membership_id = m.id AND i.provider = 'teams') AS teams_id,
        om.channel AS last_channel, om.status AS last_state, om.error AS last_error, om.created_at AS last_at";

/// The latest onboarding message of each member row.
pub const LAST_MESSAGE_JOIN: &str = "LEFT JOIN onboarding_messages om
        ON om.id = (SELECT MAX(o.id) FROM onboarding_messages o WHERE o.membership_id = m.id)";

/// One page of a team's members by address. The page is read from the team's rows in the
/// (team, address) index (migration 0011); only its rows are joined to accounts, mappings and
/// messages.
pub async fn members(db: &Db, org_id: i64, team_id: i64, page: i64) -> Result<Vec<TeamMemberRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "WITH picked AS (
             SELECT tm.membership_id AS id, tm.email FROM team_members tm
             JOIN teams t ON t.id = tm.team_id
             WHERE t.org_id = $1 AND tm.team_id = $2
             ORDER BY tm.email LIMIT $3 OFFSET $4)
         SELECT {MEMBER_COLUMNS} FROM picked p
         JOIN memberships m ON m.id = p.id
         JOIN accounts a ON a.id = m.account_id
         {LAST_MESSAGE_JOIN}
         ORDER BY p.email"
    ))
    .bind(org_id)
    .bind(team_id)
    .bind(PAGE_SIZE)
    .bind((page.max(1) - 1) * PAGE_SIZE)
    .fetch_all(&db.pool)
    .await
}

/// A team's members who have not onboarded yet: whom "Message team" reaches.
pub async fn not_onboarded(db: &Db, org_id: i64, team_id: i64) -> Result<Vec<TeamMemberRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {MEMBER_COLUMNS} {TEAM_MEMBERS} {LAST_MESSAGE_JOIN}
         WHERE t.org_id = $1 AND tm.team_id = $2 AND NOT {ONBOARDED}
         ORDER BY a.email"
    ))
    .bind(org_id)
    .bind(team_id)
    .fetch_all(&db.pool)
    .await
}

/// One member of the organization, as a dashboard row.
pub async fn member(db: &Db, org_id: i64, membership_id: i64) -> Result<Option<TeamMemberRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {MEMBER_COLUMNS}
         FROM memberships m JOIN accounts a ON a.id = m.account_id
         {LAST_MESSAGE_JOIN}
         WHERE m.org_id = $1 AND m.id = $2"
    ))
    .bind(org_id)
    .bind(membership_id)
    .fetch_optional(&db.pool)
    .await
}

pub async fn create(tx: &mut Transaction<'static, Any>, org_id: i64, name: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO teams (org_id, name, created_at) VALUES ($1, $2, $3) RETURNING id")
        .bind(org_id)
        .bind(name)
        .bind(now_ms())
        .fetch_one(&mut **tx)
        .await
}

pub async fn rename(tx: &mut Transaction<'static, Any>, org_id: i64, id: i64, name: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE teams SET name = $3, modified_at = $4 WHERE id = $2 AND org_id = $1")
        .bind(org_id)
        .bind(id)
        .bind(name)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The team's name, if it is this organization's.
pub async fn name(tx: &mut Transaction<'static, Any>, org_id: i64, id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT name FROM teams WHERE id = $2 AND org_id = $1")
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

pub async fn delete(tx: &mut Transaction<'static, Any>, org_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM team_members WHERE team_id = $2 AND team_id IN (SELECT id FROM teams WHERE org_id = $1)")
        .bind(org_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    let done =
        sqlx::query("DELETE FROM teams WHERE id = $2 AND org_id = $1").bind(org_id).bind(id).execute(&mut **tx).await?;
    Ok(done.rows_affected() == 1)
}

/// Adds members to a team; returns how many were not on it already.
pub async fn add_members(
    tx: &mut Transaction<'static, Any>,
    team_id: i64,
    membership_ids: &[i64],
) -> Result<u64, sqlx::Error> {
    let now = now_ms();
    let mut added = 0;
    for id in membership_ids {
        added += sqlx::query(
            "INSERT INTO team_members (team_id, membership_id, added_at) VALUES ($1, $2, $3)
             ON CONFLICT (team_id, membership_id) DO NOTHING",
        )
        .bind(team_id)
        .bind(id)
        .bind(now)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    }
    Ok(added)
}

pub async fn remove_member(
    tx: &mut Transaction<'static, Any>,
    team_id: i64,
    membership_id: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND membership_id = $2")
        .bind(team_id)
        .bind(membership_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Every team of the organization: (id, name). An import checks its rows' team names against them.
pub async fn all(db: &Db, org_id: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as("SELECT id, name FROM teams WHERE org_id = $1").bind(org_id).fetch_all(&db.pool).await
}

/// A team as SCIM shows it, as a Group (`server::scim::groups`).
#[derive(Debug, sqlx::FromRow)]
pub struct ProvisionedTeam {
    pub id: i64,
    pub name: String,
    pub scim_external_id: Option<String>,
    pub created_at: i64,
    pub modified_at: Option<i64>,
}

const PROVISIONED: &str = "SELECT id, name, scim_external_id, created_at, modified_at FROM teams";

pub async fn provisioned(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    id: i64,
) -> Result<Option<ProvisionedTeam>, sqlx::Error> {
    sqlx::query_as(&format!("{PROVISIONED} WHERE org_id = $1 AND id = $2"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

/// One page of the organization's teams by id, and how many there are.
pub async fn provisioned_page(
    db: &Db,
    org_id: i64,
    offset: i64,
    count: i64,
) -> Result<(Vec<ProvisionedTeam>, i64), sqlx::Error> {
    let rows = sqlx::query_as(&format!("{PROVISIONED} WHERE org_id = $1 ORDER BY id LIMIT $2 OFFSET $3"))
        .bind(org_id)
        .bind(count)
        .bind(offset)
        .fetch_all(&db.pool)
        .await?;
    let total =
        sqlx::query_scalar("SELECT COUNT(*) FROM teams WHERE org_id = $1").bind(org_id).fetch_one(&db.pool).await?;
    Ok((rows, total))
}

pub async fn provisioned_by_ids(db: &Db, org_id: i64, ids: &[i64]) -> Result<Vec<ProvisionedTeam>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("{PROVISIONED} WHERE org_id = $1 AND id IN ({}) ORDER BY id", super::parameters(2, ids.len()));
    let mut query = sqlx::query_as(&sql).bind(org_id);
    for id in ids {
        query = query.bind(*id);
    }
    query.fetch_all(&db.pool).await
}

/// The ids of the organization's teams named `name` in any case (index `teams_by_name`), or
/// with this `externalId`.
pub async fn provisioned_ids(db: &Db, org_id: i64, by_name: bool, value: &str) -> Result<Vec<i64>, sqlx::Error> {
    let sql = if by_name {
        "SELECT id FROM teams WHERE org_id = $1 AND LOWER(name) = LOWER($2)"
    } else {
        "SELECT id FROM teams WHERE org_id = $1 AND scim_external_id = $2"
    };
    sqlx::query_scalar(sql).bind(org_id).bind(value).fetch_all(&db.pool).await
}

/// Each member of a team: the membership's id and address, by address.
pub async fn member_ids(db: &Db, team_id: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as("SELECT membership_id, email FROM team_members WHERE team_id = $1 ORDER BY email")
        .bind(team_id)
        .fetch_all(&db.pool)
        .await
}

/// Saves the client's id for a team and notes the change.
pub async fn set_external_id(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    external_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE teams SET scim_external_id = $2, modified_at = $3 WHERE id = $1")
        .bind(id)
        .bind(external_id)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Creates a team unless one of the organization's teams has the name in any case (one
/// conditional statement, as SCIM compares displayName in any case); `None` when one has.
pub async fn create_distinct(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    name: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO teams (org_id, name, created_at, modified_at) SELECT $1, $2, $3, $3
         WHERE NOT EXISTS (SELECT 1 FROM teams WHERE org_id = $1 AND LOWER(name) = LOWER($2))
         RETURNING id",
    )
    .bind(org_id)
    .bind(name)
    .bind(now_ms())
    .fetch_optional(&mut **tx)
    .await
}

/// Renames a team unless another of the organization's teams has the name in any case; false
/// when one has.
pub async fn rename_distinct(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    id: i64,
    name: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE teams SET name = $3, modified_at = $4 WHERE id = $2 AND org_id = $1
         AND NOT EXISTS (SELECT 1 FROM teams WHERE org_id = $1 AND id <> $2 AND LOWER(name) = LOWER($3))",
    )
    .bind(org_id)
    .bind(id)
    .bind(name)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Notes that the team changed now (SCIM's `meta.lastModified`).
pub async fn touch(tx: &mut Transaction<'static, Any>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE teams SET modified_at = $2 WHERE id = $1").bind(id).bind(now_ms()).execute(&mut **tx).await?;
    Ok(())
}

/// Takes members off a team (all of them when `membership_ids` is `None`); returns how many left.
pub async fn remove_members(
    tx: &mut Transaction<'static, Any>,
    team_id: i64,
    membership_ids: Option<&[i64]>,
) -> Result<u64, sqlx::Error> {
    let Some(ids) = membership_ids else {
        let done = sqlx::query("DELETE FROM team_members WHERE team_id = $1").bind(team_id).execute(&mut **tx).await?;
        return Ok(done.rows_affected());
    };
    let mut removed = 0;
    for id in ids {
        removed += u64::from(remove_member(tx, team_id, *id).await?);
    }
    Ok(removed)
}
