//! The server key's check row, unlocking the key against it at every start, and sealing the
//! secret columns as a whole: once when sealing is first switched on (rows written before it),
//! and when the key is rotated.

use super::{now_ms, Backend};
use crate::server::config::Settings;
use crate::server::keys::{self, KeySource};
use crate::server::sealing::{self, Column, ServerKey};
use anyhow::{bail, Context};
use sqlx::{Any, AnyPool, Transaction};
use std::path::PathBuf;

/// The key, read before migrations run and checked against the one the database recorded, so a
/// start with a wrong, malformed or missing key fails having changed nothing.
pub struct Unlocked {
    pub key: ServerKey,
    source: KeySource,
    /// False on the first start with sealing: `seal_existing` is still to run.
    recorded: bool,
    /// The key file this start created, removed again if another instance's key won.
    created: Option<PathBuf>,
}

/// Reads the key (creating the key file of a new SQLite database) and checks it against the
/// database's check row, if the database has one yet.
pub async fn unlock(pool: &AnyPool, backend: Backend, settings: &Settings) -> anyhow::Result<Unlocked> {
    let source = keys::source_of(settings)?;
    let recorded = recorded_check_if_migrated(pool).await?;
    let mut created = None;
    let key = match &source {
        KeySource::Environment => ServerKey::from_base64(settings.security.secret_key.expose())
            .map_err(|e| anyhow::anyhow!("ONBOARD_SECRET_KEY: {e}"))?,
        KeySource::Ephemeral => ServerKey::generate().0,
        KeySource::File(path) => match keys::read_key_file(path)? {
            Some(key) => key,
            None if recorded.is_some() => bail!(
                "this database's secrets are sealed under a key whose file {} is missing; restore it or \
                 set ONBOARD_SECRET_KEY to that key. Nothing was changed.",
                path.display()
            ),
            // Instances on PostgreSQL must share one key: a file each host made up would differ.
            None if backend == Backend::Postgres => bail!(
                "the key file {} does not exist: write the shared key into it (`onboard keys generate` \
                 prints a new one) or set ONBOARD_SECRET_KEY",
                path.display()
            ),
            None => {
                let key = keys::create_key_file(path)?;
                created = Some(path.clone());
                key
            }
        },
    };
    let key = match &recorded {
        None => key,
        Some((_, sealed)) if opens_check(&key, sealed) => key,
        Some((recorded_id, sealed)) => {
            match keys::key_file_left_by_rotation(&source, |key| opens_check(key, sealed))? {
                Some(rotated) => rotated,
                None => bail!(
                    "the secret key from {source} (id {}) is not the key this database's secrets are sealed \
                 under (id {recorded_id}). Start with the right key. Nothing was changed.",
                    key.id()
                ),
            }
        }
    };
    Ok(Unlocked { key, source, recorded: recorded.is_some(), created })
}

impl Unlocked {
    /// After migrations: on the first start with sealing, seals the secrets already stored and
    /// records the key. Fails if another instance, starting at the same moment, recorded another key.
    pub async fn seal(self, pool: &AnyPool, backend: Backend) -> anyhow::Result<ServerKey> {
        if !self.recorded && !seal_existing(pool, super::begin_statement(backend), &self.key).await? {
            let (recorded_id, sealed) = recorded_check(pool).await?.context("the key check vanished")?;
            if !opens_check(&self.key, &sealed) {
                if let Some(path) = &self.created {
                    let _ = std::fs::remove_file(path);
                }
                bail!("another instance recorded key {recorded_id} for this database first; start with that key");
            }
        }
        tracing::info!(key = self.key.id(), source = %self.source, "secrets at rest are sealed with the server key");
        Ok(self.key)
    }
}

/// The recorded check, or none when the database has no check table yet (before migration 0007).
async fn recorded_check_if_migrated(pool: &AnyPool) -> anyhow::Result<Option<(String, String)>> {
    match recorded_check(pool).await {
        Ok(recorded) => Ok(recorded),
        Err(sqlx::Error::Database(_)) => Ok(None),
        Err(e) => Err(e).context("reading the database's key check"),
    }
}

