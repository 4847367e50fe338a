//! Where the server key comes from, checking it against the database at every start, and
//! rotating it (`onboard keys rotate`).
//!
//! The key is `ONBOARD_SECRET_KEY`, or else the key file (`security.secret_key_file`, by default
//! beside the SQLite database), which the first start creates with mode 0600. PostgreSQL has no
//! file beside it, and several instances must share one key, so there it must be given.

use super::config::Settings;
use super::db::{self, Backend};
use super::sealing::ServerKey;
use super::secret::Secret;
use anyhow::{bail, Context};
use sqlx::AnyPool;
use std::path::{Path, PathBuf};

/// Where the key was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    Environment,
    File(PathBuf),
    /// An in-memory SQLite database keeps nothing, so neither does its key.
    Ephemeral,
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Environment => f.write_str("ONBOARD_SECRET_KEY"),
            Self::File(path) => write!(f, "the key file {}", path.display()),
            Self::Ephemeral => f.write_str("a key for this run only"),
        }
    }
}

/// Where the key is expected for these settings.
pub fn source_of(settings: &Settings, backend: Backend) -> anyhow::Result<KeySource> {
    let security = &settings.security;
    if !security.secret_key.is_empty() {
        return Ok(KeySource::Environment);
    }
    if !security.secret_key_file.is_empty() {
        return Ok(KeySource::File(PathBuf::from(&security.secret_key_file)));
    }
    match backend {
        Backend::Sqlite => match sqlite_path(settings.database.url.expose()) {
            Some(path) => {
                let mut file = path.into_os_string();
                file.push(".key");
                Ok(KeySource::File(file.into()))
            }
            None => Ok(KeySource::Ephemeral),
        },
        Backend::Postgres => bail!(
            "Onboard on PostgreSQL needs the secret key its instances share: set ONBOARD_SECRET_KEY \
             (or ONBOARD_SECRET_KEY_FILE) on every instance. `onboard keys generate` prints a new one."
        ),
    }
}

fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = rest.split_once('?').map_or(rest, |(p, _)| p);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

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
    let source = source_of(settings, backend)?;
    let recorded = recorded_check_if_migrated(pool).await?;
    let mut created = None;
    let key = match &source {
        KeySource::Environment => ServerKey::from_base64(settings.security.secret_key.expose())
            .map_err(|e| anyhow::anyhow!("ONBOARD_SECRET_KEY: {e}"))?,
        KeySource::Ephemeral => ServerKey::generate().0,
        KeySource::File(path) => match read_key_file(path)? {
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
                let key = create_key_file(path)?;
                created = Some(path.clone());
                key
            }
        },
    };
    let key = match &recorded {
        None => key,
        Some((_, sealed)) if db::sealing::opens_check(&key, sealed) => key,
        Some((recorded_id, sealed)) => match key_file_left_by_rotation(&source, sealed)? {
            Some(rotated) => rotated,
            None => bail!(
                "the secret key from {source} (id {}) is not the key this database's secrets are sealed \
                 under (id {recorded_id}). Start with the right key. Nothing was changed.",
                key.id()
            ),
        },
    };
    Ok(Unlocked { key, source, recorded: recorded.is_some(), created })
}

impl Unlocked {
    /// After migrations: on the first start with sealing, seals the secrets already stored and
    /// records the key. Fails if another instance, starting at the same moment, recorded another key.
    pub async fn seal(self, pool: &AnyPool, backend: Backend) -> anyhow::Result<ServerKey> {
        if !self.recorded && !db::sealing::seal_existing(pool, db::begin_statement(backend), &self.key).await? {
            let (recorded_id, sealed) = db::sealing::recorded_check(pool).await?.context("the key check vanished")?;
            if !db::sealing::opens_check(&self.key, &sealed) {
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
    match db::sealing::recorded_check(pool).await {
        Ok(recorded) => Ok(recorded),
        Err(sqlx::Error::Database(_)) => Ok(None),
        Err(e) => Err(e).context("reading the database's key check"),
    }
}

fn read_key_file(path: &Path) -> anyhow::Result<Option<ServerKey>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            warn_if_readable_by_others(path);
            ServerKey::from_base64(&text).map(Some).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading the key file {}", path.display())),
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(file = %path.display(), "the key file can be read by other users: chmod 600 it");
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path) {}

/// Puts `text` at `path` whole or not at all, never over an existing file: written (mode 0600) and
/// synced under a temporary name, then hard-linked into place, so a second start reading the key
/// meanwhile finds no file or a complete one. Returns false if `path` already existed.
fn place_key_file(path: &Path, text: &str) -> anyhow::Result<bool> {
    use std::io::Write;
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".tmp-{}", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary).with_context(|| format!("creating the key file {}", path.display()))?;
    file.write_all(format!("{text}\n").as_bytes())?;
    file.sync_all()?;
    let linked = std::fs::hard_link(&temporary, path);
    let _ = std::fs::remove_file(&temporary);
    match linked {
        Ok(()) => {
            sync_folder(parent);
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| format!("creating the key file {}", path.display())),
    }
}

/// Makes a file's creation or renaming durable, not only its contents.
fn sync_folder(folder: &Path) {
    if let Ok(dir) = std::fs::File::open(folder) {
        let _ = dir.sync_all();
    }
}

fn create_key_file(path: &Path) -> anyhow::Result<ServerKey> {
    let (key, text) = ServerKey::generate();
    if !place_key_file(path, text.expose())? {
        // Another start created it a moment ago: use theirs.
        return read_key_file(path)?.context("the key file vanished");
    }
    tracing::info!(file = %path.display(), key = key.id(), "created the secret key file; back it up with the database");
    Ok(key)
}

/// Beside the key file: the next key while a rotation runs, and the one before the last rotation.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

/// After a crash in a rotation, the key the database is under may be the rotation's next key
/// (committed, not yet renamed) or its previous one (the commit did not survive a power cut).
/// Whichever opens the check becomes the key file again.
fn key_file_left_by_rotation(source: &KeySource, sealed: &str) -> anyhow::Result<Option<ServerKey>> {
    let KeySource::File(path) = source else { return Ok(None) };
    for suffix in [".new", ".old"] {
        let candidate = beside(path, suffix);
        if let Some(key) = read_key_file(&candidate)?.filter(|key| db::sealing::opens_check(key, sealed)) {
            std::fs::copy(&candidate, path)?;
            sync_folder(path.parent().unwrap_or(Path::new(".")));
            tracing::warn!(file = %path.display(), from = %candidate.display(), "restored the key an interrupted rotation left");
            return Ok(Some(key));
        }
    }
    Ok(None)
}

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
    let source = source_of(settings, db.backend)?;
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
    let pending = beside(path, ".new");
    let _ = std::fs::remove_file(&pending);
    if !place_key_file(&pending, new_text.expose())? {
        bail!("{} could not be replaced", pending.display());
    }
    let resealed = db::sealing::reseal(&db.pool, begin, &db.key, &new).await?;
    if db.backend == Backend::Sqlite {
        // The commit reaches the database file itself before the old key file is replaced.
        sqlx::query("PRAGMA wal_checkpoint(FULL)").execute(&db.pool).await?;
    }
    std::fs::copy(path, beside(path, ".old"))?;
    std::fs::rename(&pending, path)?;
    sync_folder(path.parent().unwrap_or(Path::new(".")));
    db.close().await;
    Ok(Rotation { old_id: db.key.id().into(), new_id: new.id().into(), resealed, source })
}
