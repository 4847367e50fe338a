-- The onboarding funnel: when an invited member first reached each step that registering
-- records. Invited is the membership's creation, Delivered is read from the invitation emails'
-- outbox jobs, and Active is activated_at. A step marked once keeps its first time.
-- Opening the link records nothing else: a HEAD, or a GET within seconds of the email's
-- delivery, may be a mail scanner, so it is kept apart from an open taken as the person's.
-- A table of its own, not columns of memberships: on PostgreSQL every UPDATE of memberships
-- runs the statement trigger that keeps the organization's counts, and a campaign's link
-- opens would all queue on that one counts row.
CREATE TABLE membership_funnel (
    membership_id BIGINT PRIMARY KEY REFERENCES memberships (id) ON DELETE CASCADE,
    link_opened_at BIGINT,
    scanner_opened_at BIGINT,
    details_at BIGINT,
    second_factor_at BIGINT,
    agreement_at BIGINT
);
