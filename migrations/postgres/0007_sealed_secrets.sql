-- Secrets at rest are sealed with the server key (see src/server/sealing.rs). One row holds a
-- known value sealed under that key, so a start can tell a wrong key before it writes anything.
-- Existing secrets are sealed by the first start after this migration, in Rust.
CREATE TABLE secret_key_check (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    key_id TEXT NOT NULL,
    sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Session ids are now stored as their SHA-256: a copy of the database holds no cookie that would
-- sign anyone in. Sessions stored under the bare id could never be found again.
DELETE FROM sessions;
