//! Tamper evidence, on both stores: traffic written through the switch verifies clean with
//! `qrswitch verify`; events stored without a hash are chained by `qrswitch migrate` to the
//! very hashes the appender wrote; then one byte of a payload is changed, an event deleted,
//! two swapped and a forged one inserted, and `verify` names each break (exit 1) while an
//! untouched stream still verifies clean.

use std::process::Output;
use std::time::Duration;

use crate::common::qr::*;
use crate::common::*;

/// `qrswitch` run on the test's store.
fn qrswitch(db: &TestDb, args: &[&str]) -> Output {
    crate::common::process::run_qrswitch(&db.url, args)
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn exec(pool: &sqlx::AnyPool, sql: &str, binds: &[&str]) {
    let mut query = sqlx::query(sql);
    for bind in binds {
        query = query.bind(*bind);
    }
    query.execute(pool).await.unwrap();
}

/// Six whole payments through a running switch, their confirmations delivered; their
/// tranIds. The switch is stopped afterwards, so nothing else writes.
async fn six_confirmed_payments(db: &TestDb) -> Vec<String> {
    let (config, sim) = approving_partner(db).await;
    let switch = TestServer::start(config).await;
    let qr = QrClient::new(&switch.base_url);
    let mut streams = Vec::new();
    for _ in 0..6 {
        streams.push(confirmed_payment(&qr, &qr, 999).await.0);
    }
    for _ in 0..100 {
        if sim.acknowledged("confirmation") == streams.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    switch.stop().await;
    sim.stop().await;

    streams
}

/// Untouched, every chain verifies and the day's digest is recorded; returns the day.
fn verifies_clean_and_records_the_day(db: &TestDb, backend: Backend) -> String {
    let clean = qrswitch(db, &["verify"]);
    assert!(clean.status.success(), "{}", text(&clean));
    assert!(
        text(&clean).contains("every chain intact"),
        "{}",
        text(&clean)
    );
    figures!(
        "tamper evidence ({backend:?}): untouched: {}",
        text(&clean).trim()
    );

    // The day's digest, recorded, then checked against the events.
    let today =
        qrswitch::backoffice::calendar::BusinessCalendar::from_config(&db.config().backoffice)
            .unwrap()
            .day_of(chrono::Utc::now())
            .to_string();
    let recorded = qrswitch(db, &["digest", "--day", &today]);
    assert!(recorded.status.success(), "{}", text(&recorded));
    assert!(
        text(&recorded).contains("(6 streams, 60 events), recorded at"),
        "{}",
        text(&recorded)
    );
    let day_clean = qrswitch(db, &["verify", "--day", &today]);
    assert!(day_clean.status.success(), "{}", text(&day_clean));
    assert!(
        text(&day_clean).contains("as recorded at"),
        "{}",
        text(&day_clean)
    );

    today
}

/// Events stored before they carried a hash get, from `migrate`, the hashes the appender
/// would have written.
async fn migrate_chains_as_the_appender_did(db: &TestDb, pool: &sqlx::AnyPool, stream: &str) {
    // Events stored before they carried a hash get, from `migrate`, the hashes the
    // appender would have written.
    let hashes = |id: String| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, Option<String>>(
                "SELECT hash FROM events WHERE aggregate_id = $1 ORDER BY sequence",
            )
            .bind(id)
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    let written = hashes(stream.to_owned()).await;
    assert!(written
        .iter()
        .all(|h| h.as_ref().is_some_and(|h| h.len() == 64)));
    exec(
        pool,
        "UPDATE events SET hash = NULL WHERE aggregate_id = $1",
        &[stream],
    )
    .await;
    let migrated = qrswitch(db, &["migrate"]);
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    assert_eq!(
        hashes(stream.to_owned()).await,
        written,
        "chained as the appender did"
    );
}

/// One byte changed, one event deleted, two swapped, one forged, and a stream's last
/// event removed; returns the forged event's sequence less one.
async fn tamper(pool: &sqlx::AnyPool, postgres: bool, streams: &[String]) -> i64 {
    // The fifth stream stays untouched.
    let (changed, deleted, swapped, forged) = (&streams[0], &streams[1], &streams[2], &streams[3]);
    // One byte of one stored payload.
    let payload: String = sqlx::query_scalar(if postgres {
        "SELECT payload::text FROM events WHERE aggregate_id = $1 AND sequence = 2"
    } else {
        "SELECT payload FROM events WHERE aggregate_id = $1 AND sequence = 2"
    })
    .bind(changed)
    .fetch_one(pool)
    .await
    .unwrap();
    let at = payload
        .find(|c: char| c.is_ascii_digit())
        .expect("a digit in the payload");
    let mut bytes = payload.clone().into_bytes();
    bytes[at] = if bytes[at] == b'9' {
        b'8'
    } else {
        bytes[at] + 1
    };
    let altered = String::from_utf8(bytes).unwrap();
    exec(
        pool,
        if postgres {
            "UPDATE events SET payload = CAST($1 AS json) WHERE aggregate_id = $2 AND sequence = 2"
        } else {
            "UPDATE events SET payload = $1 WHERE aggregate_id = $2 AND sequence = 2"
        },
        &[&altered, changed],
    )
    .await;
    // An event deleted.
    exec(
        pool,
        "DELETE FROM events WHERE aggregate_id = $1 AND sequence = 2",
        &[deleted],
    )
    .await;
    // Two events swapped.
    for (from, to) in [(2, 1_000_000), (3, 2), (1_000_000, 3)] {
        sqlx::query("UPDATE events SET sequence = $1 WHERE aggregate_id = $2 AND sequence = $3")
            .bind(to as i64)
            .bind(swapped)
            .bind(from as i64)
            .execute(pool)
            .await
            .unwrap();
    }
    // A forged event at the end of a stream, with a made-up hash.
    let last: i64 = sqlx::query_scalar("SELECT MAX(sequence) FROM events WHERE aggregate_id = $1")
        .bind(forged)
        .fetch_one(pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata, hash)
         SELECT aggregate_type, aggregate_id, sequence + 1, event_type, event_version, payload,
                metadata, $3 FROM events WHERE aggregate_id = $1 AND sequence = $2",
    )
    .bind(forged)
    .bind(last)
    .bind("f".repeat(64))
    .execute(pool)
    .await
    .unwrap();
    // The last event of a stream removed: its chain is still whole, only the day's digest
    // shows that history was rewritten.
    let rewritten = &streams[5];
    exec(
        pool,
        "DELETE FROM events WHERE aggregate_id = $1
            AND sequence = (SELECT MAX(sequence) FROM events WHERE aggregate_id = $1)",
        &[rewritten],
    )
    .await;
    last
}

async fn tampering_is_named(backend: Backend) {
    let db = TestDb::new(backend).await;
    let streams = six_confirmed_payments(&db).await;
    let today = verifies_clean_and_records_the_day(&db, backend);
    let reader = qrswitch::app::App::build(db.config()).await.unwrap();
    let pool = reader.store.views().pool().clone();
    migrate_chains_as_the_appender_did(&db, &pool, &streams[5]).await;
    let last = tamper(&pool, backend == Backend::Postgres, &streams).await;
    reader.store.close().await;
    let (changed, deleted, swapped, forged, untouched, rewritten) = (
        &streams[0],
        &streams[1],
        &streams[2],
        &streams[3],
        &streams[4],
        &streams[5],
    );

    let broken = qrswitch(&db, &["verify"]);
    let report = text(&broken);
    figures!(
        "tamper evidence ({backend:?}): tampered:\n{}",
        report.trim()
    );
    assert_eq!(broken.status.code(), Some(1), "{report}");
    let line_for = |stream: &str| {
        report
            .lines()
            .find(|l| l.starts_with(&format!("BROKEN Payment/{stream} ")))
            .unwrap_or_else(|| panic!("{stream} not named in:\n{report}"))
            .to_owned()
    };
    assert!(
        line_for(changed).contains("sequence 2 (feed position"),
        "{report}"
    );
    assert!(line_for(changed).contains("does not match"), "{report}");
    assert!(
        line_for(deleted).contains("sequence 2: sequence 2 missing"),
        "{report}"
    );
    assert!(
        line_for(swapped).contains("sequence 2 (feed position"),
        "{report}"
    );
    assert!(
        line_for(forged).contains(&format!("sequence {} ", last + 1)),
        "{report}"
    );
    assert_eq!(
        report.lines().filter(|l| l.starts_with("BROKEN")).count(),
        4,
        "{report}"
    );
    assert!(report.contains("4 broken"), "{report}");
    let day = qrswitch(&db, &["verify", "--day", &today]);
    let day_report = text(&day);
    crate::figures!(
        "tamper evidence ({backend:?}): day {today}:\n{}",
        day_report.trim()
    );
    assert_eq!(day.status.code(), Some(1), "{day_report}");
    assert!(
        day_report.contains(&format!("BROKEN day {today}: digest")),
        "{day_report}"
    );
    assert!(
        day_report.contains("differs from the one recorded"),
        "{day_report}"
    );
    assert!(
        day_report.contains("5 broken"),
        "four chains and the digest: {day_report}"
    );
    let again = qrswitch(&db, &["digest", "--day", &today]);
    assert_eq!(
        again.status.code(),
        Some(1),
        "the recorded digest is kept: {}",
        text(&again)
    );
    let whole = qrswitch(
        &db,
        &["verify", "--stream", &format!("Payment/{rewritten}")],
    );
    assert!(
        whole.status.success(),
        "its chain alone is whole: {}",
        text(&whole)
    );
    let one = qrswitch(
        &db,
        &["verify", "--stream", &format!("Payment/{untouched}")],
    );
    assert!(one.status.success(), "{}", text(&one));
    let unknown = qrswitch(&db, &["verify", "--stream", "Nothing/x"]);
    assert!(!unknown.status.success());
}
on_both_backends!(tampering_is_named, super::tampering_is_named);
