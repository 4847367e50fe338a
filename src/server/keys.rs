//! Where the server key comes from: the environment, or a key file kept whole or not at all.
//! Checking it against the database is `db::sealing::unlock`; rotating it is `key_rotation`.
//!
//! The key is `ONBOARD_SECRET_KEY`, or else the key file (`security.secret_key_file`, by default
//! beside the SQLite database), which the first start creates with mode 0600. PostgreSQL has no
//! file beside it, and several instances must share one key, so there it must be given.

use super::config::Settings;
use super::sealing::ServerKey;
use anyhow::{bail, Context};
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
pub fn source_of(settings: &Settings) -> anyhow::Result<KeySource> {
    let security = &settings.security;
    if !security.secret_key.is_empty() {
        return Ok(KeySource::Environment);
    }
    if !security.secret_key_file.is_empty() {
        return Ok(KeySource::File(PathBuf::from(&security.secret_key_file)));
    }
    match sqlite_path(settings.database.url.expose()) {
        Some(Some(path)) => {
            let mut file = path.into_os_string();
            file.push(".key");
            Ok(KeySource::File(file.into()))
        }
        Some(None) => Ok(KeySource::Ephemeral),
        None => bail!(
            "Onboard on PostgreSQL needs the secret key its instances share: set ONBOARD_SECRET_KEY \
             (or ONBOARD_SECRET_KEY_FILE) on every instance. `onboard keys generate` prints a new one."
        ),
    }
}

/// For an SQLite URL, its file (`None` in memory); `None` for any other database.
fn sqlite_path(url: &str) -> Option<Option<PathBuf>> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split_once('?').map_or(rest, |(p, _)| p);
    Some((!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path)))
}

pub fn read_key_file(path: &Path) -> anyhow::Result<Option<ServerKey>> {
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
pub fn place_key_file(path: &Path, text: &str) -> anyhow::Result<bool> {
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
pub fn sync_folder(folder: &Path) {
    if let Ok(dir) = std::fs::File::open(folder) {
        let _ = dir.sync_all();
    }
}

pub fn create_key_file(path: &Path) -> anyhow::Result<ServerKey> {
    let (key, text) = ServerKey::generate();
    if !place_key_file(path, text.expose())? {
        // Another start created it a moment ago: use theirs.
        return read_key_file(path)?.context("the key file vanished");
    }
    tracing::info!(file = %path.display(), key = key.id(), "created the secret key file; back it up with the database");
    Ok(key)
}

/// Beside the key file: the next key while a rotation runs, and the one before the last rotation.
pub fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

/// After a crash in a rotation, the key the database is under may be the rotation's next key
/// (committed, not yet renamed) or its previous one (the commit did not survive a power cut).
/// Whichever opens the database's check becomes the key file again.
pub fn key_file_left_by_rotation(
    source: &KeySource,
    opens_check: impl Fn(&ServerKey) -> bool,
) -> anyhow::Result<Option<ServerKey>> {
    let KeySource::File(path) = source else { return Ok(None) };
    for suffix in [".new", ".old"] {
        let candidate = beside(path, suffix);
        if let Some(key) = read_key_file(&candidate)?.filter(|key| opens_check(key)) {
            std::fs::copy(&candidate, path)?;
            sync_folder(path.parent().unwrap_or(Path::new(".")));
            tracing::warn!(file = %path.display(), from = %candidate.display(), "restored the key an interrupted rotation left");
            return Ok(Some(key));
        }
    }
    Ok(None)
}
