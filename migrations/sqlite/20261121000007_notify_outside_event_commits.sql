-- SQLite never had a notification trigger; this keeps migration versions equal on both backends.
SELECT 1;
