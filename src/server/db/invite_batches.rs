//! Batches of invitations: the batch with what was not invited, its delivery as the batch page
//! shows it, and storing its addresses a part at a time.

use super::{now_ms, Backend, Db};
use crate::domain::invites::FailedDelivery;
use crate::domain::invites::{ClassifiedEntry, SHOWN_ENTRIES};
use sqlx::{Any, Transaction};
use std::collections::HashMap;

/// The entries of a batch that were not invited, as `invite_batches.not_invited` keeps them:
/// the first `SHOWN_ENTRIES` and how many in all. Batches stored before kept the whole list.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct NotInvited {
    pub shown: Vec<ClassifiedEntry>,
    pub total: usize,
}

impl NotInvited {
    pub fn read(json: &str) -> Self {
        serde_json::from_str(json).unwrap_or_else(|_| {
            let all: Vec<ClassifiedEntry> = serde_json::from_str(json).unwrap_or_default();
            Self { total: all.len(), shown: all.into_iter().take(SHOWN_ENTRIES).collect() }
        })
    }
}

pub struct NewBatch<'a> {
    pub org_id: i64,
    pub inviter: i64,
    pub area_id: i64,
    pub role_id: i64,
    pub not_invited_json: &'a str,
    /// The people after those stored with the answer, as a JSON array of [`Invitee`], and how many:
    /// the outbox stores them later ([`deferred`]). `None` when the answer stores them all.
    pub deferred: Option<(&'a str, usize)>,
}

pub async fn create_batch(tx: &mut Transaction<'static, Any>, b: &NewBatch<'_>) -> Result<i64, sqlx::Error> {
    let id = sqlx::query_scalar(
        "INSERT INTO invite_batches (org_id, inviter_account_id, service_area_id, role_id, not_invited, created_at,
                                    deferred_total)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(b.org_id)
    .bind(b.inviter)
    .bind(b.area_id)
    .bind(b.role_id)
    .bind(b.not_invited_json)
    .bind(now_ms())
    .bind(b.deferred.map_or(0, |(_, n)| n as i64))
    .fetch_one(&mut **tx)
    .await?;
    if let Some((addresses, _)) = b.deferred {
        sqlx::query("INSERT INTO deferred_addresses (batch_id, addresses) VALUES ($1, $2)")
            .bind(id)
            .bind(addresses)
            .execute(&mut **tx)
            .await?;
    }
    Ok(id)
}

