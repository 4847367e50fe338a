-- Flags are 0/1 INTEGERs here, BOOLEAN on PostgreSQL (see 0001).
-- Chat connectors: who may talk to the organization's agent on Slack, Teams, Telegram,
-- WhatsApp (360dialog) and Twilio, the people who write to it, and what they said.

-- `credentials` is JSON of the provider's secrets; only masked hints ever leave the server.
-- `webhook_key` is the random path segment of the connector's webhook URL.
CREATE TABLE connectors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    provider TEXT NOT NULL CHECK (provider IN ('slack', 'teams', 'telegram', 'd360', 'twilio')),
    name TEXT NOT NULL,
    webhook_key TEXT NOT NULL UNIQUE,
    enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    policy TEXT NOT NULL DEFAULT 'allow_all' CHECK (policy IN ('allow_all', 'onboarding')),
    onboarding_message TEXT NOT NULL DEFAULT '',
    agent_url TEXT NOT NULL,
    agent_secret TEXT NOT NULL,
    credentials TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

-- One person on one provider: the same person on Slack and WhatsApp is two chat users.
CREATE TABLE chat_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    platform_id TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    avatar_url TEXT,
    -- Whether the provider has been asked for the names and picture a webhook lacked.
    profile_checked INTEGER NOT NULL DEFAULT 0 CHECK (profile_checked IN (0, 1)),
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    UNIQUE (org_id, provider, platform_id)
);

-- The unique pair is what makes the onboarding message go out exactly once.
CREATE TABLE access_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    connector_id BIGINT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    chat_user_id BIGINT NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    first_message TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    decided_by BIGINT REFERENCES accounts (id),
    decided_at BIGINT,
    rejection_told INTEGER NOT NULL DEFAULT 0 CHECK (rejection_told IN (0, 1)),
    UNIQUE (connector_id, chat_user_id)
);
CREATE INDEX access_requests_by_status ON access_requests (org_id, status, id);

-- The conversation log. An inbound message's platform id is unique per connector, so a
-- replayed or retried delivery is stored (and forwarded) once.
CREATE TABLE chat_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    connector_id BIGINT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    chat_user_id BIGINT NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    platform_message_id TEXT,
    conversation_id TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    at BIGINT NOT NULL,
    UNIQUE (connector_id, platform_message_id)
);
CREATE INDEX chat_messages_by_user ON chat_messages (chat_user_id, id);
