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

-- The dashboard's counts, kept up to date by the triggers below so that reading them never
-- scans the members: the organization's by onboarding status, and each team's.
-- A member is onboarded once registered (Active, or Inactive: paused after registering),
-- else Notified once a message reached them, else Connected while they have a mapping.
ALTER TABLE memberships ADD COLUMN mapped BIGINT NOT NULL DEFAULT 0;
ALTER TABLE teams ADD COLUMN members BIGINT NOT NULL DEFAULT 0;
ALTER TABLE teams ADD COLUMN onboarded BIGINT NOT NULL DEFAULT 0;

CREATE TABLE onboarding_counts (
    org_id BIGINT PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    total BIGINT NOT NULL DEFAULT 0,
    onboarded BIGINT NOT NULL DEFAULT 0,
    notified BIGINT NOT NULL DEFAULT 0,
    connected BIGINT NOT NULL DEFAULT 0
);

-- Every organization has its row from the start, so the triggers only ever UPDATE it.
INSERT INTO onboarding_counts (org_id, total, onboarded)
SELECT o.id, COUNT(m.id), COALESCE(SUM(CASE WHEN m.status IN ('active', 'inactive') THEN 1 ELSE 0 END), 0)
FROM organizations o LEFT JOIN memberships m ON m.org_id = o.id GROUP BY o.id;

CREATE TRIGGER organizations_counted AFTER INSERT ON organizations
BEGIN
    INSERT INTO onboarding_counts (org_id) VALUES (NEW.id);
END;

CREATE TRIGGER memberships_counted AFTER INSERT ON memberships
BEGIN
    UPDATE onboarding_counts SET total = total + 1,
        onboarded = onboarded + CASE WHEN NEW.status IN ('active', 'inactive') THEN 1 ELSE 0 END,
        notified = notified + CASE WHEN NEW.status NOT IN ('active', 'inactive') AND NEW.notified_at IS NOT NULL THEN 1 ELSE 0 END,
        connected = connected + CASE WHEN NEW.status NOT IN ('active', 'inactive') AND NEW.notified_at IS NULL AND NEW.mapped > 0 THEN 1 ELSE 0 END
    WHERE org_id = NEW.org_id;
END;

CREATE TRIGGER memberships_uncounted AFTER DELETE ON memberships
BEGIN
    UPDATE onboarding_counts SET total = total - 1,
        onboarded = onboarded - CASE WHEN OLD.status IN ('active', 'inactive') THEN 1 ELSE 0 END,
        notified = notified - CASE WHEN OLD.status NOT IN ('active', 'inactive') AND OLD.notified_at IS NOT NULL THEN 1 ELSE 0 END,
        connected = connected - CASE WHEN OLD.status NOT IN ('active', 'inactive') AND OLD.notified_at IS NULL AND OLD.mapped > 0 THEN 1 ELSE 0 END
    WHERE org_id = OLD.org_id;
END;

CREATE TRIGGER memberships_recounted AFTER UPDATE OF status, notified_at, mapped ON memberships
WHEN OLD.status IS NOT NEW.status OR OLD.notified_at IS NOT NEW.notified_at OR OLD.mapped IS NOT NEW.mapped
BEGIN
    UPDATE onboarding_counts SET
        onboarded = onboarded
            - CASE WHEN OLD.status IN ('active', 'inactive') THEN 1 ELSE 0 END
            + CASE WHEN NEW.status IN ('active', 'inactive') THEN 1 ELSE 0 END,
        notified = notified
            - CASE WHEN OLD.status NOT IN ('active', 'inactive') AND OLD.notified_at IS NOT NULL THEN 1 ELSE 0 END
            + CASE WHEN NEW.status NOT IN ('active', 'inactive') AND NEW.notified_at IS NOT NULL THEN 1 ELSE 0 END,
        connected = connected
            - CASE WHEN OLD.status NOT IN ('active', 'inactive') AND OLD.notified_at IS NULL AND OLD.mapped > 0 THEN 1 ELSE 0 END
            + CASE WHEN NEW.status NOT IN ('active', 'inactive') AND NEW.notified_at IS NULL AND NEW.mapped > 0 THEN 1 ELSE 0 END
    WHERE org_id = NEW.org_id;
    UPDATE teams SET onboarded = onboarded
            - CASE WHEN OLD.status IN ('active', 'inactive') THEN 1 ELSE 0 END
            + CASE WHEN NEW.status IN ('active', 'inactive') THEN 1 ELSE 0 END
    WHERE (OLD.status IN ('active', 'inactive')) <> (NEW.status IN ('active', 'inactive'))
      AND id IN (SELECT team_id FROM team_members WHERE membership_id = NEW.id);
END;

CREATE TRIGGER team_members_counted AFTER INSERT ON team_members
BEGIN
    UPDATE teams SET members = members + 1, onboarded = onboarded + COALESCE(
        (SELECT CASE WHEN status IN ('active', 'inactive') THEN 1 ELSE 0 END FROM memberships WHERE id = NEW.membership_id), 0)
    WHERE id = NEW.team_id;
END;

CREATE TRIGGER team_members_uncounted AFTER DELETE ON team_members
BEGIN
    UPDATE teams SET members = members - 1, onboarded = onboarded - COALESCE(
        (SELECT CASE WHEN status IN ('active', 'inactive') THEN 1 ELSE 0 END FROM memberships WHERE id = OLD.membership_id), 0)
    WHERE id = OLD.team_id;
END;

CREATE TRIGGER identity_mappings_counted AFTER INSERT ON identity_mappings
BEGIN
    UPDATE memberships SET mapped = mapped + 1 WHERE id = NEW.membership_id;
END;

CREATE TRIGGER identity_mappings_uncounted AFTER DELETE ON identity_mappings
BEGIN
    UPDATE memberships SET mapped = mapped - 1 WHERE id = OLD.membership_id;
END;
