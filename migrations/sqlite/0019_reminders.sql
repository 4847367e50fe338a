-- Automatic reminders: an organization's settings, off until an admin turns them on.
ALTER TABLE organizations ADD COLUMN reminders_enabled INTEGER NOT NULL DEFAULT 0 CHECK (reminders_enabled IN (0, 1));
ALTER TABLE organizations ADD COLUMN reminder_after_days BIGINT NOT NULL DEFAULT 3;
ALTER TABLE organizations ADD COLUMN reminder_before_expiry_days BIGINT NOT NULL DEFAULT 1;
ALTER TABLE organizations ADD COLUMN reminder_channel TEXT NOT NULL DEFAULT 'email'
    CHECK (reminder_channel IN ('email', 'chat'));
ALTER TABLE organizations ADD COLUMN reminders_per_minute BIGINT NOT NULL DEFAULT 600;

-- When an invitation's next reminder falls due (NULL: none is left), how many it has had, and
-- when the last went out. Every instance sweeps the due ones; the index holds pending
-- invitations with a reminder still to come, per organization, so a sweep reads only what is due.
ALTER TABLE invitations ADD COLUMN next_reminder_at BIGINT;
ALTER TABLE invitations ADD COLUMN reminders_sent BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invitations ADD COLUMN last_reminded_at BIGINT;
CREATE INDEX invitations_reminders_due ON invitations (org_id, next_reminder_at)
    WHERE status = 'pending' AND next_reminder_at IS NOT NULL;

-- The links of earlier emails about an invitation, which a reminder's fresh link joins: each
-- keeps working while the invitation does, so nobody is cut off halfway through registering.
CREATE TABLE invitation_links (
    token_hash TEXT PRIMARY KEY,
    invitation_id BIGINT NOT NULL REFERENCES invitations (id) ON DELETE CASCADE
);

-- How much of a budget the last take got, for budgets taken several at a time.
ALTER TABLE attempt_limits ADD COLUMN last_taken BIGINT NOT NULL DEFAULT 1;

-- "Remind all pending": one reminder now to every pending member of a filter, sent by the
-- sweeps at the organization's rate; each invitation it reaches names it, for its progress.
CREATE TABLE reminder_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    requested_at BIGINT NOT NULL,
    total BIGINT NOT NULL
);
ALTER TABLE invitations ADD COLUMN reminder_run_id BIGINT REFERENCES reminder_runs (id);
CREATE INDEX invitations_reminder_run ON invitations (reminder_run_id) WHERE reminder_run_id IS NOT NULL;
