-- A NOTIFY makes its transaction hold PostgreSQL's global notification lock while its commit
-- is flushed, so a trigger on `events` serialised every event commit of the cluster. Each
-- instance now batches the ids it committed into one NOTIFY of its own, sent after the event
-- commits (see src/app.rs); events commit without touching the notification queue.
DROP TRIGGER events_notify ON events;
DROP FUNCTION qrswitch_notify_events();
