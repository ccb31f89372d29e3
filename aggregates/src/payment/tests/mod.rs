//! Given/when/then tests of `Payment`, one module per stage of its life as the aggregate is
//! split; the helpers here build its commands and events.

use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;
use serde_json::json;

use super::*;
use crate::values::{Amount, Currency, PartyId, TranId};

type PaymentTest = TestFramework<Payment>;

const TRAN_ID: &str = "0f8e6c1a2b3c4d5e6f708192a3b4c5d6";

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap() + Duration::seconds(seconds)
}

fn tran_id() -> TranId {
    TranId::parse(TRAN_ID).unwrap()
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
        message_id: "qr-1".into(),
        tran_id: tran_id(),
        client_id: retailer(),
        terminal_id: "lane0007".into(),
        amount,
        scheme: "EMVCO_MERCHANT".into(),
        payload: "000201".into(),
        merchant_name: None,
        issued_at: at(0),
        expires_at: at(300),
    }
}

fn issued(amount: Option<Amount>) -> PaymentEvent {
    PaymentEvent::QrIssued {
        message_id: "qr-1".into(),
        tran_id: tran_id(),
        client_id: retailer(),
        terminal_id: "lane0007".into(),
        amount,
        scheme: "EMVCO_MERCHANT".into(),
        payload: "000201".into(),
        merchant_name: None,
        issued_at: at(0),
        expires_at: at(300),
    }
}

/// The POS's trace context, carried from the command into the event.
const POS_TRACE: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

fn request_with(message_id: &str, client: PartyId, amount: Amount, seconds: i64) -> PaymentCommand {
    PaymentCommand::RequestPayment {
        message_id: message_id.into(),
        client_id: client,
        amount,
        message: json!({ "id": message_id }),
        received_at: at(seconds),
        respond_by: at(seconds + 60),
        traceparent: Some(POS_TRACE.into()),
    }
}

fn request(seconds: i64) -> PaymentCommand {
    request_with("req-1", retailer(), rand(2500), seconds)
}

fn requested(seconds: i64) -> PaymentEvent {
    PaymentEvent::PaymentRequested {
        message_id: "req-1".into(),
        amount: rand(2500),
        message: json!({ "id": "req-1" }),
        requested_at: at(seconds),
        respond_by: at(seconds + 60),
        traceparent: Some(POS_TRACE.into()),
    }
}

fn scan_with(message_id: &str, by: &str, seconds: i64) -> PaymentCommand {
    PaymentCommand::ReceiveScan {
        message_id: message_id.into(),
        partner_id: partner(by),
        partner_payment_token: Some("tok".into()),
        received_at: at(seconds),
        hold_until: at(seconds + 30),
    }
}

fn scan(by: &str, seconds: i64) -> PaymentCommand {
    scan_with(&format!("scan-{by}-{seconds}"), by, seconds)
}

fn scanned(by: &str, seconds: i64) -> PaymentEvent {
    PaymentEvent::ScanReceived {
        message_id: format!("scan-{by}-{seconds}"),
        partner_id: partner(by),
        partner_payment_token: Some("tok".into()),
        scanned_at: at(seconds),
        hold_until: at(seconds + 30),
    }
}

fn matched(by: &str, seconds: i64) -> PaymentEvent {
    PaymentEvent::Matched {
        partner_id: partner(by),
        amount: rand(2500),
        matched_at: at(seconds),
    }
}

fn authorising(seconds: i64) -> PaymentEvent {
    PaymentEvent::AuthorisationRequested {
        partner_id: partner("demo-partner"),
        requested_at: at(seconds),
    }
}

/// Issued, requested, scanned and matched with demo-partner at 2 s.
fn matched_history() -> Vec<PaymentEvent> {
    vec![
        issued(None),
        requested(1),
        scanned("demo-partner", 2),
        matched("demo-partner", 2),
    ]
}

fn authorising_history() -> Vec<PaymentEvent> {
    let mut history = matched_history();
    history.push(authorising(3));
    history
}

