//! The runbook's backup and restore (docs/operations.md), as an operator runs it: a backup
//! taken while the switch serves, restored into an empty store, migrated and verified, then
//! served again with every event and every payment's state as before.

use std::process::Command;

use sqlx::{Connection, Executor};

use crate::common::process::run_qrswitch;
use crate::common::qr::*;
use crate::common::{Backend, TestDb, TestServer};

/// One number `sql` counts in the store at `url`.
async fn count(url: &str, sql: &str) -> i64 {
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
}

async fn event_count(url: &str) -> i64 {
    count(url, "SELECT COUNT(*) FROM events").await
}

async fn delivered(url: &str) -> i64 {
    count(
        url,
        "SELECT COUNT(*) FROM saf_outbox WHERE status = 'DELIVERED'",
    )
    .await
}

/// `pg_dump` and `pg_restore`, or `None` (and a line saying the test skipped).
fn postgres_tools() -> Option<()> {
    let found = ["pg_dump", "pg_restore"].iter().all(|tool| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !found {
        assert!(
            std::env::var_os("QRSWITCH_REQUIRE_INITDB").is_none(),
            "QRSWITCH_REQUIRE_INITDB is set but pg_dump or pg_restore is missing"
        );
        eprintln!("skipped: pg_dump and pg_restore are not installed");
    }
    found.then_some(())
}

/// The copy the runbook takes of a running store, restored into `into`.
async fn back_up_and_restore(from: &TestDb, into: &TestDb) {
    match from.backend {
        Backend::Postgres => {
            let dump = from.dir().join("qrswitch.dump");
            let dumped = Command::new("pg_dump")
                .args(["--format=custom", "--file"])
                .arg(&dump)
                .arg(format!("--dbname={}", from.url))
                .output()
                .unwrap();
            assert!(
                dumped.status.success(),
                "{}",
                String::from_utf8_lossy(&dumped.stderr)
            );
            let restored = Command::new("pg_restore")
                .args(["--clean", "--if-exists", "--no-owner"])
                .arg(format!("--dbname={}", into.url))
                .arg(&dump)
                .output()
                .unwrap();
            assert!(
                restored.status.success(),
                "{}",
                String::from_utf8_lossy(&restored.stderr)
            );
        }
        Backend::Sqlite => {
            let copy = into.url.trim_start_matches("sqlite://").to_owned();
            let mut conn = sqlx::AnyConnection::connect(&from.url).await.unwrap();
            conn.execute(format!("VACUUM INTO '{copy}'").as_str())
                .await
                .unwrap();
        }
    }
}

/// Given payments made and a backup taken while the switch serves, when the backup is
/// restored into an empty store, migrated and verified, then `verify` finds every chain
/// intact and the money right, and a switch on the restored store is ready with every
/// event and every payment's answer as before.
async fn a_backup_restores_and_verifies(backend: Backend) {
    if backend == Backend::Postgres && postgres_tools().is_none() {
        return;
    }
    let from = TestDb::new(backend).await;
    let (config, sim) = approving_partner(&from).await;
    let server = TestServer::start(config).await;
    let (pos, partner) = (
        QrClient::new(&server.base_url),
        QrClient::new(&server.base_url),
    );
    let mut paid = Vec::new();
    for cents in [1_250, 4_200, 990] {
        paid.push(confirmed_payment(&pos, &partner, cents).await.0);
    }
    // The store goes quiet once every confirmation is delivered and recorded; the backup is
    // taken then, with the switch still serving, so that the copy can be compared.
    for _ in 0..200 {
        server.app().catch_up_all().await.unwrap();
        if delivered(&from.url).await == paid.len() as i64 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(delivered(&from.url).await, paid.len() as i64);
    let into = TestDb::new(backend).await;
    back_up_and_restore(&from, &into).await;
    server.running.stop().await.unwrap();
    sim.stop().await;

    for step in [&["migrate"][..], &["verify"][..]] {
        let out = run_qrswitch(&into.url, step);
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{step:?}: {said}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if step == ["verify"] {
            assert!(said.contains("every chain intact"), "{said}");
            assert!(said.contains("every invariant holds"), "{said}");
            println!(
                "restored ({backend:?}): {}",
                said.trim().replace('\n', "; ")
            );
        }
    }
    assert_eq!(event_count(&into.url).await, event_count(&from.url).await);
    let restored = TestServer::start(into.config()).await;
    let ready = reqwest::get(format!("{}/ready", restored.base_url))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    for tran_id in &paid {
        let events = reqwest::get(format!(
            "{}/audit/payments/{tran_id}/events",
            restored.base_url
        ))
        .await
        .unwrap();
        assert_eq!(events.status(), 200, "{tran_id} is in the restored store");
    }
    restored.running.stop().await.unwrap();
}
on_both_backends!(backup_and_restore, super::a_backup_restores_and_verifies);
