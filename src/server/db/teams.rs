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
    let done = sqlx::query("UPDATE teams SET name = $3 WHERE id = $2 AND org_id = $1")
        .bind(org_id)
        .bind(id)
        .bind(name)
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
