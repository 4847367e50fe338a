//! `onboard keys rotate`: every sealed secret re-sealed under a new key, the key file replaced
//! only once the database holds the new key.

use super::config::Settings;
use super::db::{self, Backend};
use super::keys::{self, KeySource};
use super::sealing::ServerKey;
use super::secret::Secret;
use anyhow::bail;
use std::path::Path;

/// What `onboard keys rotate` did.
pub struct Rotation {
    pub old_id: String,
    pub new_id: String,
    pub resealed: u64,
    pub source: KeySource,
}

/// Re-seals every secret under a new key. With a key file, the new key is generated and replaces
/// the file (the previous one is kept as `<file>.old`); with `ONBOARD_SECRET_KEY`, the new key is
/// `new_key` (`ONBOARD_NEW_SECRET_KEY`), which the instances are then started with. Instances
/// still running hold the old key: stop them first.
pub async fn rotate(settings: &Settings, new_key: Option<&str>) -> anyhow::Result<Rotation> {
    let db = db::Db::open(settings).await?;
    let source = keys::source_of(settings)?;
    let (new, new_text) = match (&source, new_key) {
        (_, Some(text)) => (
            ServerKey::from_base64(text).map_err(|e| anyhow::anyhow!("ONBOARD_NEW_SECRET_KEY: {e}"))?,
            Secret::new(text.trim()),
        ),
        (KeySource::Environment, None) => bail!(
            "the key comes from ONBOARD_SECRET_KEY: set ONBOARD_NEW_SECRET_KEY to the new key \
             (`onboard keys generate` prints one), rotate, then start every instance with it"
        ),
        (KeySource::Ephemeral, None) => bail!("an in-memory database has no key to rotate"),
        (KeySource::File(_), None) => ServerKey::generate(),
    };
    if new.id() == db.key.id() {
        bail!("the new key is the current key");
    }
    let begin = db::begin_statement(db.backend);
    let KeySource::File(path) = &source else {
        let resealed = db::sealing::reseal(&db.pool, begin, &db.key, &new).await?;
        db.close().await;
        return Ok(Rotation { old_id: db.key.id().into(), new_id: new.id().into(), resealed, source });
    };
    // The new key is on disk before anything is sealed under it, and stays there if the outcome
    // of the commit is unknown: a start uses it only if it opens the database's check.
    let pending = keys::beside(path, ".new");
    let _ = std::fs::remove_file(&pending);
    if !keys::place_key_file(&pending, new_text.expose())? {
        bail!("{} could not be replaced", pending.display());
    }
    let resealed = db::sealing::reseal(&db.pool, begin, &db.key, &new).await?;
    if db.backend == Backend::Sqlite {
        // The commit reaches the database file itself before the old key file is replaced.
        sqlx::query("PRAGMA wal_checkpoint(FULL)").execute(&db.pool).await?;
    }
    std::fs::copy(path, keys::beside(path, ".old"))?;
    std::fs::rename(&pending, path)?;
    keys::sync_folder(path.parent().unwrap_or(Path::new(".")));
    db.close().await;
    Ok(Rotation { old_id: db.key.id().into(), new_id: new.id().into(), resealed, source })
}
