-- What an inbound chat message carried: 'text', or a kind of media whose caption is the text
-- ('photo', 'voice', 'audio', 'video', 'sticker', 'document', 'location', 'contact', 'other'),
-- and the provider's reference to it: a file id, a media URL, or a geo: or tel: URI.
ALTER TABLE chat_messages ADD COLUMN content_kind TEXT NOT NULL DEFAULT 'text';
ALTER TABLE chat_messages ADD COLUMN attachment TEXT;
