-- The Users list at a million members.
--
-- Each membership carries its account's address and name, kept in step by the triggers below,
-- so that one index per filter holds the organization, the filter and the list's order
-- (the address): a page is a seek from the last address shown (keyset paging), not a sort.
-- The address compares byte by byte ("C"), as SQLite's does, so both order the list alike
-- whatever the database's locale.
ALTER TABLE memberships ADD COLUMN email TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE memberships ADD COLUMN full_name TEXT NOT NULL DEFAULT '';
UPDATE memberships m SET email = a.email, full_name = a.first_name || ' ' || a.last_name
FROM accounts a WHERE a.id = m.account_id;

CREATE INDEX memberships_list ON memberships (org_id, email);
CREATE INDEX memberships_list_by_status ON memberships (org_id, status, email);
CREATE INDEX memberships_list_by_area ON memberships (org_id, service_area_id, email);
CREATE INDEX memberships_list_by_role ON memberships (org_id, role_id, email);

-- Search: the words of the address and the name as a text search vector, indexed by GIN. A word
-- is a run of letters and digits, lower-cased, with the final sigma ς as σ: the words SQLite's
-- unicode61 tokenizer keeps, folded as it folds them. The words become lexemes as they are
-- (array_to_tsvector), not through the text search parser, which would read `7e3a9f` as the
-- number 7e3 and the word a9f. A search's words, folded alike (`domain::members::fold`), match
-- as prefixes: the rows SQLite's FTS5 table finds. The text takes the database's collation, not
-- the address's "C", whose [:alnum:] knows only ASCII letters.
ALTER TABLE memberships ADD COLUMN search tsvector GENERATED ALWAYS AS (
    array_to_tsvector(array_remove(regexp_split_to_array(
        translate(LOWER((email || ' ' || full_name) COLLATE "default"), 'ς', 'σ'), '[^[:alnum:]]+'), ''))
) STORED;
CREATE INDEX memberships_search ON memberships USING gin (search);

-- How many members each combination of status, service area (0 for none) and role holds, so
-- that the list's count for any of its filters adds up a few rows instead of scanning members.
CREATE TABLE member_counts (
    org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    service_area_id BIGINT NOT NULL,
    role_id BIGINT NOT NULL,
    members BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, status, service_area_id, role_id)
);
INSERT INTO member_counts (org_id, status, service_area_id, role_id, members)
SELECT org_id, status, COALESCE(service_area_id, 0), role_id, COUNT(*)
FROM memberships GROUP BY org_id, status, COALESCE(service_area_id, 0), role_id;

CREATE FUNCTION list_membership() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT a.email, a.first_name || ' ' || a.last_name INTO NEW.email, NEW.full_name
    FROM accounts a WHERE a.id = NEW.account_id;
    RETURN NEW;
END
$$;

-- The statements that add members in bulk (an invitation batch, the seed) write the address
-- and name themselves; any other insert leaves them empty and this fills them in.
CREATE TRIGGER memberships_listed BEFORE INSERT ON memberships
FOR EACH ROW WHEN (NEW.email = '') EXECUTE FUNCTION list_membership();

-- A statement at a time, like the organization's counts (0005): a batch of invitations moves
-- each group's row once, not once a member. Rows are taken in key order, so two batches at
-- once lock them in the same order.
CREATE FUNCTION count_member_groups() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO member_counts AS c (org_id, status, service_area_id, role_id, members)
        SELECT org_id, status, COALESCE(service_area_id, 0), role_id, COUNT(*)
        FROM new_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (org_id, status, service_area_id, role_id) DO UPDATE SET members = c.members + EXCLUDED.members;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE member_counts c SET members = c.members - d.members
        FROM (SELECT org_id, status, COALESCE(service_area_id, 0) AS area, role_id, COUNT(*) AS members
              FROM old_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4) d
        WHERE c.org_id = d.org_id AND c.status = d.status AND c.service_area_id = d.area AND c.role_id = d.role_id;
    ELSE
        INSERT INTO member_counts AS c (org_id, status, service_area_id, role_id, members)
        SELECT org_id, status, area, role_id, SUM(change)
        FROM (SELECT org_id, status, COALESCE(service_area_id, 0) AS area, role_id, 1 AS change FROM new_rows
              UNION ALL
              SELECT org_id, status, COALESCE(service_area_id, 0), role_id, -1 FROM old_rows) moved
        GROUP BY 1, 2, 3, 4 HAVING SUM(change) <> 0 ORDER BY 1, 2, 3, 4
        ON CONFLICT (org_id, status, service_area_id, role_id) DO UPDATE SET members = c.members + EXCLUDED.members;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER memberships_grouped AFTER INSERT ON memberships
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_member_groups();
CREATE TRIGGER memberships_ungrouped AFTER DELETE ON memberships
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION count_member_groups();
CREATE TRIGGER memberships_regrouped AFTER UPDATE ON memberships
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_member_groups();

