-- Room in each page of the busiest views for a row's next version. A views pass updates a
-- payment's rows as it moves on; where an update changes no indexed column and its page
-- has room, PostgreSQL keeps the new version in the same page (a HOT update) and touches
-- none of the table's indexes, of which `recon_payments` has eight. Measured under the
-- bench (docs/benchmarks.md, 2026-12-08): HOT updates went from about 5 % to 40 % of these
-- tables' updates (`recon_deliveries` 10 % to 66 %), and the views' write statements took
-- about a tenth less time per payment. The price is a fifth more pages for these tables.
-- The SAF tables are left as they are: each of their updates changes an indexed column
-- (the status, the next attempt's time), so no room would make it HOT.
ALTER TABLE payment_status SET (fillfactor = 80);
ALTER TABLE recon_payments SET (fillfactor = 80);
ALTER TABLE recon_deliveries SET (fillfactor = 80);
