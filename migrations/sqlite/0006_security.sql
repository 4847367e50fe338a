-- Attempt budgets (failed sign-ins, wrong codes, code sends): one row per subject and window, so
-- a limit is taken by one conditional upsert instead of a count followed by a write, which
-- parallel requests could all pass.
CREATE TABLE attempt_limits (
    subject TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    count BIGINT NOT NULL
);
CREATE INDEX attempt_limits_window ON attempt_limits (window_start);

DROP TABLE sign_in_failures;

-- One-time secrets already in the outbox are no longer kept: codes (in the subject and the body
-- of a code email, or a text message), and the links of delivered invitations and messages.
UPDATE outbox_jobs SET subject = 'Your Onboard code', payload = '{"type":"redacted"}'
WHERE subject LIKE 'Your Onboard code:%' OR payload LIKE '{"type":"sms"%';
UPDATE outbox_jobs SET payload = '{"type":"redacted"}' WHERE status = 'done' AND payload LIKE '%/register/%';
