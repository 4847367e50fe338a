-- Webhooks for onboarding events (the Standard Webhooks specification): an organization's
-- endpoints, each subscribed to some event types and signing with its own secret, and one
-- delivery per event and endpoint, sent through the outbox.
CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- The subscribed event types between commas (",member.activated,member.paused,"), so one
    -- LIKE finds an event's endpoints on either database.
    event_types TEXT NOT NULL,
    -- Sealed `whsec_…`; the one it replaced keeps signing until `previous_until` (ms).
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_until BIGINT,
    -- Set when an admin turns the endpoint off, or when it kept failing (`disabled_reason`).
    disabled_at BIGINT,
    disabled_reason TEXT,
    -- When its current run of failed attempts began; NULL after a success.
    failing_since BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    endpoint_id BIGINT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    -- The `webhook-id`: one per event, the same for each endpoint, each retry and each replay.
    message_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    -- The JSON body, exactly as signed and sent.
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    -- The last attempt: the HTTP status the endpoint answered (none when unreached), how long
    -- it took (ms), and what went wrong.
    response_status BIGINT,
    latency_ms BIGINT,
    last_error TEXT,
    last_attempt_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
