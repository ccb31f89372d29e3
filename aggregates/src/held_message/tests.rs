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
