//! Partner settlement files: parsing the CSV (columns in docs/backoffice.md) and importing
//! it as a `PartnerStatement` event. A file with any bad line is refused whole, with the
//! line and column at fault; nothing of it is stored.

use std::collections::HashMap;

use aggregates::partner_statement::StatementLine;
use aggregates::values::{Amount, Currency};
use chrono::{DateTime, Utc};

/// The columns a partner file must have (in any order; others are ignored).
pub const COLUMNS: [&str; 5] = [
    "tran_id",
    "partner_reference",
    "transaction_time",
    "amount",
    "currency",
];

/// Longest tranId or reference kept: the contract's ids are at most 40 characters, and a
/// partner's reference is its own; 64 leaves room without storing whatever a file holds.
pub const MAX_FIELD_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}{}: {reason}", column.map(|c| format!(", {c}")).unwrap_or_default())]
pub struct StatementError {
    pub line: u64,
    pub column: Option<&'static str>,
    pub reason: String,
}

impl StatementError {
    fn at(line: u64, column: &'static str, reason: impl Into<String>) -> Self {
        Self {
            line,
            column: Some(column),
            reason: reason.into(),
        }
    }
}

/// Parses a whole file; the header is line 1.
pub fn parse(bytes: &[u8]) -> Result<Vec<StatementLine>, StatementError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let file_error = |line: u64, reason: String| StatementError {
        line,
        column: None,
        reason,
    };
    let headers = reader
        .headers()
        .map_err(|e| file_error(1, format!("not a CSV header: {e}")))?
        .clone();
    let index: HashMap<String, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, name)| (name.to_ascii_lowercase(), i))
        .collect();
    let mut columns = [0usize; COLUMNS.len()];
    for (slot, name) in columns.iter_mut().zip(COLUMNS) {
        *slot = *index
            .get(name)
            .ok_or_else(|| file_error(1, format!("the header has no {name} column")))?;
    }
    let mut lines = Vec::new();
    for (offset, record) in reader.records().enumerate() {
        let line = offset as u64 + 2;
        let record = record.map_err(|e| file_error(line, format!("not valid CSV: {e}")))?;
        let field = |position: usize| record.get(columns[position]).unwrap_or_default();
        lines.push(parse_line(line, |i| field(i))?);
    }
    Ok(lines)
}

fn parse_line<'a>(
    line: u64,
    field: impl Fn(usize) -> &'a str,
) -> Result<StatementLine, StatementError> {
    let text = |position: usize| {
        let value = field(position);
        if value.is_empty() || value.chars().count() > MAX_FIELD_CHARS {
            return Err(StatementError::at(
                line,
                COLUMNS[position],
                format!("must be 1 to {MAX_FIELD_CHARS} characters"),
            ));
        }
        Ok(value.to_owned())
    };
    let tran_id = text(0)?;
    let partner_reference = text(1)?;
    let transaction_time = DateTime::parse_from_rfc3339(field(2))
        .map_err(|_| StatementError::at(line, "transaction_time", "must be an RFC 3339 time"))?
        .with_timezone(&Utc);
    let minor_units = parse_decimal_amount(field(3))
        .map_err(|reason| StatementError::at(line, "amount", reason))?;
    let currency = match field(4) {
        "ZAR" => Currency::ZAR,
        code => Currency::parse(code).map_err(|_| {
            StatementError::at(line, "currency", "must be ZAR or an ISO 4217 numeric code")
        })?,
    };
    let amount = Amount::new(minor_units, currency)
        .map_err(|e| StatementError::at(line, "amount", e.to_string()))?;
    Ok(StatementLine {
        line_number: u32::try_from(line).unwrap_or(u32::MAX),
        tran_id,
        partner_reference,
        amount,
        transaction_time,
    })
}

