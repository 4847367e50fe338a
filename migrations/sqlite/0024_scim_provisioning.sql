-- SCIM 2.0 provisioning (RFC 7643, RFC 7644): bearer tokens an identity provider (Microsoft
-- Entra ID, Okta) calls /scim/v2 with, each with the service area, role and sending choice for
-- the people it creates; and the client's names for members and teams.
CREATE TABLE scim_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- What the audit log names the token's changes by ("Entra ID").
    name TEXT NOT NULL,
    -- The SHA-256 of the token, hex; the token itself is shown once and never kept.
    token_hash TEXT NOT NULL UNIQUE,
    service_area_id BIGINT NOT NULL REFERENCES service_areas (id),
    role_id BIGINT NOT NULL REFERENCES roles (id),
    -- Whether a created user is sent an invitation at once, or held Pending for an admin to send.
    send_invitations INTEGER NOT NULL CHECK (send_invitations IN (0, 1)),
    created_by BIGINT NOT NULL REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    -- Updated at most once a minute, so a busy client does not write a row per request.
    last_used_at BIGINT
);
CREATE INDEX scim_tokens_org ON scim_tokens (org_id);

-- The client's own id (`externalId`), and its `userName` for the member where that is not the
-- member's email address as Onboard writes it (Entra ID may send a UPN or a GUID). SCIM compares
-- userName in any case (RFC 7643 §4.1.1), so it is unique in the organization in any case, and
-- looked up lower-cased. (That it is no other member's address is checked by provisioning.)
ALTER TABLE memberships ADD COLUMN scim_external_id TEXT;
ALTER TABLE memberships ADD COLUMN scim_user_name TEXT;
-- When a provisioning client or an admin last changed the membership (SCIM `meta.lastModified`).
ALTER TABLE memberships ADD COLUMN modified_at BIGINT;
-- Set when provisioning made the member inactive (paused, or invitation withdrawn): only then
-- does provisioning make them active again, so it never undoes an admin's pause.
ALTER TABLE memberships ADD COLUMN scim_deactivated_at BIGINT;
CREATE INDEX memberships_scim_external_id ON memberships (org_id, scim_external_id) WHERE scim_external_id IS NOT NULL;
CREATE UNIQUE INDEX memberships_scim_user_name ON memberships (org_id, LOWER(scim_user_name)) WHERE scim_user_name IS NOT NULL;

ALTER TABLE teams ADD COLUMN scim_external_id TEXT;
ALTER TABLE teams ADD COLUMN modified_at BIGINT;
CREATE INDEX teams_scim_external_id ON teams (org_id, scim_external_id) WHERE scim_external_id IS NOT NULL;

-- Who did it, when it was no account: a provisioning token, by name.
ALTER TABLE audit_log ADD COLUMN actor_label TEXT;
