-- Advices: find a payment by the POS's request id (advices may omit the tranId), and show
-- the advice and completion in the status view.
ALTER TABLE payment_status ADD COLUMN request_message_id text;
ALTER TABLE payment_status ADD COLUMN advice text;
ALTER TABLE payment_status ADD COLUMN completed_at text;
CREATE INDEX payment_status_by_request ON payment_status (request_message_id);

-- Store-and-forward outbox: a projection of the payment events (rebuildable). One row per
-- delivery: what must reach which partner, and how far it got.
CREATE TABLE saf_outbox
(
    delivery_id   text   PRIMARY KEY,
    tran_id       text   NOT NULL,
    partner_id    text   NOT NULL,
    kind          text   NOT NULL,
    reason        text,
    request_id    text   NOT NULL,
    message       text   NOT NULL,
    status        text   NOT NULL,
    scheduled_at  text   NOT NULL,
    finished_at   text,
    outcome       text,
    last_sequence bigint NOT NULL
);
CREATE INDEX saf_outbox_pending ON saf_outbox (status, partner_id);

-- The dispatcher's own bookkeeping per delivery: retries and claims. Not a projection: it
-- records attempts, which are operational history rather than business events (ADR 0004).
CREATE TABLE saf_attempts
(
    delivery_id     text   PRIMARY KEY,
    attempts        bigint NOT NULL DEFAULT 0,
    next_attempt_at text   NOT NULL,
    claimed_by      text,
    claimed_until   text,
    last_attempt_at text,
    last_error      text,
    -- Where the maximum age counts from: scheduling, or the last unpark.
    age_from        text
);
CREATE INDEX saf_attempts_due ON saf_attempts (next_attempt_at);
