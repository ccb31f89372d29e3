//! Reconciliation with Electrum's files (EPC back office, "full recon"), over the agreed S3
//! bucket:
//!
//! - [`files`]: how files are named and laid out, and their columns (one place, so that they
//!   can follow Electrum's specification where it is cut off).
//! - [`bucket`]: the S3 bucket, through `object_store`.
//! - [`compare`]: Electrum's lines against our ledger: matched, missing at us, missing at
//!   Electrum, amount or status different.
//! - [`run`]: one day: our mark-off uploaded, Electrum's extract and reports compared, each
//!   recorded once by content (re-running changes nothing).
//! - [`schedule`]: the daily run in `serve`.

pub mod bucket;
pub mod compare;
pub mod files;
pub mod run;
pub mod schedule;
