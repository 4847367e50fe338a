-- Rules per connector: let in, with no request to decide, people whose Slack or Teams identity
-- is mapped to an Active member of the organization; and a deny list of chat users (by their
-- platform id) who are never forwarded and never ask for access.
ALTER TABLE connectors ADD COLUMN auto_approve_members INTEGER NOT NULL DEFAULT 0 CHECK (auto_approve_members IN (0, 1));
CREATE TABLE connector_blocks (
    connector_id BIGINT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    platform_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (connector_id, platform_id)
);
-- Who a chat user is in the organization, looked up on each message when members are let in.
-- It serves what the index on (org_id, provider) served, which goes.
CREATE INDEX identity_mappings_external ON identity_mappings (org_id, provider, external_id);
DROP INDEX identity_mappings_org;
