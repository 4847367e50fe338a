-- What an imported sheet said about a person, to prefill their registration form; they can
-- still change it there.
ALTER TABLE memberships ADD COLUMN prefill_first_name TEXT NOT NULL DEFAULT '';
ALTER TABLE memberships ADD COLUMN prefill_last_name TEXT NOT NULL DEFAULT '';
ALTER TABLE memberships ADD COLUMN prefill_mobile TEXT NOT NULL DEFAULT '';

-- A sheet checked but not sent yet (a dry run), kept for a day so the preview can page through
-- it; once sent, it is the batch's per-row result and lives as long as the batch.
CREATE TABLE sheet_imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    file_name TEXT NOT NULL,
    default_area_id BIGINT NOT NULL REFERENCES service_areas (id),
    default_role_id BIGINT NOT NULL REFERENCES roles (id),
    -- The sheet's columns Onboard does not read (JSON array of their headers).
    ignored_columns TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- NULL once sent.
    expires_at BIGINT,
    batch_id BIGINT UNIQUE REFERENCES invite_batches (id) ON DELETE CASCADE
);
CREATE INDEX sheet_imports_expiry ON sheet_imports (expires_at);

-- Each row of the sheet as checked; `class` and `reason` become its result when sent.
CREATE TABLE sheet_import_rows (
    import_id BIGINT NOT NULL REFERENCES sheet_imports (id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    email TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    mobile TEXT NOT NULL,
    area_id BIGINT NOT NULL,
    role_id BIGINT NOT NULL,
    -- JSON array of team ids.
    team_ids TEXT NOT NULL,
    class TEXT NOT NULL,
    reason TEXT,
    PRIMARY KEY (import_id, number)
);
-- The preview's pages of one class.
CREATE INDEX sheet_import_rows_class ON sheet_import_rows (import_id, class, number);

-- A sent sheet's rows find their invitation by batch and address.
DROP INDEX invitations_batch;
CREATE INDEX invitations_batch ON invitations (batch_id, email);
