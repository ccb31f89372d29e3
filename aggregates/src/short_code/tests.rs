use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;

fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap()
}

fn tran(id: &str) -> TranId {
    TranId::parse(id).unwrap()
}

fn claim(id: &str, at: DateTime<Utc>) -> ShortCodeCommand {
    ShortCodeCommand::Claim {
        tran_id: tran(id),
        expires_at: at + Duration::minutes(5),
        at,
    }
}

fn claimed(id: &str, at: DateTime<Utc>) -> ShortCodeEvent {
    ShortCodeEvent::ShortCodeClaimed {
        tran_id: tran(id),
        expires_at: at + Duration::minutes(5),
        claimed_at: at,
    }
}

#[test]
fn given_a_free_code_when_a_payment_claims_it_then_it_holds_it() {
    TestFramework::<ShortCode>::with(())
        .given_no_previous_events()
        .when(claim("aaaa", noon()))
        .then_expect_events(vec![claimed("aaaa", noon())]);
}

#[test]
fn given_a_live_claim_when_another_payment_claims_it_then_it_is_refused() {
    TestFramework::<ShortCode>::with(())
        .given(vec![claimed("aaaa", noon())])
        .when(claim("bbbb", noon() + Duration::minutes(1)))
        .then_expect_error(ShortCodeError::Taken);
}

#[test]
fn given_a_live_claim_when_the_same_payment_claims_again_then_nothing_changes() {
    TestFramework::<ShortCode>::with(())
        .given(vec![claimed("aaaa", noon())])
        .when(claim("aaaa", noon() + Duration::minutes(1)))
        .then_expect_events(vec![]);
}

#[test]
fn given_an_expired_claim_when_another_payment_claims_it_then_the_code_is_reused() {
    let later = noon() + Duration::minutes(6);
    TestFramework::<ShortCode>::with(())
        .given(vec![claimed("aaaa", noon())])
        .when(claim("bbbb", later))
        .then_expect_events(vec![claimed("bbbb", later)]);
}

#[test]
fn given_nothing_when_a_claim_expires_before_it_is_made_then_it_is_refused() {
    TestFramework::<ShortCode>::with(())
        .given_no_previous_events()
        .when(ShortCodeCommand::Claim {
            tran_id: tran("aaaa"),
            expires_at: noon(),
            at: noon(),
        })
        .then_expect_error(ShortCodeError::AlreadyExpired);
}

#[test]
fn a_claim_is_live_until_it_expires() {
    let mut code = ShortCode::default();
    code.apply(claimed("aaaa", noon()));
    assert_eq!(code.live_tran_id(noon()), Some(&tran("aaaa")));
    assert_eq!(code.live_tran_id(noon() + Duration::minutes(5)), None);
}
