-- Approvals in chat: a connector may post each new access request, as an interactive card, to
-- an approvers' conversation (a Slack channel, or a Teams channel or group chat) through one of
-- the organization's Slack or Teams connectors, itself or another; and it tells the requester
-- when they are approved.
ALTER TABLE connectors ADD COLUMN approvals_via BIGINT REFERENCES connectors (id) ON DELETE SET NULL;
ALTER TABLE connectors ADD COLUMN approvers_conversation TEXT NOT NULL DEFAULT '';
ALTER TABLE connectors ADD COLUMN approval_message TEXT NOT NULL
    DEFAULT 'You''re approved: you can talk to the agent now. Go ahead and ask your question.';
-- Where the requester is told (the conversation their first message came from, as JSON), whether
-- they were told of their approval, and the card posted for the approvers (JSON), once posted.
ALTER TABLE access_requests ADD COLUMN reply_to TEXT;
ALTER TABLE access_requests ADD COLUMN approval_told BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE access_requests ADD COLUMN card TEXT;
