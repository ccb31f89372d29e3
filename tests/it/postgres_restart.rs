//! PostgreSQL restarted under load, on a cluster of the test's own: once cleanly (`fast`:
//! every session ended) and once as a crash (`immediate`: recovery from the WAL at the
//! next start). While it is away every request gets a clean 503 or its normal answer
//! within its limit and `/ready` fails; afterwards service resumes by itself, with no
//! restart of the switch, and the books balance.

use std::time::{Duration, Instant};

use crate::common::books::{check_books, Lanes, Pos};
use crate::common::private_postgres::PrivatePostgres;
use crate::common::qr::*;
use crate::common::*;
use qrswitch::partner_sim::Mode;

/// How long the database stays down each time.
const DOWN: Duration = Duration::from_secs(5);
/// Load before, between and after the restarts.
const LOADED: Duration = Duration::from_secs(3);
/// How long the switch may take to be ready once the database is back.
const RECOVERY_LIMIT: Duration = Duration::from_secs(20);
/// How long a POS waits for `pay`.
const PAY_TIMEOUT: Duration = Duration::from_secs(5);
/// A request's own limit for a database connection.
const ACQUIRE_LIMIT: Duration = Duration::from_millis(1_500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_mid_load_loses_nothing_and_resumes_by_itself() {
    let _heavy = heavy_slot().await;
    let Some(cluster) = PrivatePostgres::start("postgres restart mid-load") else {
        return;
    };
    let sim = start_sim(Mode::Approve, PARTNER, None).await;
    let config = database_fault_config(&cluster.url(), &sim, PAY_TIMEOUT, ACQUIRE_LIMIT);
    let switch = TestServer::start(config).await;
    let pos = Pos::new(&switch.base_url);
    let lanes = Lanes::start(&pos, &[PARTNER], 3, Duration::from_millis(100));

    let mut recoveries = Vec::new();
    let mut not_ready = 0;
    for mode in ["fast", "immediate"] {
        tokio::time::sleep(LOADED).await;
        cluster.stop(mode);
        let down = Instant::now();
        while down.elapsed() < DOWN {
            let asked = Instant::now();
            let ready = switch.get("/ready").await.status();
            assert_eq!(ready, 503, "not ready while the database is down");
            assert!(asked.elapsed() < ACQUIRE_LIMIT + Duration::from_secs(2));
            not_ready += 1;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        cluster.start_again();
        let back = Instant::now();
        while switch.get("/ready").await.status() != 200 {
            assert!(back.elapsed() < RECOVERY_LIMIT, "ready again after {mode}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        recoveries.push(format!("{mode} {:.1} s", back.elapsed().as_secs_f64()));
    }
    tokio::time::sleep(LOADED).await;
    let tally = lanes.stop().await;
    let refused = tally.count(503);
    check_books(
        "postgres restart mid-load",
        switch.app(),
        &[&sim],
        &tally,
        &format!(
            ", restarts 2, refused while down {refused} (503), /ready 503 {not_ready} times, \
             slowest answer {} ms, ready again after {}",
            tally.slowest.as_millis(),
            recoveries.join(", ")
        ),
    )
    .await;
    assert!(
        refused > 0,
        "requests were made while the database was down"
    );
    assert!(
        tally.approved() > 20,
        "payments went through around the restarts"
    );
    switch.stop().await;
    sim.stop().await;
    drop(cluster);
}
