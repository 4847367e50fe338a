-- A team's members a page at a time, in address order, read from one index.
--
-- Each team membership carries its member's address (the copy memberships hold since 0010),
-- kept in step by the triggers below, so that a page of a team of 10,000 is a seek in
-- (team, address) instead of 10,000 lookups and a sort. Byte order ("C"), as the members list.
ALTER TABLE team_members ADD COLUMN email TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE team_members tm SET email = m.email FROM memberships m WHERE m.id = tm.membership_id;
CREATE INDEX team_members_by_email ON team_members (team_id, email);

CREATE FUNCTION address_team_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT m.email INTO NEW.email FROM memberships m WHERE m.id = NEW.membership_id;
    RETURN NEW;
END
$$;

-- The seed writes the address itself; any other insert leaves it empty and this fills it in.
CREATE TRIGGER team_members_addressed BEFORE INSERT ON team_members
FOR EACH ROW WHEN (NEW.email = '') EXECUTE FUNCTION address_team_member();

CREATE FUNCTION readdress_team_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE team_members SET email = NEW.email WHERE membership_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER memberships_readdressed AFTER UPDATE OF email ON memberships
FOR EACH ROW WHEN (OLD.email IS DISTINCT FROM NEW.email) EXECUTE FUNCTION readdress_team_members();
