-- When each event was written, for auditors: a payment's story and a day's export name it.
-- Text in one fixed UTC format (as the views keep times), so that it sorts as it reads. The
-- appender writes it. Events stored before this column existed get the time their command
-- was received (metadata `received_at`, to the millisecond), a little before their commit.
ALTER TABLE events ADD COLUMN committed_at TEXT;
UPDATE events
   SET committed_at = strftime('%Y-%m-%dT%H:%M:%f', json_extract(metadata, '$.received_at')) || '000Z'
 WHERE json_extract(metadata, '$.received_at') IS NOT NULL;
CREATE INDEX events_committed_at ON events (committed_at);
