//! PayShap credits for a QR.

use super::*;

const UETR: &str = "3f1c5a2e-7b6d-4c1a-9e8f-0a1b2c3d4e5f";

fn payshap() -> PartyId {
    partner("payshap")
}

fn credit(cents: i64, seconds: i64) -> PaymentCommand {
    PaymentCommand::ReceivePayShapCredit {
        uetr: UETR.into(),
        partner_id: payshap(),
        amount: rand(cents),
        at: at(seconds),
    }
}

fn credited(cents: i64, seconds: i64) -> PaymentEvent {
    PaymentEvent::PayShapCredited {
        uetr: UETR.into(),
        amount: rand(cents),
        credited_at: at(seconds),
    }
}

fn payshap_scan(seconds: i64) -> PaymentEvent {
    PaymentEvent::ScanReceived {
        message_id: format!("payshap-{UETR}"),
        partner_id: payshap(),
        partner_payment_token: None,
        scanned_at: at(seconds),
        hold_until: at(300),
    }
}

fn payshap_matched(seconds: i64) -> PaymentEvent {
    PaymentEvent::Matched {
        partner_id: payshap(),
        amount: rand(2500),
        matched_at: at(seconds),
    }
}

fn payshap_authorised(seconds: i64) -> PaymentEvent {
    PaymentEvent::Authorised {
        partner_id: payshap(),
        response: json!({
            "payshapUetr": UETR,
            "approvedAmount": { "amount": 2500, "currency": "710" },
        }),
        partner_reference: PartnerReference {
            payshap_uetr: Some(UETR.to_owned()),
            ..PartnerReference::default()
        },
        authorised_at: at(seconds),
    }
}

fn approved_by_payshap() -> Vec<PaymentEvent> {
    vec![
        issued(None),
        requested(1),
        credited(2500, 5),
        payshap_scan(5),
        payshap_matched(5),
        payshap_authorised(5),
    ]
}

#[test]
fn credit_for_a_waiting_request_authorises_it() {
    PaymentTest::with(())
        .given(vec![issued(None), requested(1)])
        .when(credit(2500, 5))
        .then_expect_events(vec![
            credited(2500, 5),
            payshap_scan(5),
            payshap_matched(5),
            payshap_authorised(5),
        ]);
}

#[test]
fn credit_before_the_request_authorises_when_it_comes() {
    PaymentTest::with(())
        .given(vec![issued(None)])
        .when(credit(2500, 1))
        .then_expect_events(vec![credited(2500, 1), payshap_scan(1)]);
    PaymentTest::with(())
        .given(vec![issued(None), credited(2500, 1), payshap_scan(1)])
        .when(request(2))
        .then_expect_events(vec![
            requested(2),
            payshap_matched(2),
            payshap_authorised(2),
        ]);
}

#[test]
fn the_same_credit_again_changes_nothing() {
    PaymentTest::with(())
        .given(approved_by_payshap())
        .when(credit(2500, 9))
        .then_expect_events(vec![]);
}

#[test]
fn a_credit_of_another_amount_is_refused() {
    PaymentTest::with(())
        .given(vec![issued(None), requested(1)])
        .when(credit(2400, 5))
        .then_expect_error(PaymentError::AmountMismatch {
            qr: rand(2500),
            requested: rand(2400),
        });
}

#[test]
fn a_credit_for_a_payment_another_partner_holds_is_refused() {
    PaymentTest::with(())
        .given(matched_history())
        .when(credit(2500, 5))
        .then_expect_error(PaymentError::AlreadyScanned {
            by_same_partner: false,
        });
}

#[test]
fn confirmation_completes_without_a_partner_call() {
    PaymentTest::with(())
        .given(approved_by_payshap())
        .when(advise("conf-1", confirmation(), 10))
        .then_expect_events(vec![
            advised("conf-1", confirmation(), 10),
            PaymentEvent::Completed {
                completed_at: at(10),
            },
        ]);
}

#[test]
fn reversal_of_an_approved_payshap_payment_requires_a_refund() {
    PaymentTest::with(())
        .given(approved_by_payshap())
        .when(advise("rev-1", reversal(), 10))
        .then_expect_events(vec![
            advised("rev-1", reversal(), 10),
            PaymentEvent::RefundRequired {
                uetr: UETR.into(),
                amount: rand(2500),
                reason: "reversal of an approved PayShap payment".into(),
                noticed_at: at(10),
            },
            PaymentEvent::Completed {
                completed_at: at(10),
            },
        ]);
}
