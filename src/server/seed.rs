//! `onboard dev seed`: a large organization for load runs and benchmarks, generated inside the
//! database (a recursive common table expression numbers the rows), so a million members take
//! minutes. Everything goes through the normal tables and triggers, so the dashboard's counts
//! hold. Not for production data: the members have no passwords and their links are dummies.

use super::bootstrap;
use super::db::{self, now_ms};
use super::AppState;
use crate::domain::time::DAY_MS;
use std::time::{Duration, Instant};

/// What to seed.
pub struct Plan {
    pub members: i64,
    pub teams: i64,
    /// The Owner of the new organization, who gets a link to set a password.
    pub owner: String,
    /// Members stored per transaction ([`PER_TRANSACTION`] unless a test wants smaller).
    pub per_transaction: i64,
}

/// What was seeded, and how long it took.
pub struct Seeded {
    pub org_id: i64,
    pub owner_link: String,
    pub elapsed: Duration,
}

/// Service areas in a seeded organization, beside the default one.
const AREAS: i64 = 10;
/// Members stored per transaction by `onboard dev seed`.
pub const PER_TRANSACTION: i64 = 10_000;

/// Leaves a bulk load as a running server's maintenance would: fresh statistics, so the planner
/// sees the new sizes at once, and on PostgreSQL a VACUUM as well. The seed rewrites each team's
/// kept counts again and again, and until a VACUUM every request that reads the teams steps
/// over those dead row versions (27 per team at a million members); index-only scans also need
/// the visibility map that VACUUM sets. Autovacuum would get there too, later, and not where it is
/// turned off.
pub async fn settle(db: &db::Db) -> Result<(), sqlx::Error> {
    let statement = match db.backend {
        db::Backend::Postgres => "VACUUM (ANALYZE)",
        db::Backend::Sqlite => "ANALYZE",
    };
    sqlx::query(statement).execute(&db.pool).await?;
    Ok(())
}

