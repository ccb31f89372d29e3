-- When the waiting POS must have its answer, and why a payment ended as it did. Lets the
-- deadline sweeper find overdue payments whose waiting instance died.
ALTER TABLE payment_status ADD COLUMN respond_by text;
ALTER TABLE payment_status ADD COLUMN outcome_reason text;

CREATE INDEX payment_status_overdue ON payment_status (status, respond_by);
