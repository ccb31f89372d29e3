//! Durable projections: catch-up after a crash, failures surfaced, late commits on
//! PostgreSQL, and rebuilds that reproduce the live rows.

use std::time::Duration;

use crate::common::*;
use projections::payment_status;
use projections::rebuild::rebuild;
use sqlx::{Connection, PgConnection};

/// Polls `condition` every 50 ms for at most `limit`; the tests never wait unbounded.
async fn eventually<F, Fut>(limit: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if condition().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    condition().await
}

/// Events commit, then the process dies before any view update. The next process catches up
/// from the checkpoint and the view shows every event.
async fn projection_catches_up_after_crash_between_append_and_view_update(backend: Backend) {
    let db = TestDb::new(backend).await;
    let crashed = build_app(&db).await; // builds and appends, but never runs its projectors
    let mut tran_ids = Vec::new();
    for cents in [100, 200, 300] {
        tran_ids.push(issue_and_request(&crashed, cents).await);
    }
    assert!(payment_status::all(crashed.store.views().pool())
        .await
        .unwrap()
        .is_empty());
    crashed.store.close().await;
    drop(crashed);

    let server = TestServer::start(db.config()).await;
    let views = server.app().store.views().pool().clone();
    let caught_up = eventually(Duration::from_secs(10), || async {
        payment_status::all(&views).await.unwrap().len() == 3
    })
    .await;
    assert!(caught_up, "restarted instance must catch up from the store");
    for tran_id in &tran_ids {
        let row = payment_status::find(&views, tran_id.as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.status, "PAYMENT_REQUESTED");
        assert_eq!(row.last_sequence, 2);
    }
    server.stop().await;
}
on_both_backends!(
    projection_catches_up_after_crash_between_append_and_view_update,
    super::projection_catches_up_after_crash_between_append_and_view_update
);

/// A view update that fails is logged, counted, makes `/ready` fail, leaves the checkpoint
/// where it was, and is retried until it succeeds; nothing is skipped.
async fn failing_view_update_fails_ready_until_repaired(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(db.config()).await;
    let app = server.app().clone();
    let views = app.store.views().pool().clone();
    assert_eq!(server.get("/ready").await.status(), 200);

    sqlx::query("ALTER TABLE payment_status RENAME TO payment_status_away")
        .execute(&views)
        .await
        .unwrap();
    let tran_id = issue_and_request(&app, 700).await;

    let failing = eventually(Duration::from_secs(10), || async {
        server.get("/ready").await.status() == 503
    })
    .await;
    assert!(failing, "/ready must fail while a projection cannot update");
    let body: serde_json::Value = server.get("/ready").await.json().await.unwrap();
    let status = &body["projections"]["payment_status"];
    assert_eq!(status["ok"], false);
    assert!(status["failures_total"].as_u64().unwrap() >= 1);
    assert!(status["error"].as_str().unwrap().contains("payment_status"));
    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("qrswitch_projection_failures_total"));

    sqlx::query("ALTER TABLE payment_status_away RENAME TO payment_status")
        .execute(&views)
        .await
        .unwrap();
    let recovered = eventually(Duration::from_secs(15), || async {
        server.get("/ready").await.status() == 200
    })
    .await;
    assert!(
        recovered,
        "/ready must recover once the view can be written"
    );
    let row = payment_status::find(&views, tran_id.as_str())
        .await
        .unwrap()
        .expect("the events of the failed attempts are applied on retry");
    assert_eq!(row.status, "PAYMENT_REQUESTED");
    server.stop().await;
}
on_both_backends!(
    failing_view_update_fails_ready_until_repaired,
    super::failing_view_update_fails_ready_until_repaired
);