CREATE FUNCTION relist_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE memberships SET email = NEW.email, full_name = NEW.first_name || ' ' || NEW.last_name
    WHERE account_id = NEW.id
      AND (email, full_name) IS DISTINCT FROM (NEW.email, NEW.first_name || ' ' || NEW.last_name);
    RETURN NULL;
END
$$;

CREATE TRIGGER accounts_relisted AFTER UPDATE OF email, first_name, last_name ON accounts
FOR EACH ROW WHEN (OLD.email IS DISTINCT FROM NEW.email OR OLD.first_name IS DISTINCT FROM NEW.first_name
                   OR OLD.last_name IS DISTINCT FROM NEW.last_name)
EXECUTE FUNCTION relist_account();

-- The dashboard's teams, a page at a time in name order, read from the index.
CREATE INDEX teams_by_name ON teams (org_id, LOWER(name), id);

-- An update of memberships counts only the rows whose status, notice or mapping changed. The
-- account triggers above rewrite an account's memberships in every organization when a name
-- changes; counting those rows would lock each of those organizations' counts row for nothing.
CREATE OR REPLACE FUNCTION count_memberships() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE onboarding_counts c SET total = c.total - d.total, onboarded = c.onboarded - d.onboarded,
            notified = c.notified - d.notified, connected = c.connected - d.connected
        FROM (SELECT org_id, COUNT(*) AS total, SUM(onboarded_flag(status)) AS onboarded,
                     SUM(notified_flag(status, notified_at)) AS notified,
                     SUM(connected_flag(status, notified_at, mapped)) AS connected
              FROM old_rows GROUP BY org_id) d
        WHERE c.org_id = d.org_id;
    ELSIF TG_OP = 'INSERT' THEN
        UPDATE onboarding_counts c SET total = c.total + d.total, onboarded = c.onboarded + d.onboarded,
            notified = c.notified + d.notified, connected = c.connected + d.connected
        FROM (SELECT org_id, COUNT(*) AS total, SUM(onboarded_flag(status)) AS onboarded,
                     SUM(notified_flag(status, notified_at)) AS notified,
                     SUM(connected_flag(status, notified_at, mapped)) AS connected
              FROM new_rows GROUP BY org_id) d
        WHERE c.org_id = d.org_id;
    ELSE
        UPDATE onboarding_counts c SET onboarded = c.onboarded + d.onboarded,
            notified = c.notified + d.notified, connected = c.connected + d.connected
        FROM (SELECT n.org_id,
                     SUM(onboarded_flag(n.status) - onboarded_flag(o.status)) AS onboarded,
                     SUM(notified_flag(n.status, n.notified_at) - notified_flag(o.status, o.notified_at)) AS notified,
                     SUM(connected_flag(n.status, n.notified_at, n.mapped)
                         - connected_flag(o.status, o.notified_at, o.mapped)) AS connected
              FROM new_rows n JOIN old_rows o ON o.id = n.id
              WHERE (n.status, n.notified_at, n.mapped) IS DISTINCT FROM (o.status, o.notified_at, o.mapped)
              GROUP BY n.org_id) d
        WHERE c.org_id = d.org_id;
        UPDATE teams t SET onboarded = t.onboarded + d.change
        FROM (SELECT tm.team_id, SUM(onboarded_flag(n.status) - onboarded_flag(o.status)) AS change
              FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN team_members tm ON tm.membership_id = n.id
              WHERE onboarded_flag(n.status) <> onboarded_flag(o.status)
              GROUP BY tm.team_id) d
        WHERE t.id = d.team_id;
    END IF;
    RETURN NULL;
END
$$;