/// Every sealed column with a BIGINT `id`: (table, column, associated data). Session data is
/// sealed too, but sessions are ended rather than re-sealed (see `reseal`).
const SEALED: [(&str, &str, Column); 6] = [
    ("accounts", "totp_secret", sealing::TOTP_SECRET),
    ("connectors", "agent_secret", sealing::AGENT_SECRET),
    ("connectors", "credentials", sealing::CREDENTIALS),
    ("outbox_jobs", "payload", sealing::OUTBOX_PAYLOAD),
    ("webhook_endpoints", "secret", sealing::WEBHOOK_SECRET),
    ("webhook_endpoints", "previous_secret", sealing::WEBHOOK_SECRET),
];
const CHECK_TEXT: &str = "onboard secret key check";
const PAGE: i64 = 500;

/// The key id and sealed check value recorded by the first start, if any.
pub async fn recorded_check(pool: &AnyPool) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT key_id, sealed FROM secret_key_check WHERE singleton = 1").fetch_optional(pool).await
}

/// Whether `key` opens the recorded check value.
pub fn opens_check(key: &ServerKey, sealed: &str) -> bool {
    key.open(sealing::KEY_CHECK, sealed).is_ok_and(|text| text == CHECK_TEXT)
}

/// The first start with sealing: seals every secret written before it and records `key`, in one
/// transaction. False if another instance recorded a key first (the caller checks that one).
pub async fn seal_existing(pool: &AnyPool, begin: &str, key: &ServerKey) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin_with(begin.to_string()).await?;
    let recorded = sqlx::query(
        "INSERT INTO secret_key_check (singleton, key_id, sealed, created_at) VALUES (1, $1, $2, $3)
         ON CONFLICT (singleton) DO NOTHING",
    )
    .bind(key.id())
    .bind(key.seal(sealing::KEY_CHECK, CHECK_TEXT))
    .bind(now_ms())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if recorded == 0 {
        return Ok(false);
    }
    let mut count = 0;
    for (table, column, label) in SEALED {
        count += rewrite(&mut tx, table, column, |value| {
            (!value.starts_with(sealing::PREFIX)).then(|| key.seal(label, value))
        })
        .await?;
    }
    tx.commit().await?;
    tracing::info!(key = key.id(), sealed = count, "secrets at rest sealed under the server key");
    Ok(true)
}

/// Re-seals every secret from `old` to `new` and records `new`, in one transaction; ends every
/// session, since session data is sealed too and nothing in a session is worth keeping over a
/// rotation. Returns how many values were re-sealed.
pub async fn reseal(pool: &AnyPool, begin: &str, old: &ServerKey, new: &ServerKey) -> anyhow::Result<u64> {
    let mut tx = pool.begin_with(begin.to_string()).await?;
    let mut count = 0;
    let mut unopened = None;
    for (table, column, label) in SEALED {
        count += rewrite(&mut tx, table, column, |value| {
            if sealing::key_id_of(value) == Some(new.id()) {
                return None;
            }
            let plain = if value.starts_with(sealing::PREFIX) {
                match old.open(label, value) {
                    Ok(plain) => plain,
                    Err(e) => {
                        unopened.get_or_insert(format!("{table}.{column}: {e}"));
                        return None;
                    }
                }
            } else {
                value.to_string()
            };
            Some(new.seal(label, &plain))
        })
        .await?;
    }
    if let Some(problem) = unopened {
        // Nothing is written: rolling back keeps every value under the key it opens with.
        anyhow::bail!("a secret did not open with the current key ({problem}); nothing was changed");
    }
    sqlx::query("UPDATE secret_key_check SET key_id = $1, sealed = $2, created_at = $3 WHERE singleton = 1")
        .bind(new.id())
        .bind(new.seal(sealing::KEY_CHECK, CHECK_TEXT))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions").execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(count)
}

/// Rewrites the non-null values of one column, a page of rows at a time, where `change` gives a
/// new value. Returns how many rows changed.
async fn rewrite(
    tx: &mut Transaction<'static, Any>,
    table: &str,
    column: &str,
    mut change: impl FnMut(&str) -> Option<String>,
) -> Result<u64, sqlx::Error> {
    let (mut after, mut changed) = (0_i64, 0);
    loop {
        let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
            "SELECT id, {column} FROM {table} WHERE id > $1 AND {column} IS NOT NULL ORDER BY id LIMIT {PAGE}"
        ))
        .bind(after)
        .fetch_all(&mut **tx)
        .await?;
        let Some(&(last, _)) = rows.last() else { return Ok(changed) };
        for (id, value) in rows {
            if let Some(new) = change(&value) {
                sqlx::query(&format!("UPDATE {table} SET {column} = $1 WHERE id = $2"))
                    .bind(new)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                changed += 1;
            }
        }
        after = last;
    }
}
