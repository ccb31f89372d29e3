use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;
use crate::values::{Amount, Currency};

type TransferTest = TestFramework<PayShapTransfer>;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap() + chrono::Duration::seconds(seconds)
}

fn completion(message_id: &str, outcome: CompletionOutcome, seconds: i64) -> Completion {
    Completion {
        message_id: message_id.into(),
        uetr: "u-1".into(),
        end_to_end_id: Some("e2e".into()),
        outcome,
        reasons: vec![],
        amount: Amount::new(5_000, Currency::ZAR).unwrap(),
        proxy_id: Some("MOBILE|shop|27821234567".into()),
        proxy_known: true,
        tran_id: None,
        debtor_name: None,
        received_at: at(seconds),
    }
}

fn record(message_id: &str, outcome: CompletionOutcome, seconds: i64) -> PayShapCommand {
    PayShapCommand::RecordCompletion {
        completion: completion(message_id, outcome, seconds),
    }
}

fn received(message_id: &str, outcome: CompletionOutcome, seconds: i64) -> PayShapEvent {
    PayShapEvent::CompletionReceived {
        completion: completion(message_id, outcome, seconds),
    }
}

fn credited(seconds: i64) -> PayShapEvent {
    PayShapEvent::Credited {
        uetr: "u-1".into(),
        amount: Amount::new(5_000, Currency::ZAR).unwrap(),
        credited_at: at(seconds),
    }
}

#[test]
fn approval_credits() {
    TransferTest::with(())
        .given_no_previous_events()
        .when(record("m1", CompletionOutcome::Approved, 0))
        .then_expect_events(vec![
            received("m1", CompletionOutcome::Approved, 0),
            credited(0),
        ]);
}

#[test]
fn redelivery_changes_nothing() {
    TransferTest::with(())
        .given(vec![
            received("m1", CompletionOutcome::Approved, 0),
            credited(0),
        ])
        .when(record("m1", CompletionOutcome::Approved, 5))
        .then_expect_events(vec![]);
}

#[test]
fn a_second_approval_message_does_not_credit_again() {
    TransferTest::with(())
        .given(vec![
            received("m1", CompletionOutcome::Approved, 0),
            credited(0),
        ])
        .when(record("m2", CompletionOutcome::Approved, 5))
        .then_expect_events(vec![received("m2", CompletionOutcome::Approved, 5)]);
}

#[test]
fn pending_then_approved_out_of_order_credits_once() {
    TransferTest::with(())
        .given(vec![
            received("m2", CompletionOutcome::Approved, 1),
            credited(1),
        ])
        .when(record("m1", CompletionOutcome::Pending, 2))
        .then_expect_events(vec![received("m1", CompletionOutcome::Pending, 2)]);
    TransferTest::with(())
        .given(vec![received("m1", CompletionOutcome::Pending, 0)])
        .when(record("m2", CompletionOutcome::Approved, 1))
        .then_expect_events(vec![
            received("m2", CompletionOutcome::Approved, 1),
            credited(1),
        ]);
}

#[test]
fn non_approved_outcomes_credit_nothing() {
    for outcome in [
        CompletionOutcome::Rejected,
        CompletionOutcome::Cancelled,
        CompletionOutcome::Pending,
    ] {
        TransferTest::with(())
            .given_no_previous_events()
            .when(record("m1", outcome, 0))
            .then_expect_events(vec![received("m1", outcome, 0)]);
    }
}

#[test]
fn a_contradicting_final_outcome_is_a_conflict_and_credits_nothing() {
    TransferTest::with(())
        .given(vec![received("m1", CompletionOutcome::Rejected, 0)])
        .when(record("m2", CompletionOutcome::Approved, 1))
        .then_expect_events(vec![
            received("m2", CompletionOutcome::Approved, 1),
            PayShapEvent::OutcomeConflict {
                uetr: "u-1".into(),
                earlier: CompletionOutcome::Rejected,
                later: CompletionOutcome::Approved,
                noticed_at: at(1),
            },
        ]);
}

#[test]
fn an_unapplied_credit_is_recorded_once_and_only_for_credits() {
    let unapplied = PayShapCommand::MarkUnapplied {
        reason: "payment closed".into(),
        at: at(2),
    };
    TransferTest::with(())
        .given(vec![
            received("m1", CompletionOutcome::Approved, 0),
            credited(0),
        ])
        .when(unapplied.clone())
        .then_expect_events(vec![PayShapEvent::CreditUnapplied {
            uetr: "u-1".into(),
            reason: "payment closed".into(),
            noticed_at: at(2),
        }]);
    TransferTest::with(())
        .given(vec![received("m1", CompletionOutcome::Rejected, 0)])
        .when(unapplied)
        .then_expect_events(vec![]);
}
