use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;
use crate::values::PartyId;

type ScheduleTest = TestFramework<FeeSchedule>;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 8, 0, 0).unwrap() + chrono::Duration::seconds(seconds)
}

fn terms(basis_points: u32, fixed_minor: i64, minimum_minor: i64, max: Option<i64>) -> FeeTerms {
    FeeTerms {
        basis_points,
        fixed_minor,
        minimum_minor,
        maximum_minor: max,
    }
}

fn set(terms: FeeTerms, seconds: i64) -> FeeScheduleCommand {
    FeeScheduleCommand::SetTerms {
        partner_id: PartyId::parse("wallet").unwrap(),
        terms,
        at: at(seconds),
        approved_by: None,
    }
}

fn terms_set(terms: FeeTerms, version: u32, seconds: i64) -> FeeScheduleEvent {
    FeeScheduleEvent::TermsSet {
        partner_id: PartyId::parse("wallet").unwrap(),
        terms,
        version,
        effective_at: at(seconds),
        approved_by: None,
    }
}

#[test]
fn first_terms_are_version_one() {
    ScheduleTest::with(())
        .given_no_previous_events()
        .when(set(terms(150, 100, 0, None), 0))
        .then_expect_events(vec![terms_set(terms(150, 100, 0, None), 1, 0)]);
}

#[test]
fn changed_terms_are_a_new_version() {
    ScheduleTest::with(())
        .given(vec![terms_set(terms(150, 100, 0, None), 1, 0)])
        .when(set(terms(120, 100, 0, None), 60))
        .then_expect_events(vec![terms_set(terms(120, 100, 0, None), 2, 60)]);
}

#[test]
fn the_same_terms_again_change_nothing() {
    ScheduleTest::with(())
        .given(vec![terms_set(terms(150, 100, 0, None), 1, 0)])
        .when(set(terms(150, 100, 0, None), 60))
        .then_expect_events(vec![]);
}

#[test]
fn impossible_terms_are_refused() {
    for (bad, reason) in [
        (
            terms(10_001, 0, 0, None),
            "basis_points must be at most 10000 (100 %)",
        ),
        (
            terms(100, -1, 0, None),
            "fixed_minor and minimum_minor must not be negative",
        ),
        (
            terms(100, 0, -5, None),
            "fixed_minor and minimum_minor must not be negative",
        ),
        (
            terms(100, 0, 500, Some(499)),
            "maximum_minor must not be below minimum_minor",
        ),
    ] {
        ScheduleTest::with(())
            .given_no_previous_events()
            .when(set(bad, 0))
            .then_expect_error(FeeScheduleError::InvalidTerms(reason.to_owned()));
    }
}

#[test]
fn percentage_rounds_half_up_to_whole_minor_units() {
    let one_and_a_half_percent = terms(150, 0, 0, None);
    // 1.5 % of R1.00 is 1.5 cents: half rounds up.
    assert_eq!(one_and_a_half_percent.fee_for(100), 2);
    // 1.5 % of R0.99 is 1.485 cents: below half rounds down.
    assert_eq!(one_and_a_half_percent.fee_for(99), 1);
    assert_eq!(one_and_a_half_percent.fee_for(12_345), 185); // 185.175
    assert_eq!(terms(25, 0, 0, None).fee_for(200), 1); // 0.5 rounds up
    assert_eq!(terms(25, 0, 0, None).fee_for(199), 0); // 0.4975 rounds down
}

#[test]
fn fixed_part_minimum_and_maximum_apply_in_that_order() {
    let schedule = terms(100, 50, 200, Some(1_000));
    assert_eq!(schedule.fee_for(5_000), 200); // 50 + 50 lifted to the minimum
    assert_eq!(schedule.fee_for(50_000), 550); // 50 + 500
    assert_eq!(schedule.fee_for(1_000_000), 1_000); // 50 + 10 000 held at the maximum
}

#[test]
fn a_fee_never_exceeds_the_amount() {
    let schedule = terms(0, 300, 0, None);
    assert_eq!(schedule.fee_for(120), 120);
    assert_eq!(schedule.fee_for(0), 0);
    assert_eq!(FeeTerms::FREE.fee_for(99_999), 0);
}

#[test]
fn the_largest_amount_does_not_overflow() {
    let all = terms(10_000, i64::MAX / 2, 0, None);
    let amount = crate::values::AMOUNT_MAX_MINOR_UNITS;
    assert_eq!(all.fee_for(amount), amount);
}

#[test]
fn an_approved_change_stays_until_the_configuration_itself_changes() {
    let configured = terms(150, 100, 0, None);
    let approved = terms(120, 100, 0, None);
    let mut history = vec![terms_set(configured, 1, 0)];
    history.push(FeeScheduleEvent::TermsSet {
        partner_id: PartyId::parse("wallet").unwrap(),
        terms: approved,
        version: 2,
        effective_at: at(10),
        approved_by: Some("approval-1".into()),
    });
    ScheduleTest::with(())
        .given(history.clone())
        .when(set(configured, 20))
        .then_expect_events(vec![]);
    let reconfigured = terms(175, 100, 0, None);
    ScheduleTest::with(())
        .given(history)
        .when(set(reconfigured, 30))
        .then_expect_events(vec![terms_set(reconfigured, 3, 30)]);
}
