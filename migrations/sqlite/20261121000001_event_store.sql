-- The event store shared by every aggregate. Columns up to `metadata` are what sqlite-es
-- reads and writes; `position` places every event in one global feed.
CREATE TABLE events
(
    aggregate_type text                          NOT NULL,
    aggregate_id   text                          NOT NULL,
    sequence       integer CHECK (sequence >= 0) NOT NULL,
    event_type     text                          NOT NULL,
    event_version  text                          NOT NULL,
    payload        text                          NOT NULL,
    metadata       text                          NOT NULL,
    position       integer,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
) STRICT;

CREATE UNIQUE INDEX events_feed_order ON events (position);

-- SQLite lets one writer in at a time, so a position taken inside the inserting transaction
-- is also commit order. An explicit column (not the implicit rowid) because VACUUM may
-- renumber rowids.
CREATE TRIGGER events_assign_position AFTER INSERT ON events WHEN NEW.position IS NULL
BEGIN
    UPDATE events
       SET position = (SELECT COALESCE(MAX(position), 0) + 1 FROM events)
     WHERE rowid = NEW.rowid;
END;

-- Used by sqlite-es only when snapshotting is switched on.
CREATE TABLE snapshots
(
    aggregate_type   text                                  NOT NULL,
    aggregate_id     text                                  NOT NULL,
    last_sequence    integer CHECK (last_sequence >= 0)    NOT NULL,
    current_snapshot integer CHECK (current_snapshot >= 0) NOT NULL,
    payload          text                                  NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
) STRICT;

-- Where each projection is in the feed; written in the same transaction as its rows.
CREATE TABLE projection_checkpoints
(
    projection text    PRIMARY KEY,
    commit_tx  integer NOT NULL,
    position   integer NOT NULL,
    updated_at text    NOT NULL
) STRICT;
