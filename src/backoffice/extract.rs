//! CSV extracts for finance: amounts as decimal rand (two places), one header row, and text
//! that a spreadsheet would run as a formula defused.

use actix_web::HttpResponse;

use crate::http::ApiError;

/// Minor units as a decimal with two places: `-1234` → `-12.34`.
pub fn money(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// A partner's reference or a detail may start with `=`, `+`, `-` or `@`; spreadsheets run
/// such a cell as a formula, so it gets a leading apostrophe.
pub fn text(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    }
}

pub fn respond(
    file_name: &str,
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<HttpResponse, ApiError> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    let failed = |e: &dyn std::fmt::Display| ApiError::internal("writing CSV", e);
    csv.write_record(header).map_err(|e| failed(&e))?;
    for row in rows {
        csv.write_record(&row).map_err(|e| failed(&e))?;
    }
    let body = csv.into_inner().map_err(|e| failed(&e))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"{file_name}\""),
        ))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_has_two_places_and_a_sign() {
        assert_eq!(money(0), "0.00");
        assert_eq!(money(5), "0.05");
        assert_eq!(money(123_456), "1234.56");
        assert_eq!(money(-1_234), "-12.34");
        assert_eq!(money(i64::MIN), "-92233720368547758.08");
    }

    #[test]
    fn formulas_are_defused() {
        assert_eq!(text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text("P-1"), "P-1");
    }
}
