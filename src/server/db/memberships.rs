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

/// Whether the membership is the organization's only active Owner: it may be neither paused
/// nor removed. Counted as [`other_active_owners`] counts, after locking the organization's row.
pub async fn is_last_active_owner(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    membership_id: i64,
) -> Result<bool, sqlx::Error> {
    Ok(is_owner(tx, membership_id).await? && other_active_owners(tx, org_id, membership_id).await? == 0)
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
    // Whoever changes the status owns it now: provisioning sets its mark again after its own.
    let done = sqlx::query(
        "UPDATE memberships SET status = $4, modified_at = $5, scim_deactivated_at = NULL
         WHERE id = $2 AND org_id = $1 AND status = $3",
    )
    .bind(org_id)
    .bind(id)
    .bind(from.key())
    .bind(to.key())
    .bind(super::now_ms())
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

/// A member as SCIM shows it (`server::scim::users`); until registration the names are those
/// the inviter or identity provider gave.
#[derive(Debug, sqlx::FromRow)]
pub struct Provisioned {
    pub id: i64,
    pub email: String,
    /// The client's `userName` where it is not the email address as Onboard writes it.
    pub scim_user_name: Option<String>,
    pub scim_external_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub status: String,
    pub created_at: i64,
    pub modified_at: Option<i64>,
    /// When provisioning made the member inactive, if it did (and nobody has made them active since).
    pub scim_deactivated_at: Option<i64>,
    /// Their role's permissions, stored form.
    pub permissions: String,
}

const PROVISIONED: &str = "SELECT m.id, m.email, m.scim_user_name, m.scim_external_id,
        CASE WHEN a.first_name = '' THEN m.prefill_first_name ELSE a.first_name END AS first_name,
        CASE WHEN a.last_name = '' THEN m.prefill_last_name ELSE a.last_name END AS last_name,
        m.status, m.created_at, m.modified_at, m.scim_deactivated_at, r.permissions
     FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN roles r ON r.id = m.role_id";

/// The member, its row locked until the transaction ends on PostgreSQL (SQLite's write
/// transactions are one at a time already), so two changes at once take turns.
pub async fn provisioned(
    tx: &mut Transaction<'static, Any>,
    backend: super::Backend,
    org_id: i64,
    id: i64,
) -> Result<Option<Provisioned>, sqlx::Error> {
    if backend == super::Backend::Postgres {
        sqlx::query("SELECT id FROM memberships WHERE org_id = $1 AND id = $2 FOR UPDATE")
            .bind(org_id)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query_as(&format!("{PROVISIONED} WHERE m.org_id = $1 AND m.id = $2"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

/// One page of the organization's members by id, and how many there are.
pub async fn provisioned_page(
    db: &Db,
    org_id: i64,
    offset: i64,
    count: i64,
) -> Result<(Vec<Provisioned>, i64), sqlx::Error> {
    let rows = sqlx::query_as(&format!("{PROVISIONED} WHERE m.org_id = $1 ORDER BY m.id LIMIT $2 OFFSET $3"))
        .bind(org_id)
        .bind(count)
        .bind(offset)
        .fetch_all(&db.pool)
        .await?;
    let total = sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE org_id = $1")
        .bind(org_id)
        .fetch_one(&db.pool)
        .await?;
    Ok((rows, total))
}

/// These members of the organization, by id; ids of other organizations' are left out.
/// Which of these ids are memberships of the organization, in the transaction.
pub async fn of_organization(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    ids: &[i64],
) -> Result<Vec<i64>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT id FROM memberships WHERE org_id = $1 AND id IN ({})", super::parameters(2, ids.len()));
    let mut query = sqlx::query_scalar(&sql).bind(org_id);
    for id in ids {
        query = query.bind(*id);
    }
    query.fetch_all(&mut **tx).await
}

pub async fn provisioned_by_ids(db: &Db, org_id: i64, ids: &[i64]) -> Result<Vec<Provisioned>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql =
        format!("{PROVISIONED} WHERE m.org_id = $1 AND m.id IN ({}) ORDER BY m.id", super::parameters(2, ids.len()));
    let mut query = sqlx::query_as(&sql).bind(org_id);
    for id in ids {
        query = query.bind(*id);
    }
    query.fetch_all(&db.pool).await
}

/// What a SCIM filter term can look a member up by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookUp<'a> {
    /// The client's `userName`, in any case: the name kept where it is not the email address
    /// (index `memberships_scim_user_name`), else the email address. `email` is the name in
    /// canonical form where it is an address (lower-cased, an international domain in ASCII).
    UserName {
        name: &'a str,
        email: &'a str,
    },
    ExternalId(&'a str),
    /// A canonical email address.
    Email(&'a str),
    DisplayName(&'a str),
}

/// The ids of the organization's members the lookup finds. Each is an index lookup but
/// `DisplayName`, which reads the organization's members.
pub async fn provisioned_ids(db: &Db, org_id: i64, by: LookUp<'_>) -> Result<Vec<i64>, sqlx::Error> {
    let (sql, value) = match by {
        LookUp::UserName { name, email } => {
            return sqlx::query_scalar(
                "SELECT id FROM memberships
                 WHERE org_id = $1 AND LOWER(scim_user_name) = LOWER($2) AND scim_user_name IS NOT NULL
                 UNION SELECT id FROM memberships WHERE org_id = $1 AND email = $3 AND scim_user_name IS NULL",
            )
            .bind(org_id)
            .bind(name)
            .bind(email)
            .fetch_all(&db.pool)
            .await;
        }
        LookUp::ExternalId(id) => ("SELECT id FROM memberships WHERE org_id = $1 AND scim_external_id = $2", id),
        LookUp::Email(email) => ("SELECT id FROM memberships WHERE org_id = $1 AND email = $2", email),
        LookUp::DisplayName(name) => ("SELECT id FROM memberships WHERE org_id = $1 AND TRIM(full_name) = $2", name),
    };
    sqlx::query_scalar(sql).bind(org_id).bind(value).fetch_all(&db.pool).await
}

/// Notes that provisioning made the member inactive now (`true`), or active again (`false`).
pub async fn mark_deactivated(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    deactivated: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE memberships SET scim_deactivated_at = $2 WHERE id = $1")
        .bind(id)
        .bind(deactivated.then(super::now_ms))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A member as an identity provider creates it.
pub struct NewProvisioned<'a> {
    pub org_id: i64,
    pub account_id: i64,
    pub service_area_id: i64,
    pub role_id: i64,
    pub invited_by: Option<i64>,
    pub fields: &'a ProvisionedFields,
}

/// What a client keeps of a member: its names for them, and the names it gave them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProvisionedFields {
    pub user_name: Option<String>,
    pub external_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
}

/// Makes the membership Pending, new or brought back from Expired; `None` when the account is
/// already Pending, Active or Inactive here (one conditional statement). A `userName` another
/// member has fails the unique index `memberships_scim_user_name`.
pub async fn provision(tx: &mut Transaction<'static, Any>, m: &NewProvisioned<'_>) -> Result<Option<i64>, sqlx::Error> {
    let now = super::now_ms();
    let f = m.fields;
    sqlx::query_scalar(
        "INSERT INTO memberships (org_id, account_id, service_area_id, role_id, status, invited_by, created_at, email,
                                  full_name, prefill_first_name, prefill_last_name, prefill_mobile,
                                  scim_user_name, scim_external_id, modified_at)
         SELECT $1, a.id, $3, $4, 'pending', $5, $6, a.email,
                CASE WHEN a.first_name = '' AND a.last_name = '' THEN TRIM($7 || ' ' || $8)
                     ELSE a.first_name || ' ' || a.last_name END,
                $7, $8, '', $9, $10, $6
         FROM accounts a WHERE a.id = $2
         ON CONFLICT (org_id, account_id) DO UPDATE SET status = 'pending', service_area_id = excluded.service_area_id,
             role_id = excluded.role_id, invited_by = excluded.invited_by, full_name = excluded.full_name,
             prefill_first_name = excluded.prefill_first_name, prefill_last_name = excluded.prefill_last_name,
             scim_user_name = excluded.scim_user_name, scim_external_id = excluded.scim_external_id,
             modified_at = excluded.modified_at, scim_deactivated_at = NULL
         WHERE memberships.status = 'expired'
         RETURNING id",
    )
    .bind(m.org_id)
    .bind(m.account_id)
    .bind(m.service_area_id)
    .bind(m.role_id)
    .bind(m.invited_by)
    .bind(now)
    .bind(&f.first_name)
    .bind(&f.last_name)
    .bind(&f.user_name)
    .bind(&f.external_id)
    .fetch_optional(&mut **tx)
    .await
}

/// Saves what a client keeps of a member. The names are the member's own once they have
/// registered: these stay for the list until then.
pub async fn update_provisioned(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    id: i64,
    f: &ProvisionedFields,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE memberships SET scim_user_name = $3, scim_external_id = $4, prefill_first_name = $5,
             prefill_last_name = $6, modified_at = $7,
             full_name = CASE WHEN (SELECT a.first_name || a.last_name FROM accounts a WHERE a.id = memberships.account_id) = ''
                              THEN TRIM($5 || ' ' || $6) ELSE full_name END
         WHERE org_id = $1 AND id = $2",
    )
    .bind(org_id)
    .bind(id)
    .bind(&f.user_name)
    .bind(&f.external_id)
    .bind(&f.first_name)
    .bind(&f.last_name)
    .bind(super::now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Ends a membership: off its teams, its chat identities unmapped, and gone, with its
/// invitations and onboarding messages. The account stays, with its other memberships.
pub async fn end(tx: &mut Transaction<'static, Any>, org_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    // Row by row first, so the triggers that keep each team's counts see each leave.
    sqlx::query("DELETE FROM team_members WHERE membership_id = $1 AND membership_id IN (SELECT id FROM memberships WHERE org_id = $2)")
        .bind(id)
        .bind(org_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM identity_mappings WHERE membership_id = $1 AND org_id = $2")
        .bind(id)
        .bind(org_id)
        .execute(&mut **tx)
        .await?;
    let done = sqlx::query("DELETE FROM memberships WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(org_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}
