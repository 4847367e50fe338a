-- The Users list at a million members.
--
-- Each membership carries its account's address and name, kept in step by the triggers below,
-- so that one index per filter holds the organization, the filter and the list's order
-- (the address): a page is a seek from the last address shown (keyset paging), not a sort.
ALTER TABLE memberships ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE memberships ADD COLUMN full_name TEXT NOT NULL DEFAULT '';
UPDATE memberships SET
    email = (SELECT a.email FROM accounts a WHERE a.id = memberships.account_id),
    full_name = (SELECT a.first_name || ' ' || a.last_name FROM accounts a WHERE a.id = memberships.account_id);

CREATE INDEX memberships_list ON memberships (org_id, email);
CREATE INDEX memberships_list_by_status ON memberships (org_id, status, email);
CREATE INDEX memberships_list_by_area ON memberships (org_id, service_area_id, email);
CREATE INDEX memberships_list_by_role ON memberships (org_id, role_id, email);

-- Search: a full-text index of every membership's address and name. A word is a run of letters
-- and digits (FTS5's unicode61 tokenizer, case folded, accents kept), and a search's words
-- match as prefixes: the rows PostgreSQL's `simple` text search finds for the same words. It
-- holds only the index (contentless), and rows can be deleted from it (contentless_delete,
-- SQLite 3.43).
CREATE VIRTUAL TABLE member_search USING fts5(
    email, full_name, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO member_search (rowid, email, full_name) SELECT id, email, full_name FROM memberships;

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

-- The statements that add members in bulk (an invitation batch, the seed) write the address
-- and name themselves: filling them in afterwards would write each row and its four list
-- indexes twice. Any other insert leaves them empty and this trigger fills them in (which
-- indexes them for search through memberships_searchable).
CREATE TRIGGER memberships_addressed AFTER INSERT ON memberships WHEN NEW.email = ''
BEGIN
    UPDATE memberships SET
        email = (SELECT email FROM accounts WHERE id = NEW.account_id),
        full_name = (SELECT first_name || ' ' || last_name FROM accounts WHERE id = NEW.account_id)
    WHERE id = NEW.id;
END;

CREATE TRIGGER memberships_listed AFTER INSERT ON memberships
BEGIN
    INSERT INTO member_search (rowid, email, full_name) SELECT NEW.id, NEW.email, NEW.full_name WHERE NEW.email <> '';
    -- ON CONFLICT, not OR IGNORE: an outer statement's OR REPLACE would override OR IGNORE here.
    INSERT INTO member_counts (org_id, status, service_area_id, role_id)
    VALUES (NEW.org_id, NEW.status, COALESCE(NEW.service_area_id, 0), NEW.role_id) ON CONFLICT DO NOTHING;
    UPDATE member_counts SET members = members + 1
    WHERE org_id = NEW.org_id AND status = NEW.status AND service_area_id = COALESCE(NEW.service_area_id, 0)
      AND role_id = NEW.role_id;
END;

CREATE TRIGGER memberships_unlisted AFTER DELETE ON memberships
BEGIN
    DELETE FROM member_search WHERE rowid = OLD.id;
    UPDATE member_counts SET members = members - 1
    WHERE org_id = OLD.org_id AND status = OLD.status AND service_area_id = COALESCE(OLD.service_area_id, 0)
      AND role_id = OLD.role_id;
END;

CREATE TRIGGER memberships_searchable AFTER UPDATE OF email, full_name ON memberships
BEGIN
    DELETE FROM member_search WHERE rowid = OLD.id;
    INSERT INTO member_search (rowid, email, full_name) VALUES (NEW.id, NEW.email, NEW.full_name);
END;

CREATE TRIGGER memberships_regrouped AFTER UPDATE OF status, service_area_id, role_id ON memberships
WHEN OLD.status IS NOT NEW.status OR OLD.service_area_id IS NOT NEW.service_area_id OR OLD.role_id IS NOT NEW.role_id
BEGIN
    UPDATE member_counts SET members = members - 1
    WHERE org_id = OLD.org_id AND status = OLD.status AND service_area_id = COALESCE(OLD.service_area_id, 0)
      AND role_id = OLD.role_id;
    -- ON CONFLICT, not OR IGNORE: an outer statement's OR REPLACE would override OR IGNORE here.
    INSERT INTO member_counts (org_id, status, service_area_id, role_id)
    VALUES (NEW.org_id, NEW.status, COALESCE(NEW.service_area_id, 0), NEW.role_id) ON CONFLICT DO NOTHING;
    UPDATE member_counts SET members = members + 1
    WHERE org_id = NEW.org_id AND status = NEW.status AND service_area_id = COALESCE(NEW.service_area_id, 0)
      AND role_id = NEW.role_id;
END;

CREATE TRIGGER accounts_relisted AFTER UPDATE OF email, first_name, last_name ON accounts
WHEN OLD.email IS NOT NEW.email OR OLD.first_name IS NOT NEW.first_name OR OLD.last_name IS NOT NEW.last_name
BEGIN
    UPDATE memberships SET email = NEW.email, full_name = NEW.first_name || ' ' || NEW.last_name
    WHERE account_id = NEW.id AND (email IS NOT NEW.email OR full_name IS NOT NEW.first_name || ' ' || NEW.last_name);
END;

-- The dashboard's teams, a page at a time in name order, read from the index.
CREATE INDEX teams_by_name ON teams (org_id, LOWER(name), id);