/// `123.45`, `123.4` or `123` rand to minor units; never through a float.
pub fn parse_decimal_amount(text: &str) -> Result<i64, String> {
    let refuse = || Err(format!("{text:?} is not an amount such as 123.45"));
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (text.contains('.') && !digits(fraction)) || fraction.len() > 2 {
        return refuse();
    }
    let Ok(whole) = whole.parse::<i64>() else {
        return refuse();
    };
    let cents = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().unwrap_or(0) * 10,
        _ => fraction.parse::<i64>().unwrap_or(0),
    };
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(cents))
        .map_or_else(refuse, Ok)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const HEADER: &str = "tran_id,partner_reference,transaction_time,amount,currency\n";

    proptest! {
        /// Random bytes, and a real file with random bytes spliced in: parsed or refused
        /// with a reason, never a panic.
        #[test]
        fn any_bytes_parse_or_are_refused(
            bytes in prop::collection::vec(any::<u8>(), 0..600),
            at in 0usize..200,
        ) {
            let _ = parse(&bytes);
            let mut file = format!("{HEADER}aa11,P-1,2026-11-21T08:00:00+02:00,12.50,ZAR\n").into_bytes();
            let at = at.min(file.len());
            file.splice(at..at, bytes.iter().copied().take(40));
            if let Err(error) = parse(&file) {
                prop_assert!(!error.to_string().is_empty());
            }
        }
    }

    #[test]
    fn a_good_file_parses_with_line_numbers() {
        let file = format!(
            "{HEADER}aa11,P-1,2026-11-21T08:00:00+02:00,12.50,ZAR\nbb22,P-2,2026-11-21T06:00:01Z,7,710\n"
        );
        let lines = parse(file.as_bytes()).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].line_number, 2);
        assert_eq!(lines[0].amount.minor_units(), 1_250);
        assert_eq!(
            lines[0].transaction_time.to_rfc3339(),
            "2026-11-21T06:00:00+00:00"
        );
        assert_eq!(lines[1].amount.minor_units(), 700);
    }

    #[test]
    fn columns_may_come_in_any_order_and_extra_ones_are_ignored() {
        let file = "Currency,Amount,note,TRAN_ID,transaction_time,partner_reference\n\
                    ZAR,1.05,hello,aa11,2026-11-21T08:00:00Z,P-1\n";
        let lines = parse(file.as_bytes()).unwrap();
        assert_eq!(lines[0].tran_id, "aa11");
        assert_eq!(lines[0].amount.minor_units(), 105);
    }

    #[test]
    fn a_header_only_file_is_an_empty_statement() {
        assert_eq!(parse(HEADER.as_bytes()).unwrap(), vec![]);
    }

    #[test]
    fn bad_lines_are_named_with_their_column() {
        let cases = [
            (
                "aa11,P-1,yesterday,1.00,ZAR",
                "line 2, transaction_time: must be an RFC 3339 time",
            ),
            (
                "aa11,P-1,2026-11-21T08:00:00Z,1.005,ZAR",
                "line 2, amount: \"1.005\" is not an amount such as 123.45",
            ),
            (
                "aa11,P-1,2026-11-21T08:00:00Z,-1.00,ZAR",
                "line 2, amount: \"-1.00\" is not an amount such as 123.45",
            ),
            (
                "aa11,P-1,2026-11-21T08:00:00Z,1e3,ZAR",
                "line 2, amount: \"1e3\" is not an amount such as 123.45",
            ),
            (
                "aa11,P-1,2026-11-21T08:00:00Z,1.00,rand",
                "line 2, currency: must be ZAR or an ISO 4217 numeric code",
            ),
            (
                ",P-1,2026-11-21T08:00:00Z,1.00,ZAR",
                "line 2, tran_id: must be 1 to 64 characters",
            ),
        ];
        for (line, expected) in cases {
            let error = parse(format!("{HEADER}{line}\n").as_bytes()).unwrap_err();
            assert_eq!(error.to_string(), expected);
        }
    }

    #[test]
    fn a_missing_column_or_short_line_is_refused() {
        let no_amount = "tran_id,partner_reference,transaction_time,currency\n";
        assert_eq!(
            parse(no_amount.as_bytes()).unwrap_err().to_string(),
            "line 1: the header has no amount column"
        );
        let short = format!("{HEADER}aa11,P-1\n");
        assert!(parse(short.as_bytes())
            .unwrap_err()
            .to_string()
            .starts_with("line 2: not valid CSV"));
    }

    #[test]
    fn decimal_amounts_never_pass_through_floats() {
        assert_eq!(parse_decimal_amount("0.1"), Ok(10));
        assert_eq!(parse_decimal_amount("0.29"), Ok(29));
        assert_eq!(
            parse_decimal_amount("100000000000.00"),
            Ok(10_000_000_000_000)
        );
        assert!(parse_decimal_amount("99999999999999999999").is_err());
        assert!(parse_decimal_amount(".5").is_err());
        assert!(parse_decimal_amount("5.").is_err());
        assert!(parse_decimal_amount("1,000.00").is_err());
    }
}
