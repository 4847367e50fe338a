-- Fewer index entries to write for each member invited and each email sent.
--
-- A role or a service area belongs to one organization, so its id alone finds its members: the
-- list's role and area indexes lead with it and also serve the foreign-key checks that
-- memberships_role and memberships_area were kept for (a role or area deleted). The organization
-- stays in each index, last, so the list's filter is still checked in the index. A batch
-- of 5,000 invitations writes two index entries fewer per member.
DROP INDEX memberships_role;
DROP INDEX memberships_area;
DROP INDEX memberships_list_by_role;
DROP INDEX memberships_list_by_area;
CREATE INDEX memberships_list_by_role ON memberships (role_id, email, org_id);
CREATE INDEX memberships_list_by_area ON memberships (service_area_id, email, org_id);

-- Only queued jobs are looked up by when they are due. Claiming a job, finishing it or failing it
-- for good no longer writes an entry into the due index, only queueing it does.
DROP INDEX outbox_jobs_due;
CREATE INDEX outbox_jobs_due ON outbox_jobs (run_at, id) WHERE status = 'queued';
