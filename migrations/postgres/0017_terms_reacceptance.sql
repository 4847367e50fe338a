-- A published agreement version can require everyone to accept again: an Active member who has
-- not accepted it (or a later version) is shown it before anything else. Adding a column is not
-- an UPDATE, so the versions stay immutable.
ALTER TABLE eula_versions ADD COLUMN reaccept_required BOOLEAN NOT NULL DEFAULT FALSE;
-- Counting a version's acceptances, and finding who has not accepted it, read by version.
CREATE INDEX eula_acceptances_version ON eula_acceptances (eula_version_id, account_id);
