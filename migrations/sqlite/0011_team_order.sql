-- A team's members a page at a time, in address order, read from one index.
--
-- Each team membership carries its member's address (the copy memberships hold since 0010),
-- kept in step by the triggers below, so that a page of a team of 10,000 is a seek in
-- (team, address) instead of 10,000 lookups and a sort.
ALTER TABLE team_members ADD COLUMN email TEXT NOT NULL DEFAULT '';
UPDATE team_members SET email = (SELECT m.email FROM memberships m WHERE m.id = team_members.membership_id);
CREATE INDEX team_members_by_email ON team_members (team_id, email);

-- The seed writes the address itself; any other insert leaves it empty and this fills it in.
CREATE TRIGGER team_members_addressed AFTER INSERT ON team_members WHEN NEW.email = ''
BEGIN
    UPDATE team_members SET email = (SELECT email FROM memberships WHERE id = NEW.membership_id)
    WHERE team_id = NEW.team_id AND membership_id = NEW.membership_id;
END;

CREATE TRIGGER memberships_readdressed AFTER UPDATE OF email ON memberships WHEN OLD.email IS NOT NEW.email
BEGIN
    UPDATE team_members SET email = NEW.email WHERE membership_id = NEW.id;
END;
