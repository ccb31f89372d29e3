-- Partner-auth: each credit Electrum asked us to authorise, our decision and how delivering
-- it ended (a projection of the PayShapTransfer events). The decision sender reads the
-- pending ones from here after a restart.
CREATE TABLE payshap_authorisations
(
    uetr           text   PRIMARY KEY,
    message_id     text   NOT NULL,
    end_to_end_id  text,
    amount_minor   bigint NOT NULL,
    currency       text   NOT NULL,
    proxy_id       text,
    tran_id        text,
    created_at     text   NOT NULL,
    requested_at   text   NOT NULL,
    outcome        text,
    reason_code    text,
    reason         text,
    decided_at     text,
    -- PENDING until Electrum acknowledges (DELIVERED) or it cannot (UNDELIVERED).
    delivery       text   NOT NULL DEFAULT 'PENDING',
    delivery_note  text,
    attempts       bigint NOT NULL DEFAULT 0,
    settled_at     text,
    last_sequence  bigint NOT NULL
);
CREATE INDEX payshap_authorisations_pending ON payshap_authorisations (delivery, requested_at);

-- Held messages kept although their signature failed, and when (and why) one was applied.
ALTER TABLE held_messages ADD COLUMN unverified integer NOT NULL DEFAULT 0;
ALTER TABLE held_messages ADD COLUMN applied_at text;
ALTER TABLE held_messages ADD COLUMN applied_how text;
ALTER TABLE held_messages ADD COLUMN closed_at text;
ALTER TABLE held_messages ADD COLUMN closed_reason text;

-- Held credits worked to closure: where each one's case stands.
ALTER TABLE payshap_transfers ADD COLUMN case_status text;
ALTER TABLE payshap_transfers ADD COLUMN case_note text;
ALTER TABLE payshap_transfers ADD COLUMN case_updated_at text;
ALTER TABLE payshap_transfers ADD COLUMN original_created_at text;
ALTER TABLE payshap_transfers ADD COLUMN first_message_id text;

-- Four eyes: each money-moving request, who asked, who decided, and how it ended.
CREATE TABLE approvals
(
    approval_id   text   PRIMARY KEY,
    action        text   NOT NULL,
    target        text   NOT NULL,
    detail        text   NOT NULL,
    maker         text   NOT NULL,
    reason        text   NOT NULL,
    status        text   NOT NULL,
    requested_at  text   NOT NULL,
    expires_at    text   NOT NULL,
    decided_by    text,
    decided_at    text,
    outcome       text,
    last_sequence bigint NOT NULL
);
CREATE INDEX approvals_status ON approvals (status, requested_at);

-- Refunds: held money going back to the payer as outbound PayShap credit transfers. The
-- refund sender reads those still to be sent from here after a restart.
CREATE TABLE refunds
(
    refund_uetr   text   PRIMARY KEY,
    original_uetr text   NOT NULL,
    amount_minor  bigint NOT NULL,
    payer_account text   NOT NULL,
    payer_agent   text   NOT NULL,
    -- REQUESTED (to be sent), SENT, PARKED, SETTLED or FAILED.
    status        text   NOT NULL,
    note          text,
    requested_by  text   NOT NULL,
    requested_at  text   NOT NULL,
    updated_at    text   NOT NULL,
    last_sequence bigint NOT NULL
);
CREATE INDEX refunds_status ON refunds (status, requested_at);