/// PostgreSQL hands out positions at insert time. A slow transaction takes position N, a
/// fast one takes N+1 and commits first; the projector runs in between. It must still apply
/// the slow one's event once it commits, instead of skipping it for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projector_never_skips_an_event_committed_late_on_postgres() {
    postgres_or_skip!("projections::projector_never_skips_an_event_committed_late_on_postgres");
    let db = TestDb::new(Backend::Postgres).await;
    let app = build_app(&db).await;
    let projector = app.projector(payment_status::NAME).unwrap().clone();

    let slow_tran = new_tran_id();
    let slow_event = serde_json::json!({ "QrIssued": {
        "message_id": "slow-1", "tran_id": slow_tran.as_str(), "client_id": "demo-retailer",
        "terminal_id": "lane0009", "amount": null, "scheme": "EMVCO_MERCHANT",
        "payload": "000201",
        "issued_at": "2026-11-21T10:00:00Z", "expires_at": "2026-11-21T10:05:00Z" } });
    let mut slow = PgConnection::connect(&db.url).await.unwrap();
    let mut slow_tx = slow.begin().await.unwrap();
    let slow_position: i64 = sqlx::query_scalar(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata)
         VALUES ('Payment', $1, 1, 'QrIssued', '1.0', $2, '{}') RETURNING position",
    )
    .bind(slow_tran.as_str())
    .bind(&slow_event)
    .fetch_one(&mut *slow_tx)
    .await
    .unwrap();

    let fast_tran = new_tran_id();
    app.payments
        .execute(
            fast_tran.as_str(),
            issue_qr(&fast_tran),
            &metadata("demo-retailer"),
        )
        .await
        .unwrap();
    let fast_position: i64 =
        sqlx::query_scalar("SELECT position FROM events WHERE aggregate_id = $1")
            .bind(fast_tran.as_str())
            .fetch_one(app.store.views().pool())
            .await
            .unwrap();
    assert!(
        fast_position > slow_position,
        "the fast commit has the later position"
    );

    projector.catch_up().await.unwrap();
    let views = app.store.views().pool();
    assert!(
        payment_status::find(views, fast_tran.as_str())
            .await
            .unwrap()
            .is_none(),
        "events behind a running transaction wait for it, so order is kept"
    );

    slow_tx.commit().await.unwrap();
    // Tests in other databases of the same cluster may hold the horizon back briefly.
    projector
        .catch_up_to_head(Duration::from_secs(10))
        .await
        .unwrap();
    assert!(payment_status::find(views, slow_tran.as_str())
        .await
        .unwrap()
        .is_some());
    assert!(payment_status::find(views, fast_tran.as_str())
        .await
        .unwrap()
        .is_some());
}

