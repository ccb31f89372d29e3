-- Back office: the recon projection. One row per payment request with what finance needs
-- (who, where, how much, outcome, advice, fee), the deliveries of advices to partners, the
-- fee terms in force, and the partners' settlement files as imported. Reports group these
-- rows by business day at query time, so a change of cut-off needs no rebuild.
CREATE TABLE recon_payments
(
    tran_id       text   PRIMARY KEY,
    retailer_id   text   NOT NULL,
    store_id      text   NOT NULL,
    lane_id       text   NOT NULL,
    partner_id    text,
    amount_minor  bigint,
    currency      text,
    requested_at  text,
    outcome       text,
    outcome_at    text,
    fee_minor     bigint,
    fee_version   bigint,
    advice        text,
    advice_at     text,
    completed_at  text,
    payshap_uetr  text,
    refund_minor  bigint,
    refund_reason text,
    last_sequence bigint NOT NULL
);
CREATE INDEX recon_payments_requested ON recon_payments (requested_at);

CREATE TABLE recon_deliveries
(
    delivery_id   text   PRIMARY KEY,
    tran_id       text   NOT NULL,
    partner_id    text   NOT NULL,
    kind          text   NOT NULL,
    status        text   NOT NULL,
    scheduled_at  text   NOT NULL,
    delivered_at  text,
    note          text,
    last_sequence bigint NOT NULL
);
CREATE INDEX recon_deliveries_tran ON recon_deliveries (tran_id);

CREATE TABLE recon_fee_terms
(
    partner_id    text   PRIMARY KEY,
    basis_points  bigint NOT NULL,
    fixed_minor   bigint NOT NULL,
    minimum_minor bigint NOT NULL,
    maximum_minor bigint,
    version       bigint NOT NULL,
    effective_at  text   NOT NULL
);

CREATE TABLE recon_statements
(
    partner_id   text   NOT NULL,
    business_day text   NOT NULL,
    version      bigint NOT NULL,
    file_name    text   NOT NULL,
    sha256       text   NOT NULL,
    line_count   bigint NOT NULL,
    imported_at  text   NOT NULL,
    PRIMARY KEY (partner_id, business_day)
);

CREATE TABLE recon_statement_lines
(
    partner_id        text   NOT NULL,
    business_day      text   NOT NULL,
    tran_id           text   NOT NULL,
    line_number       bigint NOT NULL,
    partner_reference text   NOT NULL,
    amount_minor      bigint NOT NULL,
    currency          text   NOT NULL,
    transaction_time  text   NOT NULL,
    PRIMARY KEY (partner_id, business_day, tran_id)
);
CREATE INDEX recon_statement_lines_tran ON recon_statement_lines (tran_id);