/// Names the outbox job that stores the batch's deferred addresses, for the batch page to tell
/// when it failed for good.
pub async fn set_deferred_job(
    tx: &mut Transaction<'static, Any>,
    batch_id: i64,
    job_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE invite_batches SET deferred_job_id = $2 WHERE id = $1")
        .bind(batch_id)
        .bind(job_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
pub struct BatchSummary {
    pub area: String,
    pub role: String,
    pub not_invited: String,
    pub created_at: i64,
}

pub async fn batch(db: &Db, org_id: i64, id: i64) -> Result<Option<BatchSummary>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.name AS area, r.name AS role, b.not_invited, b.created_at
         FROM invite_batches b JOIN service_areas s ON s.id = b.service_area_id JOIN roles r ON r.id = b.role_id
         WHERE b.id = $2 AND b.org_id = $1",
    )
    .bind(org_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

/// How the batch's emails stand in the outbox: (status, count), and its addresses not stored yet
/// as `preparing`, or as `unstored` once the job storing them failed for good.
pub async fn batch_delivery(db: &Db, batch_id: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
    // A replaced invitation has a newer one standing for it. One statement reads one snapshot:
    // a part stored between two reads would be counted twice.
    sqlx::query_as(
        "SELECT j.status, COUNT(*) FROM invitations i JOIN outbox_jobs j ON j.id = i.outbox_job_id
         WHERE i.batch_id = $1 AND i.status <> 'replaced' GROUP BY j.status
         UNION ALL
         SELECT CASE WHEN j.status = 'failed' THEN 'unstored' ELSE 'preparing' END, b.deferred_total - b.deferred_stored
         FROM invite_batches b LEFT JOIN outbox_jobs j ON j.id = b.deferred_job_id
         WHERE b.id = $1 AND b.deferred_stored < b.deferred_total",
    )
    .bind(batch_id)
    .fetch_all(&db.pool)
    .await
}

/// Invitations in the batch whose email could not be delivered, with the reason.
/// The first `limit` of a batch's invitations whose email failed for good, by address.
pub async fn batch_failures(db: &Db, batch_id: i64, limit: usize) -> Result<Vec<FailedDelivery>, sqlx::Error> {
    sqlx::query_as(
        "SELECT i.id AS invitation, i.email, j.last_error AS reason FROM invitations i
         JOIN outbox_jobs j ON j.id = i.outbox_job_id
         WHERE i.batch_id = $1 AND i.status = 'pending' AND j.status = 'failed' ORDER BY i.email LIMIT $2",
    )
    .bind(batch_id)
    .bind(limit as i64)
    .fetch_all(&db.pool)
    .await
}

/// One person a batch invites: where, as what, on which teams, and what the sheet said of
/// them to prefill their registration (empty when nothing). A pasted address has the page's
/// area and role and nothing else.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Invitee {
    #[serde(rename = "e")]
    pub email: String,
    #[serde(rename = "a")]
    pub area_id: i64,
    #[serde(rename = "r")]
    pub role_id: i64,
    #[serde(rename = "t", default, skip_serializing_if = "Vec::is_empty")]
    pub team_ids: Vec<i64>,
    #[serde(rename = "f", default)]
    pub first_name: String,
    #[serde(rename = "l", default)]
    pub last_name: String,
    #[serde(rename = "m", default)]
    pub mobile: String,
}

impl Invitee {
    /// A pasted address, with the page's choices.
    pub fn pasted(email: String, area_id: i64, role_id: i64) -> Self {
        Invitee {
            email,
            area_id,
            role_id,
            team_ids: Vec::new(),
            first_name: String::new(),
            last_name: String::new(),
            mobile: String::new(),
        }
    }
}

/// One person of a batch, ready to store: their token's hash and their email as a sealed
/// outbox payload.
pub struct BatchItem {
    pub invitee: Invitee,
    pub token_hash: String,
    pub subject: String,
    /// The job's JSON, sealed already (`sealing::OUTBOX_PAYLOAD`): sealing is CPU work that
    /// runs beside the statements of the part before.
    pub sealed_payload: String,
}

pub struct BatchTarget {
    pub org_id: i64,
    pub batch_id: i64,
    pub inviter: i64,
    pub expires_at: i64,
    pub max_attempts: i64,
    /// When the invitations' first automatic reminder falls due: [`super::reminders::first_due`].
    pub next_reminder_at: Option<i64>,
}

/// How many addresses of a batch one round of `store_batch` statements takes: large enough that
/// the statements' fixed costs vanish, small enough that the rows' JSON stays a few megabytes.
pub const STORE_CHUNK: usize = 5_000;

/// Stores part of a batch (up to [`STORE_CHUNK`] addresses) with one statement per table, each
/// taking its rows as one JSON parameter: accounts, pending memberships, the end of earlier
/// links, outbox jobs and invitations. Only the memberships this part made pending (new, or
/// expired before) get an invitation and an email: an address that became a member or was
/// invited by someone else meanwhile is left as it is. Returns the invitations made.
pub async fn store_batch(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    t: &BatchTarget,
    items: &[BatchItem],
) -> Result<Vec<i64>, sqlx::Error> {
    let now = now_ms();
    let emails =
        serde_json::to_string(&items.iter().map(|i| &i.invitee.email).collect::<Vec<_>>()).expect("strings serialize");
    let invitees =
        serde_json::to_string(&items.iter().map(|i| &i.invitee).collect::<Vec<_>>()).expect("invitees serialize");

    // `WHERE true` tells SQLite's parser that ON CONFLICT belongs to the INSERT, not a join. The
    // CROSS JOIN below fixes SQLite's join order: the JSON rows outside, the indexed table inside.
    sqlx::query(&format!(
        "INSERT INTO accounts (email, first_name, last_name, created_at)
         SELECT value, '', '', $1 FROM {} WHERE true ON CONFLICT (email) DO NOTHING",
        backend.json_rows(2, true)
    ))
    .bind(now)
    .bind(&emails)
    .execute(&mut **tx)
    .await?;

    // RETURNING names the memberships inserted or brought back from expired: the ones to invite.
    // Until they register, the list shows the name the sheet gave for someone Onboard has none of.
    let memberships: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(&format!(
        "INSERT INTO memberships (org_id, account_id, service_area_id, role_id, status, invited_by, created_at,
                                  email, full_name, prefill_first_name, prefill_last_name, prefill_mobile)
         SELECT $1, a.id, CAST(e.value ->> 'a' AS BIGINT), CAST(e.value ->> 'r' AS BIGINT), 'pending', $2, $3, a.email,
                CASE WHEN a.first_name = '' AND a.last_name = ''
                     THEN COALESCE(e.value ->> 'f', '') || ' ' || COALESCE(e.value ->> 'l', '')
                     ELSE a.first_name || ' ' || a.last_name END,
                COALESCE(e.value ->> 'f', ''), COALESCE(e.value ->> 'l', ''), COALESCE(e.value ->> 'm', '')
         FROM {} e CROSS JOIN accounts a WHERE a.email = e.value ->> 'e'
         ON CONFLICT (org_id, account_id) DO UPDATE SET status = 'pending', service_area_id = excluded.service_area_id,
             role_id = excluded.role_id, invited_by = excluded.invited_by, full_name = excluded.full_name,
             prefill_first_name = excluded.prefill_first_name, prefill_last_name = excluded.prefill_last_name,
             prefill_mobile = excluded.prefill_mobile, scim_deactivated_at = NULL
         WHERE memberships.status = 'expired'
         RETURNING email, id",
        backend.json_rows(4, false)
    ))
    .bind(t.org_id)
    .bind(t.inviter)
    .bind(now)
    .bind(&invitees)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .collect();
    let invited: Vec<(&BatchItem, i64)> =
        items.iter().filter_map(|i| memberships.get(&i.invitee.email).map(|&m| (i, m))).collect();
    if invited.is_empty() {
        return Ok(Vec::new());
    }

    // The teams a sheet named, those still in this organization.
    let on_teams: Vec<(i64, i64)> =
        invited.iter().flat_map(|(i, m)| i.invitee.team_ids.iter().map(move |t| (*t, *m))).collect();
    if !on_teams.is_empty() {
        let json = serde_json::to_string(&on_teams).expect("numbers serialize");
        sqlx::query(&format!(
            "INSERT INTO team_members (team_id, membership_id, added_at)
             SELECT t.id, CAST(value ->> 1 AS BIGINT), $2 FROM {} e CROSS JOIN teams t
             WHERE t.id = CAST(e.value ->> 0 AS BIGINT) AND t.org_id = $1
             ON CONFLICT (team_id, membership_id) DO NOTHING",
            backend.json_rows(3, false)
        ))
        .bind(t.org_id)
        .bind(now)
        .bind(&json)
        .execute(&mut **tx)
        .await?;
    }
    let membership_ids =
        serde_json::to_string(&invited.iter().map(|(_, m)| m).collect::<Vec<_>>()).expect("numbers serialize");

    // Re-invited people (their earlier invitation expired): that link stops working.
    sqlx::query(&format!(
        "UPDATE invitations SET status = 'replaced' WHERE status IN ('pending', 'expired') AND membership_id IN
            (SELECT CAST(value AS BIGINT) FROM {})",
        backend.json_rows(1, true)
    ))
    .bind(&membership_ids)
    .execute(&mut **tx)
    .await?;

    #[derive(serde::Serialize)]
    struct JobRow<'a> {
        e: &'a str,
        s: &'a str,
        p: &'a str,
    }
    let jobs_json = serde_json::to_string(
        &invited
            .iter()
            .map(|(i, _)| JobRow { e: &i.invitee.email, s: &i.subject, p: &i.sealed_payload })
            .collect::<Vec<_>>(),
    )
    .expect("strings serialize");
    let jobs: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(&format!(
        "INSERT INTO outbox_jobs (org_id, kind, recipient, subject, payload, status, attempts, max_attempts, run_at, created_at)
         SELECT $1, 'email', value ->> 'e', value ->> 's', value ->> 'p', 'queued', 0, $2, $3, $3 FROM {}
         RETURNING recipient, id",
        backend.json_rows(4, false)
    ))
    .bind(t.org_id)
    .bind(t.max_attempts)
    .bind(now)
    .bind(&jobs_json)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .collect();

    #[derive(serde::Serialize)]
    struct InvitationRow<'a> {
        e: &'a str,
        t: &'a str,
        m: i64,
        j: i64,
    }
    let invitations_json = serde_json::to_string(
        &invited
            .iter()
            .map(|&(i, m)| InvitationRow { e: &i.invitee.email, t: &i.token_hash, m, j: jobs[&i.invitee.email] })
            .collect::<Vec<_>>(),
    )
    .expect("strings serialize");
    sqlx::query_scalar(&format!(
        "INSERT INTO invitations (org_id, membership_id, batch_id, email, token_hash, invited_by, status, expires_at, outbox_job_id,
                                  created_at, next_reminder_at)
         SELECT $1, CAST(value ->> 'm' AS BIGINT), $2, value ->> 'e', value ->> 't', $3, 'pending', $4,
                CAST(value ->> 'j' AS BIGINT), $5, CAST($7 AS BIGINT)
         FROM {}
         RETURNING id",
        backend.json_rows(6, false)
    ))
    .bind(t.org_id)
    .bind(t.batch_id)
    .bind(t.inviter)
    .bind(t.expires_at)
    .bind(now)
    .bind(&invitations_json)
    .bind(t.next_reminder_at)
    .fetch_all(&mut **tx)
    .await
}

