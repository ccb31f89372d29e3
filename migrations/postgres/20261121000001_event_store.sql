-- The event store shared by every aggregate. Columns up to `metadata` are what postgres-es
-- reads and writes; the rest give every event a place in one global, commit-ordered feed.
CREATE TABLE events
(
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        json                         NOT NULL,
    metadata       json                         NOT NULL,
    -- Given at insert time, so two writers can commit out of position order.
    position       bigserial                    NOT NULL UNIQUE,
    -- The inserting transaction. Readers only take events of transactions older than every
    -- transaction still running, then order by (commit_tx, position): see docs/adr/0002.
    commit_tx      bigint                       NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

CREATE INDEX events_feed_order ON events (commit_tx, position);

-- Used by postgres-es only when snapshotting is switched on.
CREATE TABLE snapshots
(
    aggregate_type   text                                 NOT NULL,
    aggregate_id     text                                 NOT NULL,
    last_sequence    bigint CHECK (last_sequence >= 0)    NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload          json                                 NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);

-- Wakes projectors on every instance when events commit (delivered at commit, one per
-- transaction). Projectors also poll, so a lost notification only delays them.
CREATE FUNCTION qrswitch_notify_events() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('qrswitch_events', '');
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION qrswitch_notify_events();

-- Where each projection is in the feed; written in the same transaction as its rows.
CREATE TABLE projection_checkpoints
(
    projection text   PRIMARY KEY,
    commit_tx  bigint NOT NULL,
    position   bigint NOT NULL,
    updated_at text   NOT NULL
);
