-- Read model: where each payment stands, as the POS and ops see it.
-- Times are RFC 3339 UTC text with fixed width, so they sort as they compare.
CREATE TABLE payment_status
(
    tran_id       text   PRIMARY KEY,
    client_id     text   NOT NULL,
    terminal_id   text   NOT NULL,
    status        text   NOT NULL,
    amount_minor  bigint,
    currency      text,
    partner_id    text,
    issued_at     text   NOT NULL,
    expires_at    text   NOT NULL,
    updated_at    text   NOT NULL,
    last_sequence bigint NOT NULL
);

CREATE INDEX payment_status_by_client ON payment_status (client_id, issued_at);
