use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;

fn received(body: &str, reason: &str) -> Received {
    Received {
        endpoint: "/transactions/inbound/credit-transfer-completion".into(),
        body: body.into(),
        headers: BTreeMap::from([("traceparent".into(), "00-ab-cd-01".into())]),
        party: "scheme".into(),
        uetr: Some("f27a34ad-c5ab-4b70-a3f9-946d743eaeaa".into()),
        message_id: Some("m1".into()),
        reason: reason.into(),
        received_at: Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap(),
        unverified: false,
    }
}

fn hold(body: &str, reason: &str) -> HeldMessageCommand {
    HeldMessageCommand::Hold {
        message: received(body, reason),
    }
}

#[test]
fn given_nothing_when_a_message_is_held_then_it_is_kept_as_it_came() {
    TestFramework::<HeldMessage>::with(())
        .given_no_previous_events()
        .when(hold("{\"amount\":\"x\"}", "amount is not a number"))
        .then_expect_events(vec![HeldMessageEvent::MessageHeld {
            message: received("{\"amount\":\"x\"}", "amount is not a number"),
        }]);
}

#[test]
fn given_a_held_message_when_the_same_bytes_come_again_then_nothing_changes() {
    TestFramework::<HeldMessage>::with(())
        .given(vec![HeldMessageEvent::MessageHeld {
            message: received("{}", "unknown proxy"),
        }])
        .when(hold("{}", "unknown proxy"))
        .then_expect_events(vec![]);
}

#[test]
fn given_nothing_when_the_reason_is_long_then_it_is_cut() {
    let long = "r".repeat(REASON_MAX_CHARS + 50);
    TestFramework::<HeldMessage>::with(())
        .given_no_previous_events()
        .when(hold("{}", &long))
        .then_expect_events(vec![HeldMessageEvent::MessageHeld {
            message: received("{}", &"r".repeat(REASON_MAX_CHARS)),
        }]);
}

#[test]
fn given_nothing_when_the_body_is_empty_or_no_reason_is_given_then_it_is_refused() {
    TestFramework::<HeldMessage>::with(())
        .given_no_previous_events()
        .when(hold("", "unparseable"))
        .then_expect_error(HeldMessageError::EmptyBody);
    TestFramework::<HeldMessage>::with(())
        .given_no_previous_events()
        .when(hold("{}", "  "))
        .then_expect_error(HeldMessageError::NoReason);
}

fn apply(how: &str) -> HeldMessageCommand {
    HeldMessageCommand::Apply {
        how: how.into(),
        at: Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap(),
    }
}

#[test]
fn given_a_held_message_when_it_is_applied_then_it_is_applied_once() {
    let held = HeldMessageEvent::MessageHeld {
        message: received("{}", "signature refused"),
    };
    let applied = HeldMessageEvent::MessageApplied {
        how: "verified with scheme key k2".into(),
        applied_at: Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap(),
    };
    TestFramework::<HeldMessage>::with(())
        .given(vec![held.clone()])
        .when(apply("verified with scheme key k2"))
        .then_expect_events(vec![applied.clone()]);
    TestFramework::<HeldMessage>::with(())
        .given(vec![held, applied])
        .when(apply("again"))
        .then_expect_error(HeldMessageError::AlreadyApplied);
}

#[test]
fn given_nothing_held_or_no_reason_when_applying_then_it_is_refused() {
    TestFramework::<HeldMessage>::with(())
        .given_no_previous_events()
        .when(apply("recon line 7"))
        .then_expect_error(HeldMessageError::NotHeld);
    TestFramework::<HeldMessage>::with(())
        .given(vec![HeldMessageEvent::MessageHeld {
            message: received("{}", "signature refused"),
        }])
        .when(apply("  "))
        .then_expect_error(HeldMessageError::NoReason);
}

#[test]
fn given_a_held_message_when_closed_then_it_cannot_be_applied_or_closed_again() {
    let held = HeldMessageEvent::MessageHeld {
        message: received("{}", "unreadable"),
    };
    let close = || HeldMessageCommand::Close {
        reason_code: "NOT_OURS".into(),
        note: "a test message from the bank".into(),
        by: "finance".into(),
        at: Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap(),
    };
    let closed = HeldMessageEvent::MessageClosed {
        reason_code: "NOT_OURS".into(),
        note: "a test message from the bank".into(),
        by: "finance".into(),
        closed_at: Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap(),
    };
    TestFramework::<HeldMessage>::with(())
        .given(vec![held.clone()])
        .when(close())
        .then_expect_events(vec![closed.clone()]);
    TestFramework::<HeldMessage>::with(())
        .given(vec![held.clone(), closed.clone()])
        .when(apply("after all"))
        .then_expect_error(HeldMessageError::Closed);
    TestFramework::<HeldMessage>::with(())
        .given(vec![held, closed])
        .when(close())
        .then_expect_error(HeldMessageError::Closed);
}
