//! The 100,000-member organization the benchmarks and the load run measure, on either database.

use onboard::server::{bootstrap, db, AppState};

/// 100,000 members (40% registered) in 1,000 teams of 100, some mapped to Slack and some
/// notified, plus a team "Big" of 1,000 people still to register, in a new organization whose
/// Owner `owner_email` has `password`. Returns the organization and team Big.
pub async fn hundred_thousand(state: &AppState, owner_email: &str, password: &str) -> (i64, i64) {
    let owner = bootstrap::create_owner(state, owner_email, Some("Bench")).await.unwrap();
    let org = owner.org_id;
    let mut tx = state.db.pool.begin().await.unwrap();
    for chunk in (0..101_000).collect::<Vec<i64>>().chunks(500) {
        let rows: Vec<String> =
            chunk.iter().map(|i| format!("('member{i:06}@bench.example', 'First{i}', 'Last{i}', 0)")).collect();
        sqlx::query(&format!(
            "INSERT INTO accounts (email, first_name, last_name, created_at) VALUES {}",
            rows.join(", ")
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    let role: i64 = sqlx::query_scalar("SELECT id FROM roles WHERE org_id = $1 AND name = 'Member'")
        .bind(org)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO memberships (org_id, account_id, role_id, status, created_at, notified_at)
         SELECT $1, id, $2, CASE WHEN id % 5 < 2 AND email < 'member100000' THEN 'active' ELSE 'pending' END, 0,
                CASE WHEN id % 10 = 3 AND email < 'member100000' THEN 1 ELSE NULL END
         FROM accounts WHERE email LIKE 'member%'",
    )
    .bind(org)
    .bind(role)
    .execute(&mut *tx)
    .await
    .unwrap();
    for chunk in (0..1_000).collect::<Vec<i64>>().chunks(500) {
        let rows: Vec<String> = chunk.iter().map(|i| format!("({org}, 'Team {i:04}', 0)")).collect();
        sqlx::query(&format!("INSERT INTO teams (org_id, name, created_at) VALUES {}", rows.join(", ")))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    let big: i64 =
        sqlx::query_scalar("INSERT INTO teams (org_id, name, created_at) VALUES ($1, 'Big', 0) RETURNING id")
            .bind(org)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    sqlx::query(
        "INSERT INTO team_members (team_id, membership_id, added_at)
         SELECT t.id, m.id, 0 FROM memberships m JOIN accounts a ON a.id = m.account_id
         JOIN teams t ON t.org_id = m.org_id AND t.name = 'Team 0' || substr(a.email, 10, 3)
         WHERE m.org_id = $1 AND a.email < 'member100000'",
    )
    .bind(org)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO team_members (team_id, membership_id, added_at)
         SELECT $2, m.id, 0 FROM memberships m JOIN accounts a ON a.id = m.account_id
         WHERE m.org_id = $1 AND a.email >= 'member100000' AND a.email LIKE 'member%'",
    )
    .bind(org)
    .bind(big)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO identity_mappings (org_id, membership_id, provider, external_id, external_name, source, created_at)
         SELECT org_id, id, 'slack', 'U' || id, '', 'email', 0 FROM memberships WHERE org_id = $1 AND id % 10 = 7",
    )
    .bind(org)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    sqlx::query("ANALYZE").execute(&state.db.pool).await.unwrap();
    let account =
        onboard::server::sign_in::hash_password(onboard::server::secret::Secret::new(password)).await.unwrap();
    let owner_account: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE email = $1")
        .bind(owner_email)
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    let mut tx = state.db.pool.begin().await.unwrap();
    db::accounts::set_password_hash(&mut tx, owner_account, &account).await.unwrap();
    tx.commit().await.unwrap();
    (org, big)
}
