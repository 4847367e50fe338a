use super::{now_ms, Db};
use crate::domain::membership::OrgChoice;
use crate::domain::permissions::builtin_roles;
use crate::domain::settings::OrgGeneral;
use crate::domain::MembershipStatus;
use sqlx::{Any, Transaction};

pub async fn any_exists(db: &Db) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations").fetch_one(&db.pool).await?;
    Ok(n > 0)
}

pub async fn first_id(db: &Db) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM organizations ORDER BY id LIMIT 1").fetch_optional(&db.pool).await
}

/// A new organization with the built-in roles, a first service area, and its owner as an Active member.
pub async fn create_with_owner(
    tx: &mut Transaction<'static, Any>,
    name: &str,
    owner_account_id: i64,
    invite_days: i64,
) -> Result<i64, sqlx::Error> {
    let now = now_ms();
    let org_id: i64 = sqlx::query_scalar(
        "INSERT INTO organizations (name, sender_name, require_2fa, invite_lifetime_days, created_at)
         VALUES ($1, $1, FALSE, $2, $3) RETURNING id",
    )
    .bind(name)
    .bind(invite_days)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    let mut owner_role = 0;
    for (i, (role, permissions)) in builtin_roles().into_iter().enumerate() {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO roles (org_id, name, permissions, locked, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(org_id)
        .bind(role)
        .bind(permissions.to_stored())
        // The Owner role always keeps every permission, so an organization can never lock itself out.
        .bind(i == 0)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        if i == 0 {
            owner_role = id;
        }
    }
    let area_id: i64 = sqlx::query_scalar(
        "INSERT INTO service_areas (org_id, name, created_at) VALUES ($1, 'General', $2) RETURNING id",
    )
    .bind(org_id)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO memberships (org_id, account_id, service_area_id, role_id, status, created_at, activated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(org_id)
    .bind(owner_account_id)
    .bind(area_id)
    .bind(owner_role)
    .bind(MembershipStatus::Active.key())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(org_id)
}

/// Holds the organization's row until the transaction ends, so changes that check, then write
/// its members take turns on PostgreSQL. SQLite's write transaction already holds the database.
pub async fn lock(tx: &mut Transaction<'static, Any>, backend: super::Backend, org_id: i64) -> Result<(), sqlx::Error> {
    if backend == super::Backend::Postgres {
        sqlx::query("SELECT id FROM organizations WHERE id = $1 FOR UPDATE").bind(org_id).execute(&mut **tx).await?;
    }
    Ok(())
}

pub async fn general(db: &Db, org_id: i64) -> Result<Option<OrgGeneral>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, sender_name, require_2fa, invite_lifetime_days, default_country FROM organizations WHERE id = $1",
    )
        .bind(org_id)
        .fetch_optional(&db.pool)
        .await
}

pub async fn update_general(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    general: &OrgGeneral,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE organizations SET name = $2, sender_name = $3, require_2fa = $4, invite_lifetime_days = $5,
         default_country = $6 WHERE id = $1",
    )
    .bind(org_id)
    .bind(&general.name)
    .bind(&general.sender_name)
    .bind(general.require_2fa)
    .bind(general.invite_lifetime_days)
    .bind(&general.default_country)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The organizations an account may act in: Active memberships only.
pub async fn choices_for_account(db: &Db, account_id: i64) -> Result<Vec<OrgChoice>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.id, o.name FROM organizations o JOIN memberships m ON m.org_id = o.id
         WHERE m.account_id = $1 AND m.status = $2 ORDER BY o.name, o.id",
    )
    .bind(account_id)
    .bind(MembershipStatus::Active.key())
    .fetch_all(&db.pool)
    .await
}
