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
