//! Electrum's file conventions (docs.electrumsoftware.com/epc/public/file-spec and
//! /transferring-files): names `[ENTITY]_[FILE TYPE]_[SCHEME]_[REPORT NAME]_[PERIOD END]_[CREATED].csv`
//! with both times `YYYYMMDDhhmmss`; the bucket's layout
//! `[CLIENT]/PAYSHAP/Mark-offs/YYYY-MM-DD/` (ours and Electrum's extracts) and
//! `[CLIENT]/PAYSHAP/Reports/YYYY-MM-DD/` (Electrum's MATCHED and UNMATCHED), the date being
//! the transaction date. The pages stop before the columns; ours are derived from the
//! matching fields they name (identifiers, status, amounts, dates) and kept here alone.

use aggregates::electrum_recon::ReconLine;
use chrono::{NaiveDate, NaiveDateTime};

/// The columns of every recon file, in order.
pub const COLUMNS: [&str; 7] = [
    "uetr",
    "end_to_end_id",
    "creation_date_time",
    "status",
    "amount",
    "currency",
    "creditor",
];

/// `RPP`: PayShap.
pub const SCHEME: &str = "RPP";

/// `[ENTITY]_[FILE TYPE]_RPP_[REPORT]_[PERIOD END]_[CREATED].csv`.
pub fn file_name(
    entity: &str,
    file_type: &str,
    report: &str,
    period_end: NaiveDateTime,
    created: NaiveDateTime,
) -> String {
    let stamp = |t: NaiveDateTime| t.format("%Y%m%d%H%M%S").to_string();
    format!(
        "{entity}_{file_type}_{SCHEME}_{report}_{}_{}.csv",
        stamp(period_end),
        stamp(created)
    )
}

/// The parts of a file name: `(file type, report name)`, if it is one of ours to read.
pub fn parse_name<'a>(name: &'a str, entity: &str) -> Option<(&'a str, &'a str)> {
    let rest = name
        .strip_prefix(entity)?
        .strip_prefix('_')?
        .strip_suffix(".csv")?;
    let mut parts = rest.split('_');
    let file_type = parts.next()?;
    (parts.next()? == SCHEME).then_some(())?;
    let report = parts.next()?;
    Some((file_type, report))
}

pub fn mark_offs(client: &str, day: NaiveDate) -> String {
    format!("{client}/PAYSHAP/Mark-offs/{day}/")
}

pub fn reports(client: &str, day: NaiveDate) -> String {
    format!("{client}/PAYSHAP/Reports/{day}/")
}

fn amount_text(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

/// A decimal amount in rand as cents (`49.99` → 4999), read from its text.
fn cents(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let fraction = fraction.trim_end_matches('0');
    if !digits(whole) || fraction.len() > 2 || !(fraction.is_empty() || digits(fraction)) {
        return None;
    }
    let cents: i64 = format!("{fraction:0<2}").parse().ok()?;
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents)
}

/// The CSV of `lines` (header first, CRLF as Electrum's other files).
pub fn write(lines: &[ReconLine]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    out.write_record(COLUMNS)?;
    for line in lines {
        out.write_record([
            line.uetr.as_str(),
            &line.end_to_end_id,
            &line.created_at,
            &line.status,
            &amount_text(line.amount_minor),
            &line.currency,
            &line.creditor,
        ])?;
    }
    out.into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// The lines of a recon file; a line that does not read is an error naming it.
pub fn read(bytes: &[u8]) -> anyhow::Result<Vec<ReconLine>> {
    let mut reader = csv::Reader::from_reader(bytes);
    let mut lines = Vec::new();
    for (number, record) in reader.records().enumerate() {
        let record = record?;
        let field = |i: usize| record.get(i).unwrap_or_default().trim().to_owned();
        let amount = cents(&field(4))
            .ok_or_else(|| anyhow::anyhow!("line {}: amount {:?}", number + 2, field(4)))?;
        lines.push(ReconLine {
            uetr: field(0),
            end_to_end_id: field(1),
            created_at: field(2),
            status: field(3),
            amount_minor: amount,
            currency: field(5),
            creditor: field(6),
        });
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_file_spec_and_read_back() {
        let at = |h, m, s| {
            NaiveDate::from_ymd_opt(2026, 12, 7)
                .unwrap()
                .and_hms_opt(h, m, s)
                .unwrap()
        };
        let name = file_name("ACME", "EXTRACT", "MARKOFF", at(23, 59, 59), at(2, 0, 0));
        assert_eq!(
            name,
            "ACME_EXTRACT_RPP_MARKOFF_20261207235959_20261207020000.csv"
        );
        assert_eq!(parse_name(&name, "ACME"), Some(("EXTRACT", "MARKOFF")));
        assert_eq!(parse_name("OTHER_EXTRACT_RPP_X_1_2.csv", "ACME"), None);
    }
}
