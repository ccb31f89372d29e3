use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;
use crate::values::{Amount, Currency, PartyId};

type StatementTest = TestFramework<PartnerStatement>;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).unwrap() + chrono::Duration::seconds(seconds)
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

fn line(line_number: u32, tran_id: &str, cents: i64, currency: Currency) -> StatementLine {
    StatementLine {
        line_number,
        tran_id: tran_id.into(),
        partner_reference: format!("ref-{line_number}"),
        amount: Amount::new(cents, currency).unwrap(),
        transaction_time: at(-3_600),
    }
}

fn import(sha256: &str, lines: Vec<StatementLine>) -> PartnerStatementCommand {
    PartnerStatementCommand::Import {
        partner_id: PartyId::parse("wallet").unwrap(),
        business_day: day(),
        file_name: "wallet-2026-11-21.csv".into(),
        sha256: sha256.into(),
        lines,
        imported_at: at(0),
    }
}

fn imported(version: u32, sha256: &str, lines: Vec<StatementLine>) -> PartnerStatementEvent {
    PartnerStatementEvent::StatementImported {
        partner_id: PartyId::parse("wallet").unwrap(),
        business_day: day(),
        version,
        file_name: "wallet-2026-11-21.csv".into(),
        sha256: sha256.into(),
        lines,
        imported_at: at(0),
    }
}

fn two_lines() -> Vec<StatementLine> {
    vec![
        line(2, "a1", 1_000, Currency::ZAR),
        line(3, "b2", 2_500, Currency::ZAR),
    ]
}

#[test]
fn a_first_file_is_version_one() {
    StatementTest::with(())
        .given_no_previous_events()
        .when(import("aa", two_lines()))
        .then_expect_events(vec![imported(1, "aa", two_lines())]);
}

#[test]
fn an_empty_file_is_a_statement_of_no_transactions() {
    StatementTest::with(())
        .given_no_previous_events()
        .when(import("e3", vec![]))
        .then_expect_events(vec![imported(1, "e3", vec![])]);
}

#[test]
fn the_same_file_again_changes_nothing() {
    StatementTest::with(())
        .given(vec![imported(1, "aa", two_lines())])
        .when(import("aa", two_lines()))
        .then_expect_events(vec![]);
}

#[test]
fn a_corrected_file_is_the_next_version() {
    let corrected = vec![line(2, "a1", 1_000, Currency::ZAR)];
    StatementTest::with(())
        .given(vec![imported(1, "aa", two_lines())])
        .when(import("bb", corrected.clone()))
        .then_expect_events(vec![imported(2, "bb", corrected)]);
}

#[test]
fn a_tran_id_listed_twice_is_refused() {
    StatementTest::with(())
        .given_no_previous_events()
        .when(import(
            "cc",
            vec![
                line(2, "a1", 1_000, Currency::ZAR),
                line(3, "a1", 1_000, Currency::ZAR),
            ],
        ))
        .then_expect_error(PartnerStatementError::RepeatedTranId {
            tran_id: "a1".into(),
            line_number: 3,
        });
}

#[test]
fn mixed_currencies_are_refused() {
    let usd = Currency::parse("840").unwrap();
    StatementTest::with(())
        .given_no_previous_events()
        .when(import(
            "dd",
            vec![line(2, "a1", 1_000, Currency::ZAR), line(3, "b2", 5, usd)],
        ))
        .then_expect_error(PartnerStatementError::MixedCurrencies { line_number: 3 });
}
