-- Name the aggregate in each notification, so an instance wakes exactly the request waiting
-- on it (a POS's `pay`) instead of every waiter. Notifications with the same payload in one
-- transaction are merged by PostgreSQL, so this is one per aggregate per commit.
DROP TRIGGER events_notify ON events;

CREATE OR REPLACE FUNCTION qrswitch_notify_events() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('qrswitch_events', NEW.aggregate_id);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION qrswitch_notify_events();
