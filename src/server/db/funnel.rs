//! The onboarding funnel (migration 0020): registering marks in `membership_funnel` when a
//! membership first reached each step it records, and the funnel counts invited members by the furthest step
//! they reached, with the median time of each step.

use super::{now_ms, Db};
use crate::domain::funnel::{FunnelScope, FunnelStage, FunnelStep, ScopeChoice};
use crate::domain::time::format_utc;

/// A step registering records on the membership. Invited (the membership's creation), Delivered
/// (the invitation emails' outbox jobs) and Active (`activated_at`) are recorded where they happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    LinkOpened,
    /// The link was opened as a mail scanner opens links ([`crate::domain::funnel::possible_scanner`]).
    PossibleScannerOpen,
    DetailsEntered,
    SecondFactorSet,
    AgreementAccepted,
}

impl Mark {
    fn column(self) -> &'static str {
        match self {
            Self::LinkOpened => "link_opened_at",
            Self::PossibleScannerOpen => "scanner_opened_at",
            Self::DetailsEntered => "details_at",
            Self::SecondFactorSet => "second_factor_at",
            Self::AgreementAccepted => "agreement_at",
        }
    }
}

/// Records that the membership reached `mark` now, unless it already had: each step keeps the
/// first time it was reached.
pub async fn mark<'e, E>(e: E, membership_id: i64, mark: Mark) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let column = mark.column();
    sqlx::query(&format!(
        "INSERT INTO membership_funnel (membership_id, {column}) VALUES ($1, $2)
         ON CONFLICT (membership_id) DO UPDATE SET {column} = excluded.{column} WHERE membership_funnel.{column} IS NULL"
    ))
        .bind(membership_id)
        .bind(now_ms())
        .execute(e)
        .await?;
    Ok(())
}

/// What the steps' counts are made of: the membership's times, ms since the epoch.
const STEP_TIMES: [&str; 7] =
    ["invited_at", "delivered_at", "opened_at", "details_at", "second_factor_at", "agreement_at", "activated_at"];

/// Where the steps registering records begin in [`STEP_TIMES`].
const DETAILS: usize = 3;

/// The time from the latest earlier step recorded to step `i`, never negative (an open can be
/// recorded a moment before the delivery it raced): NULL when step `i` has no time. A step after
/// Details entered is timed only from a registration step: members who registered before the
/// funnel was recorded have none, and timing their activation from the invitation would mix
/// days into what takes seconds.
fn since_previous(i: usize) -> String {
    let to = STEP_TIMES[i];
    let first = if i > DETAILS { DETAILS } else { 0 };
    let earlier: Vec<&str> = STEP_TIMES[first..i].iter().rev().copied().collect();
    // SQLite's COALESCE wants two arguments at least.
    let from = match earlier.as_slice() {
        [only] => only.to_string(),
        several => format!("COALESCE({})", several.join(", ")),
    };
    format!("CASE WHEN {to} < {from} THEN 0 ELSE {to} - {from} END")
}

