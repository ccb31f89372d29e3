-- The W3C traceparent of the request that scheduled a delivery, passed on with it to the
-- partner. Deliveries scheduled before have none.
ALTER TABLE saf_outbox ADD COLUMN traceparent text;
