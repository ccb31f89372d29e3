-- The tamper-evident chain: each event's SHA-256 over the previous event's hash and its own
-- stored content (projections::chain, ADR 0011). Written by the appender with the event;
-- events stored before this column existed are chained by `qrswitch migrate` (and `serve`,
-- which migrates first) right after this migration.
ALTER TABLE events ADD COLUMN hash text;
-- Finds what is left to chain at once, and is empty once everything is.
CREATE INDEX events_unchained ON events (aggregate_type, aggregate_id) WHERE hash IS NULL;