/// A projection pass is a long transaction of view writes. Enlisted as a view writer, it
/// must not hold back the feed other passes read (ADR 0008); any other transaction still
/// does, since it might yet commit events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_pass_in_progress_does_not_hold_back_the_feed_on_postgres() {
    use projections::feed::{read_after_passes, FeedPosition};
    postgres_or_skip!(
        "projections::a_view_pass_in_progress_does_not_hold_back_the_feed_on_postgres"
    );
    let db = TestDb::new(Backend::Postgres).await;
    let app = build_app(&db).await;

    // Given a transaction in progress that has written (so it has an id).
    let mut pass = PgConnection::connect(&db.url).await.unwrap();
    let mut pass_tx = pass.begin().await.unwrap();
    let xid: i64 = sqlx::query_scalar("SELECT pg_current_xact_id()::text::bigint")
        .fetch_one(&mut *pass_tx)
        .await
        .unwrap();
    // When an event commits after it.
    let tran = new_tran_id();
    app.payments
        .execute(tran.as_str(), issue_qr(&tran), &metadata("demo-retailer"))
        .await
        .unwrap();
    let views = app.store.views();
    let mut conn = views.pool().acquire().await.unwrap();
    let feed_has_it = |events: Vec<projections::feed::StoredEvent>| {
        events.iter().any(|e| e.aggregate_id == tran.as_str())
    };

    // Then, not enlisted, the transaction holds the event back.
    let unlisted = read_after_passes(&mut conn, views.backend(), FeedPosition::START, 500, "")
        .await
        .unwrap();
    assert!(
        !feed_has_it(unlisted),
        "an unknown transaction may still write events"
    );

    // And, enlisted as a view writer, it does not (other databases of the cluster may hold
    // the horizon back for a moment, hence the bounded wait).
    let enlisted = views.view_writers().enlist(xid);
    let writers = views.view_writers().list();
    assert_eq!(writers, xid.to_string());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut seen = false;
    while !seen && tokio::time::Instant::now() < deadline {
        let events = read_after_passes(
            &mut conn,
            views.backend(),
            FeedPosition::START,
            500,
            &writers,
        )
        .await
        .unwrap();
        seen = feed_has_it(events);
        if !seen {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert!(seen, "a view pass in progress held back the feed");
    drop(enlisted);
    assert_eq!(
        views.view_writers().list(),
        "",
        "a finished pass is unlisted"
    );
    pass_tx.rollback().await.unwrap();
}

/// A rebuild from the events yields exactly the rows the live projection has, through the
/// library and through `qrswitch rebuild`.
async fn rebuild_yields_the_rows_of_the_live_projection(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = build_app(&db).await;
    // A mix of states: issued only, requested, scanned, matched in both orders.
    let issued_only = new_tran_id();
    app.payments
        .execute(
            issued_only.as_str(),
            issue_qr(&issued_only),
            &metadata("demo-retailer"),
        )
        .await
        .unwrap();
    let requested = issue_and_request(&app, 1_234).await;
    let matched = issue_and_request(&app, 5_000).await;
    app.payments
        .execute(
            matched.as_str(),
            scan_by("demo-partner"),
            &metadata("demo-partner"),
        )
        .await
        .unwrap();
    let scanned_first = new_tran_id();
    app.payments
        .execute(
            scanned_first.as_str(),
            issue_qr(&scanned_first),
            &metadata("demo-retailer"),
        )
        .await
        .unwrap();
    app.payments
        .execute(
            scanned_first.as_str(),
            scan_by("demo-partner"),
            &metadata("demo-partner"),
        )
        .await
        .unwrap();
    app.catch_up_all().await.unwrap();

    let views = app.store.views().pool().clone();
    let live = payment_status::all(&views).await.unwrap();
    assert_eq!(live.len(), 4);
    let status_of = |id: &str| {
        live.iter()
            .find(|row| row.tran_id == id)
            .map(|row| row.status.clone())
            .unwrap()
    };
    assert_eq!(status_of(issued_only.as_str()), "QR_ISSUED");
    assert_eq!(status_of(requested.as_str()), "PAYMENT_REQUESTED");
    assert_eq!(status_of(matched.as_str()), "MATCHED");
    assert_eq!(status_of(scanned_first.as_str()), "SCANNED");

    let projector = app.projector(payment_status::NAME).unwrap();
    let replayed = rebuild(
        app.store.views(),
        std::slice::from_ref(projector),
        &|_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(replayed, 9);
    assert_eq!(payment_status::all(&views).await.unwrap(), live);

    // The same through the command line, as ops would run it.
    sqlx::query("UPDATE payment_status SET status = 'TAMPERED'")
        .execute(&views)
        .await
        .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_qrswitch"))
        .args(["rebuild", "--projection", "payment_status"])
        .env("DATABASE_URL", &db.url)
        .env_remove("QRSWITCH_CONFIG")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("rebuilt payment_status: 9 events replayed"),
        "{stdout}"
    );
    assert_eq!(payment_status::all(&views).await.unwrap(), live);

    // Every view at once: one read of the feed, one line per view, the same rows.
    sqlx::query("UPDATE payment_status SET status = 'TAMPERED'")
        .execute(&views)
        .await
        .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_qrswitch"))
        .arg("rebuild")
        .env("DATABASE_URL", &db.url)
        .env_remove("QRSWITCH_CONFIG")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    for name in ["payment_status", "saf_outbox", "recon", "proxy_registry"] {
        let line = format!("rebuilt {name}: 9 events replayed");
        assert!(stdout.contains(&line), "{stdout}");
    }
    assert_eq!(payment_status::all(&views).await.unwrap(), live);

    let unknown = std::process::Command::new(env!("CARGO_BIN_EXE_qrswitch"))
        .args(["rebuild", "--projection", "no_such_view"])
        .env("DATABASE_URL", &db.url)
        .env_remove("QRSWITCH_CONFIG")
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no projection named"));
}
on_both_backends!(
    rebuild_yields_the_rows_of_the_live_projection,
    super::rebuild_yields_the_rows_of_the_live_projection
);
