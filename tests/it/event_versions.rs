//! Event versions, on both stores: a store written before `Authorised` had a version 2.0
//! (`tests/fixtures/events-v1`) is read by today's code. Its 1.0 events stay as they were
//! stored (and their chains verify), the aggregates and the views read them through the
//! upcaster, a command on such a payment is decided on it, and what is written now is 2.0.

use std::path::{Path, PathBuf};

use crate::common::qr::*;
use crate::common::*;
use serde_json::Value;
use sqlx::{AnyPool, Connection, Row};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/events-v1")
        .join(name)
}

/// Loads the dump of `backend`'s store into the test's (empty) database.
async fn restore(db: &TestDb) {
    match db.backend {
        Backend::Sqlite => {
            let dump = std::fs::read_to_string(fixture("sqlite.sql")).unwrap();
            let options: sqlx::sqlite::SqliteConnectOptions = db
                .url
                .parse::<sqlx::sqlite::SqliteConnectOptions>()
                .unwrap()
                .create_if_missing(true);
            let mut conn = sqlx::SqliteConnection::connect_with(&options)
                .await
                .unwrap();
            sqlx::raw_sql(&dump).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        }
        Backend::Postgres => {
            let loaded = std::process::Command::new("psql")
                .args(["-q", "-v", "ON_ERROR_STOP=1", "-f"])
                .arg(fixture("postgres.sql"))
                .arg(&db.url)
                .output()
                .expect("psql runs");
            assert!(
                loaded.status.success(),
                "{}",
                String::from_utf8_lossy(&loaded.stderr)
            );
        }
    }
}

/// `(tranId, version, payload)` of every authorisation, in tranId order.
async fn authorisations(pool: &AnyPool) -> Vec<(String, String, Value)> {
    let rows = sqlx::query(
        "SELECT aggregate_id, event_version, CAST(payload AS TEXT) AS payload FROM events
          WHERE event_type = 'Authorised' ORDER BY aggregate_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.iter()
        .map(|row| {
            let payload: String = row.get("payload");
            (
                row.get("aggregate_id"),
                row.get("event_version"),
                serde_json::from_str(&payload).unwrap(),
            )
        })
        .collect()
}

/// The POS's confirmation of `tran_id`, as the store recorded it.
async fn stored_confirmation(pool: &AnyPool, tran_id: &str) -> Value {
    let payload: String = sqlx::query_scalar(
        "SELECT CAST(payload AS TEXT) FROM events
          WHERE event_type = 'Advised' AND aggregate_id = $1",
    )
    .bind(tran_id)
    .fetch_one(pool)
    .await
    .unwrap();
    let payload: Value = serde_json::from_str(&payload).unwrap();
    payload["Advised"]["message"].clone()
}

async fn any_pool(url: &str) -> AnyPool {
    sqlx::any::install_default_drivers();
    AnyPool::connect(url).await.unwrap()
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

on_both_backends!(
    a_store_written_with_authorised_1_0_is_read,
    super::a_store_written_with_authorised_1_0_is_read_by_todays_code
);

async fn a_store_written_with_authorised_1_0_is_read_by_todays_code(backend: Backend) {
    // Given a store written by the code that wrote `Authorised` as 1.0.
    let db = TestDb::new(backend).await;
    restore(&db).await;
    let pool = any_pool(&db.url).await;
    let stored = authorisations(&pool).await;
    assert_eq!(stored.len(), 3);
    for (tran_id, version, payload) in &stored {
        assert_eq!(version, "1.0", "{tran_id}");
        assert!(payload["Authorised"].get("partner_reference").is_none());
    }

    // Then its chains verify as written, and the views rebuild from its events.
    let verified = process::run_qrswitch(&db.url, &["verify"]);
    assert!(verified.status.success(), "{}", stdout(&verified));
    // A store a migration behind is checked on views replayed from its events, unchanged.
    assert!(
        stdout(&verified).contains("on views replayed from the events (migrations not applied"),
        "{}",
        stdout(&verified)
    );
    let refused = process::run_qrswitch(&db.url, &["rebuild"]);
    assert!(
        !refused.status.success()
            && String::from_utf8_lossy(&refused.stderr).contains("run `qrswitch migrate` first"),
        "a rebuild of a store a migration behind is refused"
    );
    let migrated = process::run_qrswitch(&db.url, &["migrate"]);
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let rebuilt = process::run_qrswitch(&db.url, &["rebuild"]);
    assert!(
        rebuilt.status.success(),
        "{}",
        String::from_utf8_lossy(&rebuilt.stderr)
    );
    let authorised: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM recon_payments
          WHERE outcome = 'AUTHORISED' AND advice = 'CONFIRMATION'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(authorised, 3, "the views read every 1.0 authorisation");

    // The timeline names each partner reference, taken from the answer by the upcaster.
    let (tran_id, _, payload) = &stored[0];
    let tender = payload["Authorised"]["response"]["tenders"][0]["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let timeline = process::run_qrswitch(&db.url, &["replay", "--tran-id", tran_id]);
    let timeline = stdout(&timeline);
    assert!(
        timeline.contains(&format!("partner reference: tender {tender}")),
        "{timeline}"
    );

    // When a command meets a 1.0 payment, it is decided on the upcast state: the POS
    // repeating its confirmation is acknowledged again, and nothing is written.
    let (config, sim) = approving_partner(&db).await;
    let switch = TestServer::start(config).await;
    let qr = QrClient::new(&switch.base_url);
    let events_before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    let repeated = stored_confirmation(&pool, tran_id).await;
    let (status, body) = qr.post("/payments/confirmations", &repeated).await;
    assert_eq!(status, 202, "{body}");
    let events_after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        events_after, events_before,
        "a repeated advice writes nothing"
    );

    // And a payment made now is written as 2.0, with its references.
    let (new_tran_id, _, _) = confirmed_payment(&qr, &qr, 2_500).await;
    switch.stop().await;
    sim.stop().await;
    let now = authorisations(&pool).await;
    let (_, version, payload) = now.iter().find(|(id, _, _)| *id == new_tran_id).unwrap();
    assert_eq!(version, "2.0");
    let reference = &payload["Authorised"]["partner_reference"];
    assert!(
        reference["tender_references"][0]
            .as_str()
            .is_some_and(|r| r.starts_with("SIM-")),
        "{payload}"
    );
    let verified = process::run_qrswitch(&db.url, &["verify"]);
    assert!(verified.status.success(), "{}", stdout(&verified));
    pool.close().await;
}