/// The counts of a scope's invited members (`m.invited_by` set: the bootstrap Owner was not
/// invited) by step, with each step's median time and the two side counts. One statement: the
/// members are read once (`f`), their steps and times worked out once (`d`) and each step's
/// times counted in one pass (`n`); then they are counted by step, and each step's times sorted
/// for its median (the lower middle of an even count).
/// The scope's id must be the organization's (see [`scope_label`]).
pub async fn stages(db: &Db, org_id: i64, scope: FunnelScope) -> Result<(Vec<FunnelStage>, i64, i64), sqlx::Error> {
    let within = match scope {
        FunnelScope::Organization => "",
        // A resent invitation stays in its batch, so each member is in it once.
        FunnelScope::Batch(_) => "AND m.id IN (SELECT membership_id FROM invitations WHERE batch_id = $2)",
        FunnelScope::ServiceArea(_) => "AND m.service_area_id = $2",
        FunnelScope::Team(_) => "AND m.id IN (SELECT membership_id FROM team_members WHERE team_id = $2)",
    };
    let pending = super::eula::agreement_pending("m.account_id", "$1");
    let deltas: Vec<String> = (1..STEP_TIMES.len()).map(|i| format!("{} AS d{i}", since_previous(i))).collect();
    let reached: Vec<String> =
        (1..STEP_TIMES.len()).map(|i| format!("COALESCE(SUM(CASE WHEN stage >= {i} THEN 1 ELSE 0 END), 0)")).collect();
    let medians: Vec<String> = (1..STEP_TIMES.len())
        .map(|i| format!("(SELECT d{i} FROM d WHERE d{i} IS NOT NULL ORDER BY d{i} LIMIT 1 OFFSET (SELECT (n{i} - 1) / 2 FROM n))"))
        .collect();
    let timed: Vec<String> = (1..STEP_TIMES.len()).map(|i| format!("COUNT(d{i}) AS n{i}")).collect();
    // The whole organization reads every invitation email's outcome anyway: grouped once, then
    // joined (4.3 s against 6.8 s at a million members on PostgreSQL). A part of it looks each
    // member's up instead.
    let (delivered, delivered_join) = match scope {
        FunnelScope::Organization => (
            "dl.delivered_at",
            "LEFT JOIN (SELECT i.membership_id, MIN(j.done_at) AS delivered_at
                        FROM invitations i JOIN outbox_jobs j ON j.id = i.outbox_job_id
                        WHERE i.org_id = $1 AND j.status = 'done' GROUP BY i.membership_id) dl ON dl.membership_id = m.id",
        ),
        _ => (
            "(SELECT MIN(j.done_at) FROM invitations i JOIN outbox_jobs j ON j.id = i.outbox_job_id
              WHERE i.membership_id = m.id AND j.status = 'done')",
            "",
        ),
    };
    // `f` is materialized so that the delivery is read once per member: inlined, PostgreSQL
    // repeated its subquery for every expression naming it.
    let sql = format!(
        "WITH f AS MATERIALIZED (
           SELECT m.created_at AS invited_at, {delivered} AS delivered_at,
                  mf.link_opened_at, mf.scanner_opened_at, mf.details_at, mf.second_factor_at, mf.agreement_at,
                  m.activated_at, CASE WHEN m.status = 'active' AND {pending} THEN 1 ELSE 0 END AS agreement_pending
           FROM memberships m LEFT JOIN membership_funnel mf ON mf.membership_id = m.id {delivered_join}
           WHERE m.org_id = $1 AND m.invited_by IS NOT NULL {within}
         ),
         d AS MATERIALIZED (
           SELECT stage, agreement_pending,
                  CASE WHEN stage = 1 AND scanner_opened_at IS NOT NULL THEN 1 ELSE 0 END AS scanner_only,
                  {deltas}
           FROM (SELECT s.*, CASE WHEN stage >= 2 THEN COALESCE(link_opened_at, scanner_opened_at) END AS opened_at
                 FROM (SELECT f.*,
                              CASE WHEN activated_at IS NOT NULL THEN 6 WHEN agreement_at IS NOT NULL THEN 5
                                   WHEN second_factor_at IS NOT NULL THEN 4 WHEN details_at IS NOT NULL THEN 3
                                   WHEN link_opened_at IS NOT NULL THEN 2 WHEN delivered_at IS NOT NULL THEN 1
                                   ELSE 0 END AS stage
                       FROM f) s) o
         ),
         n AS MATERIALIZED (SELECT {timed} FROM d)
         SELECT COUNT(*), {reached}, COALESCE(SUM(scanner_only), 0), COALESCE(SUM(agreement_pending), 0), {medians}
         FROM d",
        deltas = deltas.join(", "),
        reached = reached.join(", "),
        medians = medians.join(", "),
        timed = timed.join(", "),
    );
    let mut query = sqlx::query(&sql).bind(org_id);
    if let Some(id) = scope.id() {
        query = query.bind(id);
    }
    let row = query.fetch_one(&db.pool).await?;
    use sqlx::Row;
    let steps = FunnelStep::ALL.len();
    let mut stages = Vec::with_capacity(steps);
    for (i, step) in FunnelStep::ALL.into_iter().enumerate() {
        let median_ms = match i {
            0 => None,
            i => row.try_get::<Option<i64>, _>(steps + 2 + i - 1)?,
        };
        stages.push(FunnelStage { step, reached: row.try_get(i)?, median_ms });
    }
    Ok((stages, row.try_get(steps)?, row.try_get(steps + 1)?))
}

/// What the funnel of `scope` is called, once the scope is found to be the organization's; none
/// when it is not.
pub async fn scope_label(db: &Db, org_id: i64, scope: FunnelScope) -> Result<Option<String>, sqlx::Error> {
    let label = match scope {
        FunnelScope::Organization => Some("Whole organization".to_string()),
        FunnelScope::Batch(id) => {
            let batch = super::invite_batches::batch(db, org_id, id).await?;
            batch.map(|b| batch_label(b.created_at, &b.area))
        }
        FunnelScope::ServiceArea(id) => {
            sqlx::query_scalar::<_, String>("SELECT name FROM service_areas WHERE org_id = $1 AND id = $2")
                .bind(org_id)
                .bind(id)
                .fetch_optional(&db.pool)
                .await?
                .map(|name| format!("Service area {name}"))
        }
        FunnelScope::Team(id) => {
            sqlx::query_scalar::<_, String>("SELECT name FROM teams WHERE org_id = $1 AND id = $2")
                .bind(org_id)
                .bind(id)
                .fetch_optional(&db.pool)
                .await?
                .map(|name| format!("Team {name}"))
        }
    };
    Ok(label)
}

fn batch_label(created_at: i64, area: &str) -> String {
    format!("Batch of {} · {area}", format_utc(created_at))
}

/// How many of the latest batches the picker offers; an older one is reached from its page.
pub const RECENT_BATCHES: i64 = 50;

/// The scopes the picker offers: the organization, its latest batches, its service areas and
/// its teams.
pub async fn choices(db: &Db, org_id: i64) -> Result<Vec<ScopeChoice>, sqlx::Error> {
    let choice = |scope, label| ScopeChoice { scope, label };
    let mut choices = vec![choice(FunnelScope::Organization, "Whole organization".to_string())];
    let batches: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT b.id, b.created_at, s.name FROM invite_batches b JOIN service_areas s ON s.id = b.service_area_id
         WHERE b.org_id = $1 ORDER BY b.id DESC LIMIT $2",
    )
    .bind(org_id)
    .bind(RECENT_BATCHES)
    .fetch_all(&db.pool)
    .await?;
    choices.extend(batches.into_iter().map(|(id, at, area)| choice(FunnelScope::Batch(id), batch_label(at, &area))));
    let areas = super::service_areas::list(db, org_id).await?;
    choices
        .extend(areas.into_iter().map(|a| choice(FunnelScope::ServiceArea(a.id), format!("Service area {}", a.name))));
    let mut teams = super::teams::all(db, org_id).await?;
    teams.sort_by(|a, b| a.1.to_lowercase().cmp(&b.1.to_lowercase()));
    choices.extend(teams.into_iter().map(|(id, name)| choice(FunnelScope::Team(id), format!("Team {name}"))));
    Ok(choices)
}
