//! Sessions live in the database so any app instance can serve any request.

use super::db::{self, now_ms, Db};
use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};
use tower_sessions::SessionStore;

pub const ACCOUNT_KEY: &str = "account_id";
pub const ORG_KEY: &str = "org_id";
/// The second factor the session passed (`sign_in::PassedFactor`).
pub const FACTOR_KEY: &str = "second_factor";

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

/// Starts a store error whose database was unreachable, so callers can answer "unavailable".
pub const UNREACHABLE: &str = "database unreachable";

fn backend(e: sqlx::Error) -> Error {
    if db::is_unreachable(&e) {
        Error::Backend(format!("{UNREACHABLE}: {e}"))
    } else {
        Error::Backend(e.to_string())
    }
}

fn encode(record: &Record) -> Result<(String, Option<i64>, i64)> {
    let data = serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
    // The account id is kept in its own column so all of an account's sessions can be ended at once.
    let account = record.data.get(ACCOUNT_KEY).and_then(|v| v.as_i64());
    let expires = record.expiry_date.unix_timestamp() * 1000;
    Ok((data, account, expires))
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        let (data, account, expires) = encode(record)?;
        // Ids are 128 random bits; on the off chance of a collision, draw again.
        while !db::sessions::insert(&self.db, &record.id.to_string(), account, &data, expires).await.map_err(backend)? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        let (data, account, expires) = encode(record)?;
        db::sessions::upsert(&self.db, &record.id.to_string(), account, &data, expires).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let Some(stored) = db::sessions::load(&self.db, &id.to_string(), now_ms()).await.map_err(backend)? else {
            return Ok(None);
        };
        let data = serde_json::from_str(&stored.data).map_err(|e| Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(stored.expires_at / 1000)
            .map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        db::sessions::delete(&self.db, &id.to_string()).await.map_err(backend)
    }
}
