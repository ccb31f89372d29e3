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
        debtor_account: None,
        debtor_agent: None,
        debtor_proxy: None,
        original_created_at: None,
    }
}

fn record(message_id: &str, outcome: CompletionOutcome, seconds: i64) -> PayShapCommand {
    PayShapCommand::RecordCompletion {
        completion: completion(message_id, outcome, seconds),
        authorisation_required: false,
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

fn request() -> AuthorisationRequest {
    AuthorisationRequest {
        message_id: "a1".into(),
        uetr: "u-1".into(),
        end_to_end_id: Some("e2e".into()),
        amount: Amount::new(5_000, Currency::ZAR).unwrap(),
        proxy_id: Some("MOBILE|shop|27821234567".into()),
        tran_id: None,
        debtor_name: None,
        created_at: "2026-11-21T10:00:00Z".into(),
        received_at: at(0),
    }
}

fn decision(approved: bool) -> Decision {
    Decision {
        approved,
        reason_code: (!approved).then(|| "BE23".into()),
        reason: if approved {
            "approved"
        } else {
            "proxy unknown or invalid"
        }
        .into(),
        decided_at: at(0),
    }
}

fn decided(approved: bool) -> Vec<PayShapEvent> {
    vec![
        PayShapEvent::AuthorisationRequested { request: request() },
        PayShapEvent::AuthorisationDecided {
            uetr: "u-1".into(),
            decision: decision(approved),
        },
    ]
}

#[test]
fn given_nothing_when_authorisation_is_asked_then_request_and_decision_are_recorded() {
    TransferTest::with(())
        .given_no_previous_events()
        .when(PayShapCommand::Authorise {
            request: request(),
            decision: decision(true),
        })
        .then_expect_events(decided(true));
}

#[test]
fn given_a_decision_when_asked_again_then_the_first_decision_binds() {
    TransferTest::with(())
        .given(decided(true))
        .when(PayShapCommand::Authorise {
            request: request(),
            decision: decision(false),
        })
        .then_expect_events(vec![]);
}

#[test]
fn given_a_refusal_when_an_approved_completion_comes_then_it_is_refused_not_credited() {
    TransferTest::with(())
        .given(decided(false))
        .when(record("m1", CompletionOutcome::Approved, 1))
        .then_expect_events(vec![
            received("m1", CompletionOutcome::Approved, 1),
            PayShapEvent::CompletionRefused {
                uetr: "u-1".into(),
                reason: "completion after our refusal (BE23)".into(),
                noticed_at: at(1),
            },
        ]);
}

#[test]
fn given_an_approval_when_the_completion_comes_then_it_credits() {
    TransferTest::with(())
        .given(decided(true))
        .when(PayShapCommand::RecordCompletion {
            completion: completion("m1", CompletionOutcome::Approved, 1),
            authorisation_required: true,
        })
        .then_expect_events(vec![
            received("m1", CompletionOutcome::Approved, 1),
            credited(1),
        ]);
}

#[test]
fn given_no_decision_where_we_authorise_when_a_completion_comes_then_nothing_is_credited() {
    TransferTest::with(())
        .given_no_previous_events()
        .when(PayShapCommand::RecordCompletion {
            completion: completion("m1", CompletionOutcome::Approved, 1),
            authorisation_required: true,
        })
        .then_expect_events(vec![
            received("m1", CompletionOutcome::Approved, 1),
            PayShapEvent::CompletionRefused {
                uetr: "u-1".into(),
                reason: "completion without our authorisation (partner-auth)".into(),
                noticed_at: at(1),
            },
        ]);
}

#[test]
fn given_a_pending_decision_when_its_delivery_ends_then_it_is_recorded_once() {
    let delivered = PayShapEvent::DecisionDelivered {
        uetr: "u-1".into(),
        attempts: 2,
        delivered_at: at(1),
    };
    TransferTest::with(())
        .given(decided(true))
        .when(PayShapCommand::RecordDecisionDelivery {
            delivery: DecisionDelivery::Acknowledged { attempts: 2 },
            at: at(1),
        })
        .then_expect_events(vec![delivered.clone()]);
    let mut settled = decided(true);
    settled.push(delivered);
    TransferTest::with(())
        .given(settled)
        .when(PayShapCommand::RecordDecisionDelivery {
            delivery: DecisionDelivery::Undelivered {
                reason: "late".into(),
                attempts: 3,
            },
            at: at(2),
        })
        .then_expect_events(vec![]);
    TransferTest::with(())
        .given_no_previous_events()
        .when(PayShapCommand::RecordDecisionDelivery {
            delivery: DecisionDelivery::Acknowledged { attempts: 1 },
            at: at(1),
        })
        .then_expect_events(vec![]);
}

fn unknown_proxy_credit() -> Vec<PayShapEvent> {
    let mut unknown = completion("m1", CompletionOutcome::Approved, 0);
    unknown.proxy_known = false;
    vec![
        PayShapEvent::CompletionReceived {
            completion: unknown,
        },
        credited(0),
    ]
}

fn close_step() -> crate::case::CaseStep {
    crate::case::CaseStep::Close {
        reason_code: "RESOLVED_AT_BANK".into(),
        note: "returned by the sponsor bank".into(),
    }
}

#[test]
fn given_a_credit_to_an_unknown_proxy_when_its_case_is_closed_then_the_step_is_recorded() {
    TransferTest::with(())
        .given(unknown_proxy_credit())
        .when(PayShapCommand::WorkCase {
            step: close_step(),
            by: "finance".into(),
            at: at(5),
        })
        .then_expect_events(vec![PayShapEvent::CaseStepTaken {
            uetr: "u-1".into(),
            step: close_step(),
            by: "finance".into(),
            taken_at: at(5),
        }]);
}

#[test]
fn given_a_closed_case_when_applied_then_the_move_is_refused() {
    let mut closed = unknown_proxy_credit();
    closed.push(PayShapEvent::CaseStepTaken {
        uetr: "u-1".into(),
        step: close_step(),
        by: "finance".into(),
        taken_at: at(5),
    });
    TransferTest::with(())
        .given(closed)
        .when(PayShapCommand::WorkCase {
            step: crate::case::CaseStep::Apply {
                note: "proxy registered".into(),
            },
            by: "finance".into(),
            at: at(6),
        })
        .then_expect_error(PayShapError::Case(crate::case::CaseError::NotAllowed {
            step: "apply",
            status: "CLOSED",
        }));
}

#[test]
fn given_an_applied_credit_when_a_case_step_comes_then_there_is_no_case() {
    TransferTest::with(())
        .given(vec![
            received("m1", CompletionOutcome::Approved, 0),
            credited(0),
        ])
        .when(PayShapCommand::WorkCase {
            step: close_step(),
            by: "finance".into(),
            at: at(5),
        })
        .then_expect_error(PayShapError::NotACase);
}

#[test]
fn given_a_credit_when_recon_finds_it_different_then_it_becomes_a_case_once() {
    let flag = || PayShapCommand::FlagFromRecon {
        day: "2026-11-21".into(),
        difference: "AMOUNT_DIFFERS".into(),
        at: at(9),
    };
    let found = PayShapEvent::ReconDifferenceFound {
        uetr: "u-1".into(),
        day: "2026-11-21".into(),
        difference: "AMOUNT_DIFFERS".into(),
        found_at: at(9),
    };
    let credit = vec![received("m1", CompletionOutcome::Approved, 0), credited(0)];
    TransferTest::with(())
        .given(credit.clone())
        .when(flag())
        .then_expect_events(vec![found.clone()]);
    let mut flagged = credit;
    flagged.push(found);
    TransferTest::with(())
        .given(flagged.clone())
        .when(flag())
        .then_expect_events(vec![]);
    TransferTest::with(())
        .given(flagged)
        .when(PayShapCommand::WorkCase {
            step: close_step(),
            by: "finance".into(),
            at: at(10),
        })
        .then_expect_events(vec![PayShapEvent::CaseStepTaken {
            uetr: "u-1".into(),
            step: close_step(),
            by: "finance".into(),
            taken_at: at(10),
        }]);
}
