use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;

type ProxyTest = TestFramework<Proxy>;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap() + chrono::Duration::seconds(seconds)
}

fn key() -> ProxyKey {
    ProxyKey::parse("MOBILE", "shop", "0821234567").unwrap()
}

fn register(status: AccountStatus) -> ProxyCommand {
    ProxyCommand::Register {
        key: key(),
        known_as_name: "Corner Shop".into(),
        legal_name: "Corner Shop (Pty) Ltd".into(),
        account_created_on: NaiveDate::from_ymd_opt(2020, 1, 31).unwrap(),
        status,
        resolution_allowed: true,
        at: at(0),
    }
}

fn registered() -> ProxyEvent {
    ProxyEvent::ProxyRegistered {
        key: key(),
        known_as_name: "Corner Shop".into(),
        legal_name: "Corner Shop (Pty) Ltd".into(),
        account_created_on: NaiveDate::from_ymd_opt(2020, 1, 31).unwrap(),
        status: AccountStatus::Active,
        resolution_allowed: true,
        registered_at: at(0),
    }
}

#[test]
fn register_records_the_entry() {
    ProxyTest::with(())
        .given_no_previous_events()
        .when(register(AccountStatus::Active))
        .then_expect_events(vec![registered()]);
}

#[test]
fn register_twice_is_refused_but_a_retired_proxy_may_return() {
    ProxyTest::with(())
        .given(vec![registered()])
        .when(register(AccountStatus::Active))
        .then_expect_error(ProxyError::AlreadyRegistered);
    ProxyTest::with(())
        .given(vec![
            registered(),
            ProxyEvent::ProxyRetired { retired_at: at(5) },
        ])
        .when(register(AccountStatus::Active))
        .then_expect_events(vec![registered()]);
}

#[test]
fn register_with_an_empty_name_is_refused() {
    let mut command = register(AccountStatus::Active);
    if let ProxyCommand::Register { known_as_name, .. } = &mut command {
        *known_as_name = "  ".into();
    }
    ProxyTest::with(())
        .given_no_previous_events()
        .when(command)
        .then_expect_error(ProxyError::InvalidName);
}

#[test]
fn change_records_what_changes() {
    let change = ProxyChange {
        status: Some(AccountStatus::Blocked),
        ..ProxyChange::default()
    };
    ProxyTest::with(())
        .given(vec![registered()])
        .when(ProxyCommand::Change {
            change: change.clone(),
            at: at(1),
        })
        .then_expect_events(vec![ProxyEvent::ProxyChanged {
            change,
            changed_at: at(1),
        }]);
}

#[test]
fn change_that_changes_nothing_or_of_unknown_or_retired_is_refused() {
    let same = ProxyChange {
        status: Some(AccountStatus::Active),
        ..ProxyChange::default()
    };
    ProxyTest::with(())
        .given(vec![registered()])
        .when(ProxyCommand::Change {
            change: same.clone(),
            at: at(1),
        })
        .then_expect_error(ProxyError::NothingToChange);
    ProxyTest::with(())
        .given_no_previous_events()
        .when(ProxyCommand::Change {
            change: same.clone(),
            at: at(1),
        })
        .then_expect_error(ProxyError::NotRegistered);
    ProxyTest::with(())
        .given(vec![
            registered(),
            ProxyEvent::ProxyRetired { retired_at: at(5) },
        ])
        .when(ProxyCommand::Change {
            change: same,
            at: at(6),
        })
        .then_expect_error(ProxyError::Retired);
}

#[test]
fn retire_once() {
    ProxyTest::with(())
        .given(vec![registered()])
        .when(ProxyCommand::Retire { at: at(5) })
        .then_expect_events(vec![ProxyEvent::ProxyRetired { retired_at: at(5) }]);
    ProxyTest::with(())
        .given(vec![
            registered(),
            ProxyEvent::ProxyRetired { retired_at: at(5) },
        ])
        .when(ProxyCommand::Retire { at: at(6) })
        .then_expect_error(ProxyError::Retired);
}

#[test]
fn every_account_state_has_its_reason_code() {
    use AccountStatus::*;
    let expected = [
        (Active, None),
        (Blocked, Some("AC06")),
        (Closed, Some("AC04")),
        (Sequestrated, Some("AC16")),
        (Liquidated, Some("AC17")),
        (Deceased, Some("MD07")),
        (NonCompliant, Some("NOCM")),
        (CannotReceive, Some("AG01")),
    ];
    for (status, reason) in expected {
        assert_eq!(reason_for(status, true), reason, "{status:?}");
        assert_eq!(AccountStatus::parse(status.as_str()), Some(status));
    }
    assert_eq!(reason_for(Active, false), Some("AG03"));
}
