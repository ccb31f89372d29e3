-- PayShap proxy registry: a projection of the Proxy events, read on every resolution.
CREATE TABLE proxy_registry
(
    proxy_id           text   PRIMARY KEY,
    schema             text   NOT NULL,
    context            text   NOT NULL,
    value              text   NOT NULL,
    known_as_name      text   NOT NULL,
    legal_name         text   NOT NULL,
    account_created_on text   NOT NULL,
    status             text   NOT NULL,
    resolution_allowed bigint NOT NULL,
    retired            bigint NOT NULL,
    updated_at         text   NOT NULL,
    last_sequence      bigint NOT NULL
);

-- Inbound PayShap credit transfers as reported by the sponsor bank: a projection of the
-- PayShapTransfer events, for the mark-off extract and the back office.
CREATE TABLE payshap_transfers
(
    uetr              text   PRIMARY KEY,
    end_to_end_id     text,
    outcome           text   NOT NULL,
    credited          bigint NOT NULL,
    amount_minor      bigint NOT NULL,
    currency          text   NOT NULL,
    proxy_id          text,
    proxy_known       bigint NOT NULL,
    tran_id           text,
    debtor_name       text,
    messages          bigint NOT NULL,
    first_received_at text   NOT NULL,
    credited_at       text,
    exception         text,
    last_sequence     bigint NOT NULL
);
CREATE INDEX payshap_transfers_credited ON payshap_transfers (credited, credited_at);
