-- The picture of a chat account a member connected themselves (OAuth): an https address from
-- Slack's OpenID Connect userInfo `picture` claim, or Microsoft Graph's 48x48 profile photo as a
-- data: URL (Graph gives bytes, not an address). The top bar shows it instead of the initials.
ALTER TABLE identity_mappings ADD COLUMN picture TEXT;
