//! Database access, one module per aggregate. One SQL text serves SQLite and PostgreSQL through
//! sqlx's `Any` driver: `$n` placeholders, BIGINT ids and millisecond timestamps, BOOLEAN flags.

pub mod access_requests;
pub mod accounts;
pub mod audit;
pub mod chat_messages;
pub mod chat_users;
pub mod connectors;
pub mod eula;
pub mod funnel;
pub mod identities;
pub mod invitations;
pub mod invite_batches;
pub mod limits;
pub mod member_list;
pub mod memberships;
pub mod onboarding_messages;
pub mod one_time_codes;
pub mod organizations;
pub mod outbox;
pub mod outbox_claims;
pub mod password_links;
pub mod registrations;
pub mod reminders;
pub mod roles;
pub mod scim_tokens;
pub mod sealing;
pub mod service_areas;
pub mod sessions;
pub mod sheet_imports;
pub mod teams;
pub mod webhook_endpoints;

use crate::server::sealing::ServerKey;
use crate::AppError;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// A table of the elements of the JSON array in parameter `$n`, one row each, in a column
    /// named `value`: text for an array of strings, else JSON that `value ->> 'key'` reads.
    /// One JSON parameter stands in for thousands of bound ones, which cost more than the rows.
    fn json_rows(self, n: usize, strings: bool) -> String {
        match (self, strings) {
            (Backend::Sqlite, _) => format!("json_each(${n})"),
            (Backend::Postgres, true) => format!("jsonb_array_elements_text(CAST(${n} AS jsonb))"),
            (Backend::Postgres, false) => format!("jsonb_array_elements(CAST(${n} AS jsonb))"),
        }
    }
}

/// The pools, which database they reach, and the key its secret columns are sealed with.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    /// The outbox's own bookkeeping: claiming a job, recording its outcome, handing it back.
    /// On PostgreSQL these commit without waiting for the WAL to reach the disk
    /// (`synchronous_commit = off`, PostgreSQL manual 30.4 "Asynchronous Commit"). Each message
    /// costs two of them, and waiting for two flushes per message held delivery back. A crash
    /// of the database may forget the last of them, up to three times `wal_writer_delay` (600 ms
    /// by default); those jobs then run again, as after a kill -9 of an instance, and none is
    /// lost, since queuing a job commits as everything else does. Up to `outbox.workers`
    /// connections, opened when first needed. On SQLite it is `pool` (whose commits do not
    /// sync in WAL mode).
    pub outbox_pool: AnyPool,
    pub backend: Backend,
    pub key: ServerKey,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Db {
    /// Connects, applies migrations and unlocks the server key (`sealing::unlock`): a database
    /// ready for the app. Fails, having changed nothing, when the key is not the database's.
    pub async fn open(settings: &crate::server::Settings) -> anyhow::Result<Self> {
        let database = &settings.database;
        let (url, connections, timeout) =
            (database.url.expose(), database.max_connections, database.acquire_timeout_seconds);
        let (pool, backend) = connect(url, connections, timeout, Commit::Flushed).await?;
        // At least one connection: a Db opened without workers (a test's) may still claim jobs.
        let workers = u32::try_from(settings.outbox.workers).unwrap_or(u32::MAX).min(connections).max(1);
        // The key is checked before migrations run: a start with the wrong key changes nothing.
        let unlocked = sealing::unlock(&pool, backend, settings).await?;
        migrate(&pool, backend).await?;
        let key = unlocked.seal(&pool, backend).await?;
        let outbox_pool = match backend {
            Backend::Sqlite => pool.clone(),
            Backend::Postgres => connect(url, workers, timeout, Commit::Unflushed).await?.0,
        };
        let db = Self { pool, outbox_pool, backend, key };
        accounts::canonicalize_international_domains(&db).await?;
        Ok(db)
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at once
    /// (BEGIN IMMEDIATE), waiting out the busy timeout if need be: a plain BEGIN that reads first
    /// fails with "database is locked", without waiting, when another connection wrote meanwhile.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        self.pool.begin_with(begin_statement(self.backend)).await
    }

    /// Closes the pools, each connection as SQLite or PostgreSQL expects. The last connection
    /// to an SQLite database copies the write-ahead log back and deletes it, so after a clean
    /// stop the database is one file again (unless another process still has it open).
    pub async fn close(&self) {
        self.outbox_pool.close().await;
        self.pool.close().await;
    }

    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

/// Whether a PostgreSQL commit waits for its WAL to reach the disk (see `Db::outbox_pool`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Commit {
    Flushed,
    Unflushed,
}

