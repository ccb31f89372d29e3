//! Issue and matching.

use super::*;

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
