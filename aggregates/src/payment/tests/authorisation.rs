//! Authorisation and time-outs.

use super::*;

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
    fn approval_authorises_naming_the_partner_references() {
        let answer = json!({
            "tranId": TRAN_ID,
            "rrn": "000123456789",
            "stan": "",
            "slipData": { "issuerReference": "WALLET7731" },
            "tenders": [{ "reference": "T-1" }, { "tenderType": "CARD" }, { "reference": "T-2" }],
        });
        PaymentTest::with(())
            .given(authorising_history())
            .when(record(AuthorisationOutcome::Approved {
                response: answer.clone(),
            }))
            .then_expect_events(vec![PaymentEvent::Authorised {
                partner_id: partner("demo-partner"),
                response: answer,
                partner_reference: PartnerReference {
                    issuer_reference: Some("WALLET7731".to_owned()),
                    tender_references: vec!["T-1".to_owned(), "T-2".to_owned()],
                    rrn: Some("000123456789".to_owned()),
                    stan: None,
                    payshap_uetr: None,
                },
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
            partner_reference: PartnerReference::default(),
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
