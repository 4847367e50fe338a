-- A batch of more than two parts (10,000 addresses) answers once its first two are stored; an
-- outbox job (deferred_job_id) stores the rest a part at a time, each part in its own
-- transaction, which also moves deferred_stored on. The addresses still to store wait in
-- deferred_addresses (a JSON array), apart from the batch's row, which the batch page reads
-- every second and each part updates; the list goes once all of it is stored.
ALTER TABLE invite_batches ADD COLUMN deferred_total BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invite_batches ADD COLUMN deferred_stored BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invite_batches ADD COLUMN deferred_job_id BIGINT REFERENCES outbox_jobs (id);

CREATE TABLE deferred_addresses (
    batch_id BIGINT PRIMARY KEY REFERENCES invite_batches (id) ON DELETE CASCADE,
    addresses TEXT NOT NULL
);
