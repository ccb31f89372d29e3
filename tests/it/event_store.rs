//! The event store on both backends: optimistic concurrency, conflict retries and metadata.

use std::sync::Arc;

use crate::common::*;
use aggregates::{Payment, PaymentError, PaymentEvent};
use cqrs_es::persist::{PersistedEventRepository, PersistedEventStore};
use cqrs_es::{AggregateError, EventStore};
use tokio::sync::Barrier;

/// Two writers load the same version of one payment; the first commit wins and the second
/// is refused as a conflict, leaving the stored stream untouched by it.
async fn second_of_two_commits_on_one_version_conflicts(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = build_app(&db).await;
    let tran_id = issue_and_request(&app, 1_000).await;
    let store: PersistedEventStore<_, Payment> =
        PersistedEventStore::new_event_store(app.store.event_repository());

    let first = store.load_aggregate(tran_id.as_str()).await.unwrap();
    let second = store.load_aggregate(tran_id.as_str()).await.unwrap();
    let scan = |partner: &str| PaymentEvent::ScanReceived {
        message_id: format!("scan-{partner}"),
        partner_id: party(partner),
        partner_payment_token: None,
        scanned_at: at(0),
        hold_until: at(60),
    };
    store
        .commit(vec![scan("partner-a")], first, Default::default())
        .await
        .expect("first commit wins");
    let refused = store
        .commit(vec![scan("partner-b")], second, Default::default())
        .await;
    assert!(
        matches!(refused, Err(AggregateError::AggregateConflict)),
        "second commit must conflict, got {refused:?}"
    );

    let events = app
        .store
        .event_repository()
        .get_events::<Payment>(tran_id.as_str())
        .await
        .unwrap();
    assert_eq!(
        events.len(),
        3,
        "QrIssued, PaymentRequested, one ScanReceived"
    );
    assert_eq!(events[2].payload["ScanReceived"]["partner_id"], "partner-a");
}
on_both_backends!(
    second_of_two_commits_on_one_version_conflicts,
    super::second_of_two_commits_on_one_version_conflicts
);

/// Two partners scan the same QR at the same instant, many times over: each time exactly one
/// scan is recorded and matched, and the other is refused cleanly as already scanned (after
/// the bus retried its conflict, if it had one). Never an error of any other kind.
async fn concurrent_scans_on_one_payment_record_exactly_one(backend: Backend) {
    const PAYMENTS: usize = 12;
    let db = TestDb::new(backend).await;
    let app = build_app(&db).await;
    for _ in 0..PAYMENTS {
        let tran_id = issue_and_request(&app, 2_500).await;
        let barrier = Arc::new(Barrier::new(2));
        let racers: Vec<_> = ["partner-a", "partner-b"]
            .into_iter()
            .map(|partner| {
                let app = Arc::clone(&app);
                let barrier = Arc::clone(&barrier);
                let tran_id = tran_id.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    app.payments
                        .execute(tran_id.as_str(), scan_by(partner), &metadata(partner))
                        .await
                })
            })
            .collect();
        let mut accepted = 0;
        let mut refused = 0;
        for racer in racers {
            match racer.await.unwrap() {
                Ok(_) => accepted += 1,
                Err(AggregateError::UserError(PaymentError::AlreadyScanned {
                    by_same_partner: false,
                })) => refused += 1,
                Err(other) => panic!("unexpected outcome of a racing scan: {other:?}"),
            }
        }
        assert_eq!((accepted, refused), (1, 1));
        let events = app
            .store
            .event_repository()
            .get_events::<Payment>(tran_id.as_str())
            .await
            .unwrap();
        let types: Vec<_> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(
            types,
            ["QrIssued", "PaymentRequested", "ScanReceived", "Matched"]
        );
    }
}
on_both_backends!(
    concurrent_scans_on_one_payment_record_exactly_one,
    super::concurrent_scans_on_one_payment_record_exactly_one
);

