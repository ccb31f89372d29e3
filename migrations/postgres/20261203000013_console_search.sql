-- The operator console's search: the POS's own reference of each payment (the first
-- `thirdPartyIdentifiers` transactionIdentifier of its payment request), and indexes for the
-- filters the console offers, each ending in the time it sorts by, so that a filtered page
-- is an index range read (measured in docs/benchmarks.md).
ALTER TABLE recon_payments ADD COLUMN pos_reference text;
CREATE INDEX recon_payments_pos_reference ON recon_payments (pos_reference);
CREATE INDEX recon_payments_retailer ON recon_payments (retailer_id, requested_at);
CREATE INDEX recon_payments_store ON recon_payments (store_id, lane_id, requested_at);
CREATE INDEX recon_payments_partner ON recon_payments (partner_id, requested_at);
CREATE INDEX recon_payments_outcome ON recon_payments (outcome, requested_at);
CREATE INDEX recon_payments_amount ON recon_payments (amount_minor);
CREATE INDEX payshap_transfers_end_to_end ON payshap_transfers (end_to_end_id);
CREATE INDEX payshap_transfers_proxy ON payshap_transfers (proxy_id, first_received_at);
CREATE INDEX payshap_transfers_received ON payshap_transfers (first_received_at);
CREATE INDEX proxy_registry_value ON proxy_registry (value);
-- A payment's deliveries, for its page.
CREATE INDEX saf_outbox_tran ON saf_outbox (tran_id);

-- The new column is filled from the events: the recon view is rebuilt from the start of the
-- feed (it is a pure function of the events, fee terms included), here by emptying it and
-- removing its checkpoint so that the projector replays it at start-up.
DELETE FROM recon_statement_lines;
DELETE FROM recon_statements;
DELETE FROM recon_fee_terms;
DELETE FROM recon_deliveries;
DELETE FROM recon_payments;
DELETE FROM projection_checkpoints WHERE projection = 'recon';

-- Every failed attempt of a delivery, for the payment's story in the console. The attempt
-- that succeeds is the AdviceDelivered event itself, so the happy path writes nothing here.
CREATE TABLE saf_attempt_log
(
    delivery_id  text   NOT NULL,
    attempt      bigint NOT NULL,
    attempted_at text   NOT NULL,
    error        text   NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