/// A new organization "Seeded N" with `members` members:
/// - statuses: 40% Active, 40% Pending (a quarter of them sent an onboarding message), 10%
///   Inactive, 10% Expired, spread over ten service areas;
/// - one in a thousand a Manager, the rest Members;
/// - each on one of `teams` teams, one in ten on a second;
/// - one in ten mapped to Slack, one in twenty to Microsoft Teams;
/// - Pending and Expired members with an invitation each.
pub async fn large_organization(state: &AppState, plan: &Plan) -> anyhow::Result<Seeded> {
    anyhow::ensure!(plan.members >= 1, "--members must be at least 1");
    anyhow::ensure!(plan.teams >= 1, "--teams must be at least 1");
    let started = Instant::now();
    let name = format!("Seeded {} {}", plan.members, now_ms());
    let owner = bootstrap::create_owner(state, &plan.owner, Some(&name)).await?;
    let (org, now) = (owner.org_id, now_ms());
    let mut tx = state.db.begin().await?;
    let owner_id: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE email = $1")
        .bind(owner.email.as_str())
        .fetch_one(&mut *tx)
        .await?;
    let role = |name: &'static str| {
        sqlx::query_scalar::<_, i64>("SELECT id FROM roles WHERE org_id = $1 AND name = $2").bind(org).bind(name)
    };
    let (member, manager) = (role("Member").fetch_one(&mut *tx).await?, role("Manager").fetch_one(&mut *tx).await?);
    for area in 0..AREAS {
        sqlx::query("INSERT INTO service_areas (org_id, name, created_at) VALUES ($1, $2, $3)")
            .bind(org)
            .bind(format!("Area {area}"))
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    let areas: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM service_areas WHERE org_id = $1 AND name LIKE 'Area %' ORDER BY name")
            .bind(org)
            .fetch_all(&mut *tx)
            .await?;
    let area_of = areas.iter().enumerate().map(|(n, id)| format!("WHEN {n} THEN {id} ")).collect::<String>();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO teams (org_id, name, created_at) SELECT $2, 'Team ' || (i - 1), $3 FROM n",
    )
    .bind(plan.teams)
    .bind(org)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let send: i64 = sqlx::query_scalar(
        "INSERT INTO onboarding_sends (org_id, sender_account_id, custom_text, created_at) VALUES ($1, $2, '', $3)
         RETURNING id",
    )
    .bind(org)
    .bind(owner_id)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    // In chunks, each its own transaction: the triggers that keep the dashboard's counts update
    // one row per member, and PostgreSQL walks every version of that row made in the same
    // transaction, so one transaction of a million would take hours.
    let mut done = 0;
    while done < plan.members {
        let size = plan.per_transaction.max(1).min(plan.members - done);
        let mut tx = state.db.begin().await?;
        let first: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM accounts").fetch_one(&mut *tx).await?;
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM n WHERE i < $4)
             INSERT INTO accounts (email, first_name, last_name, created_at)
             SELECT 'member' || i || '.' || $2 || '@seed.example', 'First' || i, 'Last' || i, $3 FROM n",
        )
        .bind(done + 1)
        .bind(org.to_string())
        .bind(now)
        .bind(done + size)
        .execute(&mut *tx)
        .await?;
        // Spread over the last 90 days; the status follows the account's number.
        sqlx::query(&format!(
            "INSERT INTO memberships (org_id, account_id, service_area_id, role_id, status, invited_by, created_at,
                                      activated_at, notified_at, email, full_name)
             SELECT $1, a.id, CASE a.id % {AREAS} {area_of}END, CASE WHEN a.id % 1000 = 0 THEN $2 ELSE $3 END,
                    CASE WHEN a.id % 10 < 4 THEN 'active' WHEN a.id % 10 < 8 THEN 'pending'
                         WHEN a.id % 10 = 8 THEN 'inactive' ELSE 'expired' END,
                    $4, $5 - (a.id % 90) * {DAY_MS}, CASE WHEN a.id % 10 < 4 OR a.id % 10 = 8 THEN $5 END,
                    CASE WHEN a.id % 10 IN (4, 5, 6, 7) AND a.id % 4 = 0 THEN $5 END,
                    a.email, a.first_name || ' ' || a.last_name
             FROM accounts a WHERE a.id >= $6"
        ))
        .bind(org)
        .bind(manager)
        .bind(member)
        .bind(owner_id)
        .bind(now)
        .bind(first)
        .execute(&mut *tx)
        .await?;
        // Every member on one team; one in ten on the next team too.
        for (offset, who) in [(0, ""), (1, "AND m.id % 10 = 0")] {
            sqlx::query(&format!(
                "INSERT INTO team_members (team_id, membership_id, added_at, email)
                 SELECT t.id, m.id, $3, m.email FROM memberships m JOIN teams t ON t.org_id = m.org_id
                    AND t.name = 'Team ' || ((m.id + {offset}) % $2)
                 WHERE m.org_id = $1 AND m.account_id >= $4 {who}"
            ))
            .bind(org)
            .bind(plan.teams)
            .bind(now)
            .bind(first)
            .execute(&mut *tx)
            .await?;
        }
        for (provider, prefix, every, remainder) in [("slack", "U", 10, 7), ("teams", "aad-", 20, 3)] {
            sqlx::query(&format!(
                "INSERT INTO identity_mappings (org_id, membership_id, provider, external_id, source, created_at)
                 SELECT org_id, id, '{provider}', '{prefix}' || id, 'email', $2 FROM memberships
                 WHERE org_id = $1 AND account_id >= $3 AND id % {every} = {remainder}"
            ))
            .bind(org)
            .bind(now)
            .bind(first)
            .execute(&mut *tx)
            .await?;
        }
        // Links that are no token's hash: nobody can register through a seeded invitation.
        sqlx::query(&format!(
            "INSERT INTO invitations (org_id, membership_id, email, token_hash, invited_by, status, expires_at, created_at)
             SELECT m.org_id, m.id, a.email, 'seeded-' || m.id, $2, m.status,
                    CASE WHEN m.status = 'pending' THEN $3 + 7 * {DAY_MS} ELSE $3 - {DAY_MS} END, m.created_at
             FROM memberships m JOIN accounts a ON a.id = m.account_id
             WHERE m.org_id = $1 AND m.account_id >= $4 AND m.status IN ('pending', 'expired')"
        ))
        .bind(org)
        .bind(owner_id)
        .bind(now)
        .bind(first)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO onboarding_messages (org_id, send_id, membership_id, channel, address, status, created_at, delivered_at)
             SELECT m.org_id, $2, m.id, 'email', a.email, 'delivered', m.notified_at, m.notified_at
             FROM memberships m JOIN accounts a ON a.id = m.account_id
             WHERE m.org_id = $1 AND m.account_id >= $3 AND m.notified_at IS NOT NULL",
        )
        .bind(org)
        .bind(send)
        .bind(first)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        done += size;
    }
    let mut tx = state.db.begin().await?;
    let what = format!("seeded {} members in {} teams", plan.members, plan.teams);
    db::audit::record(&mut tx, org, owner_id, "dev.seed", &what).await?;
    tx.commit().await?;
    settle(&state.db).await?;
    Ok(Seeded { org_id: org, owner_link: owner.link, elapsed: started.elapsed() })
}