async fn connect(
    url: &str,
    max_connections: u32,
    acquire_timeout_seconds: u64,
    commit: Commit,
) -> anyhow::Result<(AnyPool, Backend)> {
    sqlx::any::install_default_drivers();
    let backend = if url.starts_with("sqlite:") {
        Backend::Sqlite
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Backend::Postgres
    } else {
        anyhow::bail!("DATABASE_URL must start with sqlite: or postgres:");
    };
    let url = match backend {
        Backend::Sqlite => sqlite_url_creating_folder(url)?,
        Backend::Postgres => url.to_string(),
    };
    let options = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(std::time::Duration::from_secs(acquire_timeout_seconds))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                match (backend, commit) {
                    // WAL lets readers work while the outbox writes; foreign keys are off by default in SQLite.
                    (Backend::Sqlite, _) => {
                        conn.execute(&*format!(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                             PRAGMA busy_timeout = 10000; PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}; \
                             PRAGMA journal_size_limit = {WAL_KEPT_BYTES};"
                        ))
                        .await?;
                    }
                    (Backend::Postgres, Commit::Unflushed) => {
                        conn.execute("SET synchronous_commit = off").await?;
                    }
                    (Backend::Postgres, Commit::Flushed) => {}
                }
                Ok(())
            })
        });
    let pool = match commit {
        // A start that cannot reach the database fails at once.
        Commit::Flushed => options.connect(&url).await,
        // Opened after the main pool, and used only by a serving instance's workers.
        Commit::Unflushed => options.connect_lazy(&url),
    }
    .map_err(|e| anyhow::anyhow!("connecting to the database: {e}"))?;
    Ok((pool, backend))
}

/// SQLite: how long the write-ahead log may grow, in pages (4 KiB each, so 390 MiB), before the
/// commit that passes the mark copies the log back into the database, inline. At SQLite's default
/// of 1,000 pages, the commit of a batch of 100,000 invitations (about 150 MiB of log) spent
/// 1.1 s on that copy before the request could answer. A serving instance copies the log in the
/// background instead ([`checkpoint_wal`]); this mark is the backstop for whatever does not, such
/// as the command line.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 100_000;

/// SQLite: what the write-ahead log file keeps of its size, in bytes, once a checkpoint has
/// emptied it (64 MiB): a batch's log does not stay on disk until the next stop.
const WAL_KEPT_BYTES: u64 = 64 << 20;

/// SQLite: copies the write-ahead log back into the database every second until `stop`, so that
/// no commit has to: "in a separate thread" (SQLite manual, "Write-Ahead Logging", "Automatic
/// Checkpoint"). A passive checkpoint waits for no reader or writer; with nothing new in the
/// log it returns at once. Does nothing on PostgreSQL, which checkpoints by itself.
pub async fn checkpoint_wal(db: Db, stop: tokio_util::sync::CancellationToken) {
    if db.backend != Backend::Sqlite {
        return;
    }
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&db.pool).await {
            tracing::warn!(error = %e, "checkpointing the write-ahead log failed; will retry");
        }
    }
}

/// BEGIN IMMEDIATE on SQLite (see `Db::begin`), BEGIN on PostgreSQL.
pub fn begin_statement(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN",
    }
}

async fn migrate(pool: &AnyPool, backend: Backend) -> anyhow::Result<()> {
    let migrator = match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    };
    migrator.run(pool).await.map_err(|e| anyhow::anyhow!("applying migrations: {e}"))
}

/// SQLite creates the file but not its folder; `mode=rwc` makes it create the file.
fn sqlite_url_creating_folder(url: &str) -> anyhow::Result<String> {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:" {
        if let Some(parent) = std::path::Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)?;
            }
        }
    }
    let query = if query.contains("mode=") {
        query.to_string()
    } else if query.is_empty() {
        "mode=rwc".into()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}

/// The database's own words go to the log, never to the browser.
impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "database error");
        if is_unreachable(&e) {
            // 503 rather than 500: the request did nothing and may simply be sent again.
            AppError::Unavailable
        } else {
            AppError::Internal
        }
    }
}

/// The database is gone (connection refused or dropped, no connection free in time) rather than
/// the statement being wrong: the request can simply be tried again later.
pub fn is_unreachable(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_))
}

/// `$from, $from+1, …`: `n` numbered parameters, for an `IN (…)` list of ids bound in turn.
pub fn parameters(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_unique_violation())
}

pub use crate::domain::columns::Flag;

#[cfg(test)]
mod tests {
    /// The bundled SQLite is built by `.cargo/config.toml`'s options: without the page cache that
    /// all connections share and without memory statistics, each of which puts every read behind
    /// one global mutex; and without STAT4, which prepares a statement again whenever a value
    /// compared with an indexed column is bound.
    #[tokio::test]
    async fn the_bundled_sqlite_reads_side_by_side_and_keeps_statements_prepared() {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:").await.unwrap();
        let options: Vec<String> = sqlx::query_scalar("PRAGMA compile_options").fetch_all(&mut conn).await.unwrap();
        assert!(!options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"), "{options:?}");
        assert!(options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"), "{options:?}");
        assert!(!options.iter().any(|o| o == "ENABLE_STAT4"), "{options:?}");
    }
}
