-- Ids are BIGINT and timestamps are milliseconds since the Unix epoch (UTC) on both databases.
-- Flags are 0/1 INTEGERs here (sqlx's Any driver cannot map SQLite's BOOLEAN) and BOOLEAN on
-- PostgreSQL; db::Flag reads both as a bool.

CREATE TABLE organizations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    require_2fa INTEGER NOT NULL DEFAULT 0 CHECK (require_2fa IN (0, 1)),
    invite_lifetime_days BIGINT NOT NULL DEFAULT 7,
    created_at BIGINT NOT NULL
);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    mobile TEXT,
    password_hash TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE service_areas (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE roles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    permissions TEXT NOT NULL,
    locked INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE memberships (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    service_area_id BIGINT REFERENCES service_areas (id),
    role_id BIGINT NOT NULL REFERENCES roles (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'inactive', 'expired')),
    invited_by BIGINT REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    activated_at BIGINT,
    UNIQUE (org_id, account_id)
);
CREATE INDEX memberships_account ON memberships (account_id);
CREATE INDEX memberships_role ON memberships (role_id);
CREATE INDEX memberships_area ON memberships (service_area_id);

CREATE TABLE eula_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    body TEXT NOT NULL,
    published_by BIGINT REFERENCES accounts (id),
    published_at BIGINT NOT NULL,
    UNIQUE (org_id, version)
);
-- People accept a version's exact words, so a published version can never change.
CREATE TRIGGER eula_versions_are_immutable BEFORE UPDATE ON eula_versions
BEGIN
    SELECT RAISE(ABORT, 'EULA versions are immutable');
END;

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    account_id BIGINT,
    data TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE sign_in_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subject TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_subject ON sign_in_failures (subject, at);

CREATE TABLE password_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE outbox_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT REFERENCES organizations (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_at BIGINT NOT NULL,
    locked_by TEXT,
    locked_until BIGINT,
    last_error TEXT,
    delivery TEXT,
    created_at BIGINT NOT NULL,
    done_at BIGINT
);
CREATE INDEX outbox_jobs_due ON outbox_jobs (status, run_at);
CREATE INDEX outbox_jobs_org ON outbox_jobs (org_id, id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    actor_account_id BIGINT REFERENCES accounts (id),
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX audit_log_org ON audit_log (org_id, id);
