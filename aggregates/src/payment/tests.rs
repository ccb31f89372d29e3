use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;
use crate::values::Currency;

type PaymentTest = TestFramework<Payment>;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap() + Duration::seconds(seconds)
}

fn tran_id() -> TranId {
    TranId::parse("0f8e6c1a2b3c4d5e6f708192a3b4c5d6").unwrap()
}

fn retailer() -> PartyId {
    PartyId::parse("demo-retailer").unwrap()
}

fn partner(name: &str) -> PartyId {
    PartyId::parse(name).unwrap()
}

fn rand(cents: i64) -> Amount {
    Amount::new(cents, Currency::ZAR).unwrap()
}

fn issue(amount: Option<Amount>) -> PaymentCommand {
    PaymentCommand::IssueQr {
        tran_id: tran_id(),
        client_id: retailer(),
        terminal_id: "lane-7".into(),
        amount,
        payload: "000201".into(),
        issued_at: at(0),
        expires_at: at(120),
    }
}

fn issued(amount: Option<Amount>) -> PaymentEvent {
    PaymentEvent::QrIssued {
        tran_id: tran_id(),
        client_id: retailer(),
        terminal_id: "lane-7".into(),
        amount,
        payload: "000201".into(),
        issued_at: at(0),
        expires_at: at(120),
    }
}

fn request(client: PartyId, amount: Amount, seconds: i64) -> PaymentCommand {
    PaymentCommand::RequestPayment {
        message_id: "req-1".into(),
        client_id: client,
        amount,
        received_at: at(seconds),
    }
}

fn requested(amount: Amount, seconds: i64) -> PaymentEvent {
    PaymentEvent::PaymentRequested {
        message_id: "req-1".into(),
        amount,
        requested_at: at(seconds),
    }
}

fn scan(by: &str, seconds: i64) -> PaymentCommand {
    PaymentCommand::ReceiveScan {
        message_id: format!("scan-{by}"),
        partner_id: partner(by),
        partner_payment_token: Some("tok".into()),
        received_at: at(seconds),
    }
}

fn scanned(by: &str, seconds: i64) -> PaymentEvent {
    PaymentEvent::ScanReceived {
        message_id: format!("scan-{by}"),
        partner_id: partner(by),
        partner_payment_token: Some("tok".into()),
        scanned_at: at(seconds),
    }
}

#[test]
fn issue_qr_records_the_qr() {
    PaymentTest::with(())
        .given_no_previous_events()
        .when(issue(Some(rand(2500))))
        .then_expect_events(vec![issued(Some(rand(2500)))]);
}

#[test]
fn issue_qr_twice_is_refused() {
    PaymentTest::with(())
        .given(vec![issued(None)])
        .when(issue(None))
        .then_expect_error(PaymentError::QrAlreadyIssued);
}

#[test]
fn issue_qr_that_expires_before_issue_is_refused() {
    let command = PaymentCommand::IssueQr {
        tran_id: tran_id(),
        client_id: retailer(),
        terminal_id: "lane-7".into(),
        amount: None,
        payload: "000201".into(),
        issued_at: at(10),
        expires_at: at(10),
    };
    PaymentTest::with(())
        .given_no_previous_events()
        .when(command)
        .then_expect_error(PaymentError::ExpiryNotAfterIssue);
}

#[test]
fn request_payment_waits_for_a_scan() {
    PaymentTest::with(())
        .given(vec![issued(None)])
        .when(request(retailer(), rand(2500), 1))
        .then_expect_events(vec![requested(rand(2500), 1)]);
}

#[test]
fn request_after_scan_matches() {
    PaymentTest::with(())
        .given(vec![issued(None), scanned("demo-partner", 1)])
        .when(request(retailer(), rand(2500), 2))
        .then_expect_events(vec![
            requested(rand(2500), 2),
            PaymentEvent::Matched {
                partner_id: partner("demo-partner"),
                amount: rand(2500),
                matched_at: at(2),
            },
        ]);
}

#[test]
fn request_for_unknown_tran_id_is_refused() {
    PaymentTest::with(())
        .given_no_previous_events()
        .when(request(retailer(), rand(2500), 1))
        .then_expect_error(PaymentError::UnknownTransaction);
}

#[test]
fn request_by_another_retailer_looks_unknown() {
    PaymentTest::with(())
        .given(vec![issued(None)])
        .when(request(partner("other-retailer"), rand(2500), 1))
        .then_expect_error(PaymentError::UnknownTransaction);
}

#[test]
fn second_request_is_refused() {
    PaymentTest::with(())
        .given(vec![issued(None), requested(rand(2500), 1)])
        .when(request(retailer(), rand(2500), 2))
        .then_expect_error(PaymentError::PaymentAlreadyRequested);
}

#[test]
fn request_after_expiry_is_refused() {
    PaymentTest::with(())
        .given(vec![issued(None)])
        .when(request(retailer(), rand(2500), 120))
        .then_expect_error(PaymentError::QrExpired);
}

#[test]
fn request_for_another_amount_than_the_qr_is_refused() {
    PaymentTest::with(())
        .given(vec![issued(Some(rand(2500)))])
        .when(request(retailer(), rand(2600), 1))
        .then_expect_error(PaymentError::AmountMismatch {
            qr: rand(2500),
            requested: rand(2600),
        });
}

#[test]
fn scan_before_request_waits() {
    PaymentTest::with(())
        .given(vec![issued(None)])
        .when(scan("demo-partner", 1))
        .then_expect_events(vec![scanned("demo-partner", 1)]);
}

#[test]
fn scan_after_request_matches() {
    PaymentTest::with(())
        .given(vec![issued(None), requested(rand(2500), 1)])
        .when(scan("demo-partner", 2))
        .then_expect_events(vec![
            scanned("demo-partner", 2),
            PaymentEvent::Matched {
                partner_id: partner("demo-partner"),
                amount: rand(2500),
                matched_at: at(2),
            },
        ]);
}

#[test]
fn scan_of_unknown_tran_id_is_refused() {
    PaymentTest::with(())
        .given_no_previous_events()
        .when(scan("demo-partner", 1))
        .then_expect_error(PaymentError::UnknownTransaction);
}

#[test]
fn scan_by_a_second_partner_is_refused() {
    PaymentTest::with(())
        .given(vec![issued(None), scanned("demo-partner", 1)])
        .when(scan("other-partner", 2))
        .then_expect_error(PaymentError::AlreadyScanned {
            by_same_partner: false,
        });
}

#[test]
fn scan_after_expiry_is_refused() {
    PaymentTest::with(())
        .given(vec![issued(None)])
        .when(scan("demo-partner", 121))
        .then_expect_error(PaymentError::QrExpired);
}

#[test]
fn events_round_trip_through_json() {
    let event = issued(Some(rand(2500)));
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(json["QrIssued"]["amount"]["currency"], "710");
    let back: PaymentEvent = serde_json::from_value(json).unwrap();
    assert_eq!(back, event);
}
