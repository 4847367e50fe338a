-- A published agreement version can require everyone to accept again: an Active member who has
-- not accepted it (or a later version) is shown it before anything else. Adding a column is not
-- an UPDATE, so the versions stay immutable.
ALTER TABLE eula_versions ADD COLUMN reaccept_required BOOLEAN NOT NULL DEFAULT FALSE;
-- An account accepts a version once: two clicks at the same moment must not record it twice.
-- Any exact repeat recorded before keeps its first (earliest) row.
DELETE FROM eula_acceptances WHERE id NOT IN (
    SELECT MIN(id) FROM eula_acceptances GROUP BY eula_version_id, account_id
);
-- Also how a version's acceptances are counted, and who has not accepted it found.
CREATE UNIQUE INDEX eula_acceptances_version ON eula_acceptances (eula_version_id, account_id);
