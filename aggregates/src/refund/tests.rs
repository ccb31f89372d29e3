use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;
use crate::values::{Amount, Currency};

type RefundTest = TestFramework<Refund>;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap() + chrono::Duration::seconds(seconds)
}

fn order() -> RefundOrder {
    RefundOrder {
        refund_uetr: "r-1".into(),
        original_uetr: "u-1".into(),
        amount: Amount::new(1_250, Currency::ZAR).unwrap(),
        payer_account: "1099999999".into(),
        payer_agent: "FIRNZAJJ".into(),
        payer_proxy: None,
        payer_name: None,
        requested_by: "checker".into(),
        requested_at: at(0),
    }
}

fn requested() -> RefundEvent {
    RefundEvent::RefundRequested { order: order() }
}

fn result(id: &str, outcome: CompletionOutcome) -> RefundCommand {
    RefundCommand::RecordResult {
        message_id: id.into(),
        outcome,
        reasons: vec![],
        at: at(9),
    }
}

#[test]
fn given_nothing_when_requested_twice_then_one_refund() {
    RefundTest::with(())
        .given_no_previous_events()
        .when(RefundCommand::Request { order: order() })
        .then_expect_events(vec![requested()]);
    RefundTest::with(())
        .given(vec![requested()])
        .when(RefundCommand::Request { order: order() })
        .then_expect_events(vec![]);
}

#[test]
fn given_a_sent_refund_when_its_result_comes_twice_then_it_settles_once() {
    let sent = RefundEvent::RefundSent {
        attempts: 2,
        sent_at: at(1),
    };
    let received = RefundEvent::RefundResultReceived {
        message_id: "res-1".into(),
        outcome: CompletionOutcome::Approved,
        reasons: vec![],
        received_at: at(9),
    };
    RefundTest::with(())
        .given(vec![requested(), sent.clone()])
        .when(result("res-1", CompletionOutcome::Approved))
        .then_expect_events(vec![
            received.clone(),
            RefundEvent::RefundSettled { settled_at: at(9) },
        ]);
    RefundTest::with(())
        .given(vec![
            requested(),
            sent,
            received,
            RefundEvent::RefundSettled { settled_at: at(9) },
        ])
        .when(result("res-1", CompletionOutcome::Approved))
        .then_expect_events(vec![]);
}

#[test]
fn given_a_rejected_result_then_the_refund_failed() {
    RefundTest::with(())
        .given(vec![requested()])
        .when(result("res-1", CompletionOutcome::Rejected))
        .then_expect_events(vec![
            RefundEvent::RefundResultReceived {
                message_id: "res-1".into(),
                outcome: CompletionOutcome::Rejected,
                reasons: vec![],
                received_at: at(9),
            },
            RefundEvent::RefundFailed {
                reason: "REJECTED".into(),
                failed_at: at(9),
            },
        ]);
}

#[test]
fn given_a_parked_refund_when_unparked_then_it_is_sent_again_and_only_then() {
    let parked = RefundEvent::RefundParked {
        reason: "no answer".into(),
        attempts: 8,
        parked_at: at(3),
    };
    RefundTest::with(())
        .given(vec![requested(), parked])
        .when(RefundCommand::Unpark {
            by: "ops".into(),
            at: at(4),
        })
        .then_expect_events(vec![RefundEvent::RefundUnparked {
            by: "ops".into(),
            unparked_at: at(4),
        }]);
    RefundTest::with(())
        .given(vec![requested()])
        .when(RefundCommand::Unpark {
            by: "ops".into(),
            at: at(4),
        })
        .then_expect_error(RefundError::NotParked);
}

#[test]
fn given_no_refund_when_a_result_comes_then_it_is_unknown() {
    RefundTest::with(())
        .given_no_previous_events()
        .when(result("res-1", CompletionOutcome::Approved))
        .then_expect_error(RefundError::Unknown);
}
