-- Jobs whose lease ran out, found by when it ran out. Every claim looks for one first; through
-- the due index it had to step over every job that was ever running, done ones included (their
-- old index entries), which made a batch of 100,000 slower with each email sent.
CREATE INDEX outbox_jobs_leases ON outbox_jobs (locked_until, id) WHERE status = 'running';
