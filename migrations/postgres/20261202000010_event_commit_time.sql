-- When each event was written, for auditors: a payment's story and a day's export name it.
-- Text in one fixed UTC format (as the views keep times), so that it sorts as it reads and
-- both stores give it back alike. The appender writes it; the default covers any other
-- writer. Events stored before this column existed get the time their command was
-- received (metadata `received_at`), a few milliseconds before their commit.
ALTER TABLE events ADD COLUMN committed_at text;
UPDATE events SET committed_at = to_char((metadata->>'received_at')::timestamptz AT TIME ZONE 'UTC',
                                         'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
ALTER TABLE events ALTER COLUMN committed_at
    SET DEFAULT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
CREATE INDEX events_committed_at ON events (committed_at);
