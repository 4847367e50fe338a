-- An address with an international domain is now kept in one form, the domain in Unicode after
-- IDNA processing (user@xn--bcher-kva.example and user@BÜCHER.example are user@bücher.example).
-- The first start after this migration rewrites the stored accounts, in Rust, and clears the row.
CREATE TABLE pending_data_fixes (name TEXT PRIMARY KEY);
INSERT INTO pending_data_fixes (name) VALUES ('international_domains');

-- Where registering members' national mobile numbers are read (ISO 3166-1 alpha-2), or '' for none.
ALTER TABLE organizations ADD COLUMN default_country TEXT NOT NULL DEFAULT '';