fn timeout_reversal_id() -> String {
    format!("{TRAN_ID}-timeout-reversal")
}

/// The reversal queued when the partner may have approved: the domain fact and its delivery.
fn timeout_reversal(seconds: i64) -> Vec<PaymentEvent> {
    vec![
        PaymentEvent::TimeoutReversalQueued {
            partner_id: partner("demo-partner"),
            reversal_id: timeout_reversal_id(),
            queued_at: at(seconds),
        },
        PaymentEvent::DeliveryScheduled {
            delivery_id: timeout_reversal_id(),
            partner_id: partner("demo-partner"),
            advice: AdviceKind::Reversal {
                reason: "TIMEOUT".into(),
            },
            request_id: "req-1".into(),
            message: serde_json::Value::Null,
            scheduled_at: at(seconds),
        },
    ]
}

mod advice;
mod authorisation;
mod issue;
mod payshap;

#[test]
fn events_round_trip_through_json() {
    let event = issued(Some(rand(2500)));
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(json["QrIssued"]["amount"]["currency"], "710");
    let back: PaymentEvent = serde_json::from_value(json).unwrap();
    assert_eq!(back, event);
}

#[test]
fn state_after_an_approval_is_final_with_the_response() {
    let mut payment = Payment::default();
    for event in authorising_history() {
        payment.apply(event);
    }
    assert_eq!(payment.stage(), Stage::Authorising);
    payment.apply(PaymentEvent::Authorised {
        partner_id: partner("demo-partner"),
        response: json!({ "ok": true }),
        partner_reference: PartnerReference::default(),
        authorised_at: at(5),
    });
    assert_eq!(payment.stage(), Stage::Final);
    assert_eq!(
        payment.outcome(),
        Some(&Outcome::Authorised {
            response: json!({ "ok": true }).into()
        })
    );
    assert!(payment.belongs_to(&retailer()));
    assert!(!payment.belongs_to(&partner("other-retailer")));
}

fn authorised(seconds: i64) -> PaymentEvent {
    PaymentEvent::Authorised {
        partner_id: partner("demo-partner"),
        response: json!({}),
        partner_reference: PartnerReference::default(),
        authorised_at: at(seconds),
    }
}

fn approved_history() -> Vec<PaymentEvent> {
    let mut history = authorising_history();
    history.push(authorised(5));
    history
}

fn confirmation() -> AdviceKind {
    AdviceKind::Confirmation
}

fn reversal() -> AdviceKind {
    AdviceKind::Reversal {
        reason: "CANCELLED".into(),
    }
}

fn advise(advice_id: &str, kind: AdviceKind, seconds: i64) -> PaymentCommand {
    PaymentCommand::Advise {
        advice_id: advice_id.into(),
        advice: kind,
        request_id: "req-1".into(),
        client_id: Some(retailer()),
        message: json!({ "id": advice_id }),
        received_at: at(seconds),
    }
}

fn advised(advice_id: &str, kind: AdviceKind, seconds: i64) -> PaymentEvent {
    PaymentEvent::Advised {
        advice_id: advice_id.into(),
        advice: kind,
        request_id: "req-1".into(),
        message: json!({ "id": advice_id }),
        advised_at: at(seconds),
    }
}

fn scheduled(advice_id: &str, kind: AdviceKind, seconds: i64) -> PaymentEvent {
    PaymentEvent::DeliveryScheduled {
        delivery_id: advice_id.into(),
        partner_id: partner("demo-partner"),
        advice: kind,
        request_id: "req-1".into(),
        message: json!({ "id": advice_id }),
        scheduled_at: at(seconds),
    }
}

fn delivered(delivery_id: &str, seconds: i64) -> PaymentEvent {
    PaymentEvent::AdviceDelivered {
        delivery_id: delivery_id.into(),
        status: 202,
        delivered_at: at(seconds),
    }
}

fn record_delivery(delivery_id: &str, result: DeliveryResult, seconds: i64) -> PaymentCommand {
    PaymentCommand::RecordDelivery {
        delivery_id: delivery_id.into(),
        result,
        at: at(seconds),
    }
}