/// A batch's deferred people, and how many of them are stored.
pub struct DeferredBatch {
    pub org_id: i64,
    pub inviter: i64,
    pub stored: i64,
    pub total: i64,
    /// All of them, the stored ones first.
    pub invitees: Vec<Invitee>,
}

/// One deferred person as kept: batches stored before sheets could be imported kept only the
/// address, to invite with the batch's area and role.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Deferred {
    Address(String),
    Invitee(Invitee),
}

/// Batch `batch_id`'s deferred people, or `None` when all are stored (or the batch is gone
/// with its organization).
pub async fn deferred(db: &Db, batch_id: i64) -> Result<Option<DeferredBatch>, sqlx::Error> {
    let row: Option<(i64, i64, i64, i64, i64, i64, String)> = sqlx::query_as(
        "SELECT b.org_id, b.inviter_account_id, b.service_area_id, b.role_id, b.deferred_stored, b.deferred_total,
                d.addresses
         FROM invite_batches b JOIN deferred_addresses d ON d.batch_id = b.id WHERE b.id = $1",
    )
    .bind(batch_id)
    .fetch_optional(&db.pool)
    .await?;
    let Some((org_id, inviter, area_id, role_id, stored, total, json)) = row else { return Ok(None) };
    let kept: Vec<Deferred> = serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    let invitees = kept
        .into_iter()
        .map(|d| match d {
            Deferred::Address(email) => Invitee::pasted(email, area_id, role_id),
            Deferred::Invitee(invitee) => invitee,
        })
        .collect();
    Ok(Some(DeferredBatch { org_id, inviter, stored, total, invitees }))
}

