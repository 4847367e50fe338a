-- Invitations, registration (second factors, one-time codes) and EULA acceptance.

CREATE TABLE invite_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    inviter_account_id BIGINT NOT NULL REFERENCES accounts (id),
    service_area_id BIGINT NOT NULL REFERENCES service_areas (id),
    role_id BIGINT NOT NULL REFERENCES roles (id),
    -- Every pasted entry that was not invited, with its reason (JSON).
    not_invited TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE invitations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    membership_id BIGINT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    batch_id BIGINT REFERENCES invite_batches (id),
    email TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    invited_by BIGINT NOT NULL REFERENCES accounts (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'expired', 'revoked', 'replaced')),
    expires_at BIGINT NOT NULL,
    outbox_job_id BIGINT REFERENCES outbox_jobs (id),
    created_at BIGINT NOT NULL,
    accepted_at BIGINT
);
CREATE INDEX invitations_batch ON invitations (batch_id);
CREATE INDEX invitations_membership ON invitations (membership_id, status);
CREATE INDEX invitations_expiry ON invitations (status, expires_at);

-- 'email', 'sms' or 'totp'. An authenticator's secret, and the last time step whose code was
-- used, so that no code works twice.
ALTER TABLE accounts ADD COLUMN second_factor TEXT;
ALTER TABLE accounts ADD COLUMN totp_secret TEXT;
ALTER TABLE accounts ADD COLUMN totp_last_step BIGINT;

CREATE TABLE one_time_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    purpose TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX one_time_codes_account ON one_time_codes (account_id, purpose, id);

CREATE TABLE eula_acceptances (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    eula_version_id BIGINT NOT NULL REFERENCES eula_versions (id),
    accepted_at BIGINT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX eula_acceptances_account ON eula_acceptances (account_id);
