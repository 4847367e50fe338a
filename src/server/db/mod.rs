//! Database access, one module per aggregate. One SQL text serves SQLite and PostgreSQL through
//! sqlx's `Any` driver: `$n` placeholders, BIGINT ids and millisecond timestamps, BOOLEAN flags.

pub mod access_requests;
pub mod accounts;
pub mod audit;
pub mod chat_messages;
pub mod chat_users;
pub mod connectors;
pub mod eula;
pub mod identities;
pub mod invitations;
pub mod limits;
pub mod memberships;
pub mod onboarding_messages;
pub mod one_time_codes;
pub mod organizations;
pub mod outbox;
pub mod password_links;
pub mod registrations;
pub mod roles;
pub mod sealing;
pub mod service_areas;
pub mod sessions;
pub mod teams;

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

/// The pool, which database it reaches, and the key its secret columns are sealed with.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    pub key: ServerKey,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Db {
    /// Connects, applies migrations and unlocks the server key (`keys::unlock`): a database
    /// ready for the app. Fails, having changed nothing, when the key is not the database's.
    pub async fn open(settings: &crate::server::Settings) -> anyhow::Result<Self> {
        let database = &settings.database;
        let (pool, backend) =
            connect(database.url.expose(), database.max_connections, database.acquire_timeout_seconds).await?;
        // The key is checked before migrations run: a start with the wrong key changes nothing.
        let unlocked = crate::server::keys::unlock(&pool, backend, settings).await?;
        migrate(&pool, backend).await?;
        let key = unlocked.seal(&pool, backend).await?;
        let db = Self { pool, backend, key };
        accounts::canonicalize_international_domains(&db).await?;
        Ok(db)
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at once
    /// (BEGIN IMMEDIATE), waiting out the busy timeout if need be: a plain BEGIN that reads first
    /// fails with "database is locked", without waiting, when another connection wrote meanwhile.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        self.pool.begin_with(begin_statement(self.backend)).await
    }

    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

async fn connect(url: &str, max_connections: u32, acquire_timeout_seconds: u64) -> anyhow::Result<(AnyPool, Backend)> {
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
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(std::time::Duration::from_secs(acquire_timeout_seconds))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // WAL lets readers work while the outbox writes; foreign keys are off by default in SQLite.
                    conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;")
                        .await?;
                }
                Ok(())
            })
        })
        .connect(&url)
        .await
        .map_err(|e| anyhow::anyhow!("connecting to the database: {e}"))?;
    Ok((pool, backend))
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
            super::auth::fail(AppError::Unavailable)
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

pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_unique_violation())
}

/// A flag column read as a bool from either database: PostgreSQL's BOOLEAN or SQLite's 0/1.
/// Use it on bool fields with `#[sqlx(try_from = "Flag")]`.
#[derive(Clone, Copy, Debug)]
pub struct Flag(pub bool);

impl From<Flag> for bool {
    fn from(flag: Flag) -> bool {
        flag.0
    }
}

impl sqlx::Type<sqlx::Any> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <bool as sqlx::Type<sqlx::Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        use sqlx::any::AnyTypeInfoKind::*;
        matches!(ty.kind, Bool | SmallInt | Integer | BigInt)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Any> for Flag {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        match <bool as sqlx::Decode<sqlx::Any>>::decode(value.clone()) {
            Ok(b) => Ok(Flag(b)),
            Err(_) => <i64 as sqlx::Decode<sqlx::Any>>::decode(value).map(|i| Flag(i != 0)),
        }
    }
}
