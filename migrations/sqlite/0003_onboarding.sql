-- Onboarding management: teams, identity mappings to Slack and Teams, and the onboarding
-- messages sent to people who have not registered yet.

CREATE TABLE teams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

-- A person may be on several teams.
CREATE TABLE team_members (
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    membership_id BIGINT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, membership_id)
);
CREATE INDEX team_members_membership ON team_members (membership_id);

-- 'slack' (a Slack user id) or 'teams' (an Entra object id); made 'manual'ly, by 'email'
-- match, or 'oauth' when the person connected their own account.
CREATE TABLE identity_mappings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    membership_id BIGINT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    provider TEXT NOT NULL CHECK (provider IN ('slack', 'teams')),
    external_id TEXT NOT NULL,
    external_name TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL CHECK (source IN ('manual', 'email', 'oauth')),
    created_by BIGINT REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    UNIQUE (membership_id, provider)
);
CREATE INDEX identity_mappings_org ON identity_mappings (org_id, provider);

-- One "Send message" from the dashboard: who sent it, to whom, and the custom text.
CREATE TABLE onboarding_sends (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    sender_account_id BIGINT NOT NULL REFERENCES accounts (id),
    team_id BIGINT REFERENCES teams (id) ON DELETE SET NULL,
    custom_text TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Each recipient of a send, over one channel, and what became of it.
CREATE TABLE onboarding_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    send_id BIGINT NOT NULL REFERENCES onboarding_sends (id) ON DELETE CASCADE,
    membership_id BIGINT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    channel TEXT NOT NULL CHECK (channel IN ('slack', 'teams', 'email')),
    address TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'delivered', 'failed')),
    error TEXT,
    outbox_job_id BIGINT REFERENCES outbox_jobs (id),
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX onboarding_messages_send ON onboarding_messages (send_id);
CREATE INDEX onboarding_messages_membership ON onboarding_messages (membership_id, id);

-- When the member was last sent an onboarding message that was delivered: kept on the
-- membership so the dashboard derives statuses without scanning every message.
ALTER TABLE memberships ADD COLUMN notified_at BIGINT;