/// Every event records who caused it, on which request and message, and when.
async fn events_carry_their_metadata(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = build_app(&db).await;
    let tran_id = new_tran_id();
    let meta = metadata("demo-retailer");
    app.payments
        .execute(tran_id.as_str(), issue_qr(&tran_id), &meta)
        .await
        .unwrap();
    let events = app
        .store
        .event_repository()
        .get_events::<Payment>(tran_id.as_str())
        .await
        .unwrap();
    let stored = &events[0].metadata;
    assert_eq!(stored["party"], "demo-retailer");
    assert_eq!(stored["request_id"], meta.request_id.as_str());
    assert_eq!(
        stored["message_id"],
        meta.message_id.clone().unwrap().as_str()
    );
    assert_eq!(
        stored["received_at"],
        meta.received_at.to_rfc3339().as_str()
    );
    assert_eq!(events[0].event_version, "1.0");
}
on_both_backends!(
    events_carry_their_metadata,
    super::events_carry_their_metadata
);

/// A refused command stores nothing.
async fn refused_command_changes_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = build_app(&db).await;
    let tran_id = issue_and_request(&app, 100).await;
    let again = app
        .payments
        .execute(
            tran_id.as_str(),
            request_payment(100),
            &metadata("demo-retailer"),
        )
        .await;
    assert!(matches!(
        again,
        Err(AggregateError::UserError(
            PaymentError::PaymentAlreadyRequested
        ))
    ));
    let events = app
        .store
        .event_repository()
        .get_events::<Payment>(tran_id.as_str())
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
}
on_both_backends!(
    refused_command_changes_nothing,
    super::refused_command_changes_nothing
);

/// Group commit: many appends at once share statements, yet each gets its own answer. Of two
/// appends to the same stream from the same sequence exactly one wins, whole; the loser gets
/// a conflict; every uncontested append succeeds; no stream is ever written in part.
async fn concurrent_appends_each_get_their_own_answer(backend: Backend) {
    use cqrs_es::persist::{PersistenceError, SerializedEvent};
    const STREAMS: usize = 24;
    let db = TestDb::new(backend).await;
    let app = build_app(&db).await;
    let events = |stream: usize, writer: &str, count: usize| -> Vec<SerializedEvent> {
        (1..=count)
            .map(|sequence| SerializedEvent {
                aggregate_id: format!("group-{stream}"),
                sequence,
                aggregate_type: "Payment".to_owned(),
                event_type: format!("Written{writer}"),
                event_version: "1.0".to_owned(),
                payload: serde_json::json!({ "writer": writer }),
                metadata: serde_json::json!({}),
            })
            .collect()
    };
    let barrier = Arc::new(Barrier::new(STREAMS + STREAMS / 2));
    let mut writers = Vec::new();
    for stream in 0..STREAMS {
        // Every other stream has a rival writing three events from the same sequence.
        let rivals: &[(&str, usize)] = if stream % 2 == 0 {
            &[("A", 2), ("B", 3)]
        } else {
            &[("A", 2)]
        };
        for &(writer, count) in rivals {
            let (app, barrier, batch) = (
                Arc::clone(&app),
                Arc::clone(&barrier),
                events(stream, writer, count),
            );
            writers.push(tokio::spawn(async move {
                barrier.wait().await;
                let result = app
                    .store
                    .event_repository()
                    .persist::<Payment>(&batch, None)
                    .await;
                (stream, writer, result)
            }));
        }
    }
    let mut winners = std::collections::HashMap::new();
    for writer in writers {
        let (stream, name, result) = writer.await.unwrap();
        match result {
            Ok(()) => assert!(
                winners.insert(stream, name).is_none(),
                "two winners on {stream}"
            ),
            Err(PersistenceError::OptimisticLockError) => {
                assert_eq!(stream % 2, 0, "uncontested {stream} refused")
            }
            Err(other) => panic!("stream {stream} writer {name}: {other:?}"),
        }
    }
    assert_eq!(
        winners.len(),
        STREAMS,
        "every stream has exactly one winner"
    );
    for (stream, winner) in winners {
        let stored = app
            .store
            .event_repository()
            .get_events::<Payment>(&format!("group-{stream}"))
            .await
            .unwrap();
        let expected = if winner == "A" { 2 } else { 3 };
        assert_eq!(stored.len(), expected, "stream {stream}");
        assert!(
            stored
                .iter()
                .all(|e| e.event_type == format!("Written{winner}")),
            "stream {stream} mixed"
        );
    }
}
on_both_backends!(
    concurrent_appends_each_get_their_own_answer,
    super::concurrent_appends_each_get_their_own_answer
);
