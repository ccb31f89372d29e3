-- Each business day's digest as recorded (`qrswitch digest --day D`): the Merkle root over
-- the heads of every stream written that day (projections::chain). A later `qrswitch
-- verify --day D` recomputes it from the events and compares: a history rewritten since,
-- even with its chains recomputed, gives another root.
CREATE TABLE day_digests
(
    day         text   PRIMARY KEY,
    root        text   NOT NULL,
    streams     bigint NOT NULL,
    events      bigint NOT NULL,
    recorded_at text   NOT NULL
);