/// Moves the batch's progress from `from` to `to` (of `total`) in the part's transaction;
/// `false` when it no longer stands at `from` (another run stored that part). The list goes
/// with the last part.
pub async fn mark_deferred_stored(
    tx: &mut Transaction<'static, Any>,
    batch_id: i64,
    from: i64,
    to: i64,
    total: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE invite_batches SET deferred_stored = $3 WHERE id = $1 AND deferred_stored = $2")
        .bind(batch_id)
        .bind(from)
        .bind(to)
        .execute(&mut **tx)
        .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    if to >= total {
        sqlx::query("DELETE FROM deferred_addresses WHERE batch_id = $1").bind(batch_id).execute(&mut **tx).await?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deferred_people_are_read_in_both_kept_forms() {
        let kept = r#"["old@example.com", {"e": "new@example.com", "a": 3, "r": 4, "t": [5], "f": "Ada"}]"#;
        let read: Vec<Deferred> = serde_json::from_str(kept).unwrap();
        let [Deferred::Address(old), Deferred::Invitee(new)] = &read[..] else { panic!("both forms are read") };
        assert_eq!(Invitee::pasted(old.clone(), 1, 2), Invitee::pasted("old@example.com".into(), 1, 2));
        assert_eq!(
            (new.area_id, new.role_id, new.team_ids.as_slice(), new.first_name.as_str()),
            (3, 4, &[5][..], "Ada")
        );
        assert_eq!((new.last_name.as_str(), new.mobile.as_str()), ("", ""));
        let written = serde_json::to_string(&Invitee::pasted("p@example.com".into(), 1, 2)).unwrap();
        assert_eq!(written, r#"{"e":"p@example.com","a":1,"r":2,"f":"","l":"","m":""}"#);
    }
}
