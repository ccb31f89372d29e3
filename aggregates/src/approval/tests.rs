use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;

type ApprovalTest = TestFramework<Approval>;

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
}

fn refund() -> MoneyAction {
    MoneyAction::Refund { uetr: "u-1".into() }
}

fn requested() -> ApprovalEvent {
    ApprovalEvent::ApprovalRequested {
        action: refund(),
        maker: "maker".into(),
        reason: "credit for a closed QR".into(),
        expires_at: at(60),
        requested_at: at(0),
    }
}

#[test]
fn given_nothing_when_a_maker_requests_then_it_is_pending() {
    ApprovalTest::with(())
        .given_no_previous_events()
        .when(ApprovalCommand::Request {
            action: refund(),
            maker: "maker".into(),
            reason: " credit for a closed QR ".into(),
            expires_at: at(60),
            at: at(0),
        })
        .then_expect_events(vec![requested()]);
}

#[test]
fn given_a_request_when_another_approver_approves_then_it_is_granted() {
    ApprovalTest::with(())
        .given(vec![requested()])
        .when(ApprovalCommand::Approve {
            approver: "checker".into(),
            at: at(5),
        })
        .then_expect_events(vec![ApprovalEvent::ApprovalGranted {
            approver: "checker".into(),
            approved_at: at(5),
        }]);
}

#[test]
fn given_a_request_when_its_maker_approves_then_it_is_refused() {
    ApprovalTest::with(())
        .given(vec![requested()])
        .when(ApprovalCommand::Approve {
            approver: "maker".into(),
            at: at(5),
        })
        .then_expect_error(ApprovalError::SelfApproval);
}

#[test]
fn given_an_expired_request_when_approved_then_it_is_refused() {
    ApprovalTest::with(())
        .given(vec![requested()])
        .when(ApprovalCommand::Approve {
            approver: "checker".into(),
            at: at(60),
        })
        .then_expect_error(ApprovalError::Expired);
}

#[test]
fn given_a_rejection_when_approved_or_carried_out_then_it_is_refused() {
    let rejected = ApprovalEvent::ApprovalRejected {
        approver: "checker".into(),
        note: "not ours".into(),
        rejected_at: at(5),
    };
    ApprovalTest::with(())
        .given(vec![requested(), rejected.clone()])
        .when(ApprovalCommand::Approve {
            approver: "other".into(),
            at: at(6),
        })
        .then_expect_error(ApprovalError::NotPending);
    ApprovalTest::with(())
        .given(vec![requested(), rejected])
        .when(ApprovalCommand::RecordOutcome {
            outcome: Ok("done".into()),
            at: at(6),
        })
        .then_expect_error(ApprovalError::NotApproved);
}

#[test]
fn given_a_request_when_rejected_without_a_note_then_it_is_refused() {
    ApprovalTest::with(())
        .given(vec![requested()])
        .when(ApprovalCommand::Reject {
            approver: "checker".into(),
            note: "".into(),
            at: at(5),
        })
        .then_expect_error(ApprovalError::NoReason);
}
