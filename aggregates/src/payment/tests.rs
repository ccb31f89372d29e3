use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use serde_json::json;

use super::*;
use crate::values::Currency;

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

fn request_with(message_id: &str, client: PartyId, amount: Amount, seconds: i64) -> PaymentCommand {
    PaymentCommand::RequestPayment {
        message_id: message_id.into(),
        client_id: client,
        amount,
        message: json!({ "id": message_id }),
        received_at: at(seconds),
        respond_by: at(seconds + 60),
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

mod issue_qr {
    use super::*;

    #[test]
    fn records_the_qr() {
        PaymentTest::with(())
            .given_no_previous_events()
            .when(issue(Some(rand(2500))))
            .then_expect_events(vec![issued(Some(rand(2500)))]);
    }

    #[test]
    fn twice_is_refused() {
        PaymentTest::with(())
            .given(vec![issued(None)])
            .when(issue(None))
            .then_expect_error(PaymentError::QrAlreadyIssued);
    }

    #[test]
    fn expiring_before_issue_is_refused() {
        let mut command = issue(None);
        if let PaymentCommand::IssueQr { expires_at, .. } = &mut command {
            *expires_at = at(0);
        }
        PaymentTest::with(())
            .given_no_previous_events()
            .when(command)
            .then_expect_error(PaymentError::ExpiryNotAfterIssue);
    }
}

mod request_payment {
    use super::*;

    #[test]
    fn waits_for_a_scan() {
        PaymentTest::with(())
            .given(vec![issued(None)])
            .when(request(1))
            .then_expect_events(vec![requested(1)]);
    }

    #[test]
    fn after_a_held_scan_matches() {
        PaymentTest::with(())
            .given(vec![issued(None), scanned("demo-partner", 1)])
            .when(request(2))
            .then_expect_events(vec![requested(2), matched("demo-partner", 2)]);
    }

    #[test]
    fn after_the_scan_hold_lapses_the_scan() {
        PaymentTest::with(())
            .given(vec![issued(None), scanned("demo-partner", 1)])
            .when(request(40))
            .then_expect_events(vec![
                requested(40),
                PaymentEvent::ScanLapsed {
                    partner_id: partner("demo-partner"),
                    lapsed_at: at(40),
                },
            ]);
    }

    #[test]
    fn for_unknown_tran_id_is_refused() {
        PaymentTest::with(())
            .given_no_previous_events()
            .when(request(1))
            .then_expect_error(PaymentError::UnknownTransaction);
    }

    #[test]
    fn by_another_retailer_looks_unknown() {
        PaymentTest::with(())
            .given(vec![issued(None)])
            .when(request_with(
                "req-1",
                partner("other-retailer"),
                rand(2500),
                1,
            ))
            .then_expect_error(PaymentError::UnknownTransaction);
    }

    #[test]
    fn reusing_a_message_id_is_a_duplicate() {
        PaymentTest::with(())
            .given(vec![issued(None)])
            .when(request_with("qr-1", retailer(), rand(2500), 1))
            .then_expect_error(PaymentError::DuplicateMessage("qr-1".into()));
    }

    #[test]
    fn second_request_is_refused() {
        PaymentTest::with(())
            .given(vec![issued(None), requested(1)])
            .when(request_with("req-2", retailer(), rand(2500), 2))
            .then_expect_error(PaymentError::PaymentAlreadyRequested);
    }

    #[test]
    fn after_expiry_is_refused() {
        PaymentTest::with(())
            .given(vec![issued(None)])
            .when(request(300))
            .then_expect_error(PaymentError::QrExpired);
    }

    #[test]
    fn for_another_amount_than_the_qr_is_refused() {
        PaymentTest::with(())
            .given(vec![issued(Some(rand(2500)))])
            .when(request_with("req-1", retailer(), rand(2600), 1))
            .then_expect_error(PaymentError::AmountMismatch {
                qr: rand(2500),
                requested: rand(2600),
            });
    }
}

mod receive_scan {
    use super::*;

    #[test]
    fn before_the_request_waits() {
        PaymentTest::with(())
            .given(vec![issued(None)])
            .when(scan("demo-partner", 1))
            .then_expect_events(vec![scanned("demo-partner", 1)]);
    }

    #[test]
    fn after_the_request_matches() {
        PaymentTest::with(())
            .given(vec![issued(None), requested(1)])
            .when(scan("demo-partner", 2))
            .then_expect_events(vec![scanned("demo-partner", 2), matched("demo-partner", 2)]);
    }

    #[test]
    fn of_unknown_tran_id_is_refused() {
        PaymentTest::with(())
            .given_no_previous_events()
            .when(scan("demo-partner", 1))
            .then_expect_error(PaymentError::UnknownTransaction);
    }

    #[test]
    fn reusing_a_message_id_is_a_duplicate() {
        PaymentTest::with(())
            .given(vec![issued(None), requested(1)])
            .when(scan_with("req-1", "demo-partner", 2))
            .then_expect_error(PaymentError::DuplicateMessage("req-1".into()));
    }

    #[test]
    fn by_a_second_partner_is_refused() {
        PaymentTest::with(())
            .given(vec![issued(None), scanned("demo-partner", 1)])
            .when(scan("other-partner", 2))
            .then_expect_error(PaymentError::AlreadyScanned {
                by_same_partner: false,
            });
    }

    #[test]
    fn again_by_the_same_partner_is_refused() {
        PaymentTest::with(())
            .given(vec![issued(None), scanned("demo-partner", 1)])
            .when(scan("demo-partner", 2))
            .then_expect_error(PaymentError::AlreadyScanned {
                by_same_partner: true,
            });
    }

    #[test]
    fn after_a_lapsed_scan_replaces_it() {
        PaymentTest::with(())
            .given(vec![issued(None), scanned("demo-partner", 1)])
            .when(scan("other-partner", 40))
            .then_expect_events(vec![
                PaymentEvent::ScanLapsed {
                    partner_id: partner("demo-partner"),
                    lapsed_at: at(40),
                },
                scanned("other-partner", 40),
            ]);
    }

    #[test]
    fn after_the_outcome_is_late_and_refused() {
        PaymentTest::with(())
            .given(vec![
                issued(None),
                requested(1),
                PaymentEvent::TimedOut {
                    waiting_for: WaitingFor::Scan,
                    reason: "no scan received".into(),
                    timed_out_at: at(61),
                },
            ])
            .when(scan("demo-partner", 62))
            .then_expect_error(PaymentError::AlreadyFinal);
    }

    #[test]
    fn after_expiry_is_refused() {
        PaymentTest::with(())
            .given(vec![issued(None)])
            .when(scan("demo-partner", 301))
            .then_expect_error(PaymentError::QrExpired);
    }
}

mod start_authorisation {
    use super::*;

    #[test]
    fn once_matched_is_recorded() {
        PaymentTest::with(())
            .given(matched_history())
            .when(PaymentCommand::StartAuthorisation { at: at(3) })
            .then_expect_events(vec![authorising(3)]);
    }

    #[test]
    fn before_a_match_is_refused() {
        PaymentTest::with(())
            .given(vec![issued(None), requested(1)])
            .when(PaymentCommand::StartAuthorisation { at: at(3) })
            .then_expect_error(PaymentError::NotAwaitingAuthorisation);
    }

    #[test]
    fn twice_is_refused_so_the_partner_is_asked_once() {
        PaymentTest::with(())
            .given(authorising_history())
            .when(PaymentCommand::StartAuthorisation { at: at(4) })
            .then_expect_error(PaymentError::NotAwaitingAuthorisation);
    }
}

mod record_authorisation {
    use super::*;

    fn record(outcome: AuthorisationOutcome) -> PaymentCommand {
        PaymentCommand::RecordAuthorisation { outcome, at: at(5) }
    }

    #[test]
    fn approval_authorises() {
        PaymentTest::with(())
            .given(authorising_history())
            .when(record(AuthorisationOutcome::Approved {
                response: json!({ "tranId": TRAN_ID }),
            }))
            .then_expect_events(vec![PaymentEvent::Authorised {
                partner_id: partner("demo-partner"),
                response: json!({ "tranId": TRAN_ID }),
                authorised_at: at(5),
            }]);
    }

    #[test]
    fn refusal_declines() {
        PaymentTest::with(())
            .given(authorising_history())
            .when(record(AuthorisationOutcome::Declined {
                error: json!({ "errorType": "DECLINED_BY_PARTNER" }),
            }))
            .then_expect_events(vec![PaymentEvent::Declined {
                partner_id: partner("demo-partner"),
                error: json!({ "errorType": "DECLINED_BY_PARTNER" }),
                declined_at: at(5),
            }]);
    }

    #[test]
    fn unknown_outcome_times_out_and_queues_a_reversal() {
        PaymentTest::with(())
            .given(authorising_history())
            .when(record(AuthorisationOutcome::Unknown {
                reason: "HTTP 503".into(),
            }))
            .then_expect_events(
                [
                    vec![PaymentEvent::TimedOut {
                        waiting_for: WaitingFor::Partner,
                        reason: "HTTP 503".into(),
                        timed_out_at: at(5),
                    }],
                    timeout_reversal(5),
                ]
                .concat(),
            );
    }

    #[test]
    fn late_answer_after_the_outcome_is_refused() {
        let mut history = authorising_history();
        history.push(PaymentEvent::TimedOut {
            waiting_for: WaitingFor::Partner,
            reason: "no answer from the partner in time".into(),
            timed_out_at: at(61),
        });
        PaymentTest::with(())
            .given(history)
            .when(record(AuthorisationOutcome::Approved {
                response: json!({}),
            }))
            .then_expect_error(PaymentError::AlreadyFinal);
    }

    #[test]
    fn answer_that_was_never_asked_for_is_refused() {
        PaymentTest::with(())
            .given(matched_history())
            .when(record(AuthorisationOutcome::Approved {
                response: json!({}),
            }))
            .then_expect_error(PaymentError::NotAwaitingAuthorisation);
    }
}

mod time_out {
    use super::*;

    fn time_out(seconds: i64) -> PaymentCommand {
        PaymentCommand::TimeOut { at: at(seconds) }
    }

    #[test]
    fn waiting_for_a_scan_needs_no_reversal() {
        PaymentTest::with(())
            .given(vec![issued(None), requested(1)])
            .when(time_out(61))
            .then_expect_events(vec![PaymentEvent::TimedOut {
                waiting_for: WaitingFor::Scan,
                reason: "no scan received".into(),
                timed_out_at: at(61),
            }]);
    }

    #[test]
    fn matched_but_never_sent_needs_no_reversal() {
        PaymentTest::with(())
            .given(matched_history())
            .when(time_out(61))
            .then_expect_events(vec![PaymentEvent::TimedOut {
                waiting_for: WaitingFor::Partner,
                reason: "authorisation never sent".into(),
                timed_out_at: at(61),
            }]);
    }

    #[test]
    fn waiting_for_the_partner_queues_a_reversal() {
        PaymentTest::with(())
            .given(authorising_history())
            .when(time_out(61))
            .then_expect_events(
                [
                    vec![PaymentEvent::TimedOut {
                        waiting_for: WaitingFor::Partner,
                        reason: "no answer from the partner in time".into(),
                        timed_out_at: at(61),
                    }],
                    timeout_reversal(61),
                ]
                .concat(),
            );
    }

    #[test]
    fn after_the_outcome_is_refused() {
        let mut history = authorising_history();
        history.push(PaymentEvent::Authorised {
            partner_id: partner("demo-partner"),
            response: json!({}),
            authorised_at: at(5),
        });
        PaymentTest::with(())
            .given(history)
            .when(time_out(61))
            .then_expect_error(PaymentError::AlreadyFinal);
    }

    #[test]
    fn with_no_request_waiting_is_refused() {
        PaymentTest::with(())
            .given(vec![issued(None), scanned("demo-partner", 1)])
            .when(time_out(61))
            .then_expect_error(PaymentError::NothingWaiting);
    }
}

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

mod advise {
    use super::*;

    #[test]
    fn confirmation_of_an_approval_is_scheduled_for_the_partner() {
        PaymentTest::with(())
            .given(approved_history())
            .when(advise("conf-1", confirmation(), 10))
            .then_expect_events(vec![
                advised("conf-1", confirmation(), 10),
                scheduled("conf-1", confirmation(), 10),
            ]);
    }

    #[test]
    fn confirmation_before_the_answer_waits_for_it() {
        PaymentTest::with(())
            .given(authorising_history())
            .when(advise("conf-1", confirmation(), 4))
            .then_expect_events(vec![advised("conf-1", confirmation(), 4)]);
    }

    #[test]
    fn the_approval_after_an_early_confirmation_schedules_it() {
        let mut history = authorising_history();
        history.push(advised("conf-1", confirmation(), 4));
        PaymentTest::with(())
            .given(history)
            .when(PaymentCommand::RecordAuthorisation {
                outcome: AuthorisationOutcome::Approved {
                    response: json!({}),
                },
                at: at(5),
            })
            .then_expect_events(vec![authorised(5), scheduled("conf-1", confirmation(), 5)]);
    }

    #[test]
    fn a_repeat_is_accepted_with_no_second_effect() {
        let mut history = approved_history();
        history.push(advised("conf-1", confirmation(), 10));
        history.push(scheduled("conf-1", confirmation(), 10));
        PaymentTest::with(())
            .given(history.clone())
            .when(advise("conf-1", confirmation(), 11))
            .then_expect_events(vec![]);
        PaymentTest::with(())
            .given(history)
            .when(advise("conf-2", confirmation(), 12))
            .then_expect_events(vec![]);
    }

    #[test]
    fn reversal_after_confirmation_is_refused() {
        let mut history = approved_history();
        history.push(advised("conf-1", confirmation(), 10));
        PaymentTest::with(())
            .given(history)
            .when(advise("rev-1", reversal(), 11))
            .then_expect_error(PaymentError::AdviceConflict("confirmed"));
    }

    #[test]
    fn confirmation_after_reversal_is_refused() {
        let mut history = approved_history();
        history.push(advised("rev-1", reversal(), 10));
        PaymentTest::with(())
            .given(history)
            .when(advise("conf-1", confirmation(), 11))
            .then_expect_error(PaymentError::AdviceConflict("reversed"));
    }

    #[test]
    fn confirmation_of_a_decline_is_refused() {
        let mut history = authorising_history();
        history.push(PaymentEvent::Declined {
            partner_id: partner("demo-partner"),
            error: json!({}),
            declined_at: at(5),
        });
        PaymentTest::with(())
            .given(history)
            .when(advise("conf-1", confirmation(), 10))
            .then_expect_error(PaymentError::NotApproved);
    }

    #[test]
    fn reversal_of_a_decline_completes_with_nothing_to_forward() {
        let mut history = authorising_history();
        history.push(PaymentEvent::Declined {
            partner_id: partner("demo-partner"),
            error: json!({}),
            declined_at: at(5),
        });
        PaymentTest::with(())
            .given(history)
            .when(advise("rev-1", reversal(), 10))
            .then_expect_events(vec![
                advised("rev-1", reversal(), 10),
                PaymentEvent::Completed {
                    completed_at: at(10),
                },
            ]);
    }

    #[test]
    fn for_another_request_or_retailer_looks_unknown() {
        let mut wrong_request = advise("conf-1", confirmation(), 10);
        if let PaymentCommand::Advise { request_id, .. } = &mut wrong_request {
            *request_id = "req-other".into();
        }
        PaymentTest::with(())
            .given(approved_history())
            .when(wrong_request)
            .then_expect_error(PaymentError::UnknownTransaction);
        let mut wrong_client = advise("conf-1", confirmation(), 10);
        if let PaymentCommand::Advise { client_id, .. } = &mut wrong_client {
            *client_id = Some(partner("other-retailer"));
        }
        PaymentTest::with(())
            .given(approved_history())
            .when(wrong_client)
            .then_expect_error(PaymentError::UnknownTransaction);
    }

    #[test]
    fn reusing_another_message_id_is_a_duplicate() {
        PaymentTest::with(())
            .given(approved_history())
            .when(advise("req-1", confirmation(), 10))
            .then_expect_error(PaymentError::DuplicateMessage("req-1".into()));
    }
}

mod deliveries {
    use super::*;

    fn confirmed_history() -> Vec<PaymentEvent> {
        let mut history = approved_history();
        history.push(advised("conf-1", confirmation(), 10));
        history.push(scheduled("conf-1", confirmation(), 10));
        history
    }

    #[test]
    fn acknowledgement_delivers_and_completes() {
        PaymentTest::with(())
            .given(confirmed_history())
            .when(record_delivery(
                "conf-1",
                DeliveryResult::Acknowledged { status: 202 },
                12,
            ))
            .then_expect_events(vec![
                delivered("conf-1", 12),
                PaymentEvent::Completed {
                    completed_at: at(12),
                },
            ]);
    }

    #[test]
    fn refusal_is_recorded_and_does_not_complete() {
        PaymentTest::with(())
            .given(confirmed_history())
            .when(record_delivery(
                "conf-1",
                DeliveryResult::Refused {
                    status: 400,
                    reason: "unknown".into(),
                },
                12,
            ))
            .then_expect_events(vec![PaymentEvent::AdviceRefused {
                delivery_id: "conf-1".into(),
                status: 400,
                reason: "unknown".into(),
                refused_at: at(12),
            }]);
    }

    #[test]
    fn a_second_answer_changes_nothing() {
        let mut history = confirmed_history();
        history.push(delivered("conf-1", 12));
        PaymentTest::with(())
            .given(history)
            .when(record_delivery(
                "conf-1",
                DeliveryResult::Acknowledged { status: 202 },
                13,
            ))
            .then_expect_events(vec![]);
    }

    #[test]
    fn unknown_delivery_is_refused() {
        PaymentTest::with(())
            .given(confirmed_history())
            .when(record_delivery(
                "nope",
                DeliveryResult::Acknowledged { status: 202 },
                12,
            ))
            .then_expect_error(PaymentError::UnknownDelivery("nope".into()));
    }

    #[test]
    fn timeout_reversal_delivered_completes_without_a_pos_advice() {
        let history = [
            authorising_history(),
            vec![PaymentEvent::TimedOut {
                waiting_for: WaitingFor::Partner,
                reason: "x".into(),
                timed_out_at: at(61),
            }],
            timeout_reversal(61),
        ]
        .concat();
        PaymentTest::with(())
            .given(history)
            .when(record_delivery(
                &timeout_reversal_id(),
                DeliveryResult::Acknowledged { status: 202 },
                62,
            ))
            .then_expect_events(vec![
                delivered(&timeout_reversal_id(), 62),
                PaymentEvent::Completed {
                    completed_at: at(62),
                },
            ]);
    }

    #[test]
    fn park_then_unpark() {
        PaymentTest::with(())
            .given(confirmed_history())
            .when(PaymentCommand::ParkDelivery {
                delivery_id: "conf-1".into(),
                reason: "too old".into(),
                at: at(20),
            })
            .then_expect_events(vec![PaymentEvent::DeliveryParked {
                delivery_id: "conf-1".into(),
                reason: "too old".into(),
                parked_at: at(20),
            }]);
        let mut parked = confirmed_history();
        parked.push(PaymentEvent::DeliveryParked {
            delivery_id: "conf-1".into(),
            reason: "too old".into(),
            parked_at: at(20),
        });
        PaymentTest::with(())
            .given(parked)
            .when(PaymentCommand::UnparkDelivery {
                delivery_id: "conf-1".into(),
                at: at(21),
            })
            .then_expect_events(vec![PaymentEvent::DeliveryUnparked {
                delivery_id: "conf-1".into(),
                unparked_at: at(21),
            }]);
    }

    #[test]
    fn park_of_a_delivered_and_unpark_of_a_pending_are_refused() {
        let mut history = confirmed_history();
        history.push(delivered("conf-1", 12));
        PaymentTest::with(())
            .given(history)
            .when(PaymentCommand::ParkDelivery {
                delivery_id: "conf-1".into(),
                reason: "x".into(),
                at: at(20),
            })
            .then_expect_error(PaymentError::DeliveryNotInState("conf-1".into()));
        PaymentTest::with(())
            .given(confirmed_history())
            .when(PaymentCommand::UnparkDelivery {
                delivery_id: "conf-1".into(),
                at: at(20),
            })
            .then_expect_error(PaymentError::DeliveryNotInState("conf-1".into()));
    }
}

mod payshap {
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
}
