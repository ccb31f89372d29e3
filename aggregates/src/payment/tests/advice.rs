//! Advices and their deliveries.

use super::*;

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

    #[test]
    fn a_retry_of_a_pending_delivery_is_recorded_and_changes_nothing_else() {
        PaymentTest::with(())
            .given(confirmed_history())
            .when(PaymentCommand::RetryDelivery {
                delivery_id: "conf-1".into(),
                at: at(20),
            })
            .then_expect_events(vec![PaymentEvent::DeliveryRetryRequested {
                delivery_id: "conf-1".into(),
                requested_at: at(20),
            }]);
        // Still pending after it: a second retry is accepted too.
        let mut retried = confirmed_history();
        retried.push(PaymentEvent::DeliveryRetryRequested {
            delivery_id: "conf-1".into(),
            requested_at: at(20),
        });
        PaymentTest::with(())
            .given(retried)
            .when(PaymentCommand::RetryDelivery {
                delivery_id: "conf-1".into(),
                at: at(21),
            })
            .then_expect_events(vec![PaymentEvent::DeliveryRetryRequested {
                delivery_id: "conf-1".into(),
                requested_at: at(21),
            }]);
    }

    #[test]
    fn a_retry_of_a_delivered_or_unknown_delivery_is_refused() {
        let mut history = confirmed_history();
        history.push(delivered("conf-1", 12));
        PaymentTest::with(())
            .given(history)
            .when(PaymentCommand::RetryDelivery {
                delivery_id: "conf-1".into(),
                at: at(20),
            })
            .then_expect_error(PaymentError::DeliveryNotInState("conf-1".into()));
        PaymentTest::with(())
            .given(confirmed_history())
            .when(PaymentCommand::RetryDelivery {
                delivery_id: "nope".into(),
                at: at(20),
            })
            .then_expect_error(PaymentError::UnknownDelivery("nope".into()));
    }
}
