//! Scale-out, shown with the script under `examples/scale-out/`: three instances on one
//! PostgreSQL store behind HAProxy (Debian's package), and the partner simulator.
//!
//! - A `pay` waiting on one instance is answered when the scan lands on another.
//! - POS lanes drive the whole flow through HAProxy while one instance is stopped (SIGTERM)
//!   and started again. Every POS request is answered. No payment is lost: each one is
//!   approved, confirmed and its confirmation delivered. None is doubled: the partner sees
//!   one authorisation and one confirmation per payment.
//!
//! CI installs HAProxy and sets `QRSWITCH_REQUIRE_HAPROXY`; elsewhere the test says it
//! skipped.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::qr::*;
use crate::common::*;

/// POS lanes at once, and how long they drive payments.
const LANES: usize = 6;
const LOAD: Duration = Duration::from_secs(10);
/// When, into the load, the instance is stopped and started again.
const RESTART_AFTER: Duration = Duration::from_secs(3);
/// How long the confirmations may take to reach the partner after the load.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);

fn haproxy_installed() -> bool {
    let found = Path::new("/usr/sbin/haproxy").exists();
    if !found {
        assert!(
            std::env::var_os("QRSWITCH_REQUIRE_HAPROXY").is_none(),
            "QRSWITCH_REQUIRE_HAPROXY is set but haproxy is missing"
        );
        eprintln!("scale_out: skipped (Debian's haproxy is not installed)");
    }
    found
}

/// A port such that it and the next ten are free now.
fn free_base_port() -> u16 {
    for _ in 0..100 {
        let base = 20_000 + (rand_u16() % 30_000);
        let free = (0..=10).all(|n| std::net::TcpListener::bind(("127.0.0.1", base + n)).is_ok());
        if free {
            return base;
        }
    }
    panic!("no free run of ports");
}

fn rand_u16() -> u16 {
    u16::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..2].try_into().unwrap())
}

struct Cluster {
    base: u16,
    dir: tempfile::TempDir,
    database_url: String,
}

impl Cluster {
    fn script(&self, args: &[&str]) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/scale-out/run.sh");
        let output = Command::new("bash")
            .arg(script)
            .args(args)
            .env("QRSWITCH_BIN", env!("CARGO_BIN_EXE_qrswitch"))
            .env("DATABASE_URL", &self.database_url)
            .env("QRSWITCH_SCALEOUT_PORT", self.base.to_string())
            .env("QRSWITCH_SCALEOUT_DIR", self.dir.path())
            .output()
            .expect("the script runs");
        assert!(
            output.status.success(),
            "run.sh {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn url(&self, offset: u16) -> String {
        format!("http://127.0.0.1:{}", self.base + offset)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.script(&["stop"]);
    }
}

/// One POS lane's whole payment through `switch`: QR, scan and pay at once, confirmation.
async fn one_payment(switch: &QrClient, cents: i64) -> String {
    let (status, created) = switch.post("/qrCodes", &create_qr_request(None)).await;
    assert_eq!(status, 201, "{created}");
    let tran_id = created["tranId"].as_str().unwrap().to_owned();
    let pay = payment_request(&tran_id, cents);
    let paid = {
        let (switch, pay) = (switch.clone(), pay.clone());
        tokio::spawn(async move { switch.post("/payments", &pay).await })
    };
    let (status, answer) = switch
        .post_resending("/scans", &scan_notification(&tran_id, PARTNER))
        .await;
    assert_eq!(status, 202, "{answer}");
    let (status, answer) = paid.await.unwrap();
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = switch
        .post_resending("/payments/confirmations", &confirmation_for(&pay))
        .await;
    assert_eq!(status, 202, "{answer}");
    tran_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_behind_haproxy_survive_a_restart() {
    if !haproxy_installed() {
        return;
    }
    let _turn = heavy_slot().await;
    postgres_or_skip!("scale_out::three_instances_behind_haproxy_survive_a_restart");
    let db = TestDb::new(Backend::Postgres).await;
    let cluster = Cluster {
        base: free_base_port(),
        dir: tempfile::tempdir().unwrap(),
        database_url: db.url.clone(),
    };
    cluster.script(&["start"]);

    // A pay waiting on instance 1 is answered by the scan instance 3 takes.
    let one = QrClient::new(&cluster.url(1));
    let three = QrClient::new(&cluster.url(3));
    let created = one.post("/qrCodes", &create_qr_request(None)).await.1;
    let tran_id = created["tranId"].as_str().unwrap().to_owned();
    let pay = payment_request(&tran_id, 1_500);
    let waiting = {
        let (one, pay) = (one.clone(), pay.clone());
        tokio::spawn(async move { one.post("/payments", &pay).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        three
            .post("/scans", &scan_notification(&tran_id, PARTNER))
            .await
            .0,
        202
    );
    let (status, answer) = waiting.await.unwrap();
    assert_eq!(status, 201, "answered across instances: {answer}");
    let advice = confirmation_for(&pay);
    assert_eq!(three.post("/payments/confirmations", &advice).await.0, 202);

    // POS lanes through HAProxy while instance 2 is stopped and started again.
    let switch = Arc::new(QrClient::new(&cluster.url(0)));
    let stop = Arc::new(AtomicBool::new(false));
    let lanes: Vec<_> = (0..LANES)
        .map(|lane| {
            let (switch, stop) = (Arc::clone(&switch), Arc::clone(&stop));
            tokio::spawn(async move {
                let mut done = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    done.push(one_payment(&switch, 100 + lane as i64).await);
                }
                done
            })
        })
        .collect();
    tokio::time::sleep(RESTART_AFTER).await;
    let restarted = Instant::now();
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.script(&["restart", "2"]);
        cluster
    })
    .await
    .unwrap();
    let restart_took = restarted.elapsed();
    tokio::time::sleep(LOAD.saturating_sub(RESTART_AFTER + restart_took)).await;
    stop.store(true, Ordering::Relaxed);
    let mut paid = vec![tran_id];
    for lane in lanes {
        paid.extend(
            lane.await
                .expect("every POS request was answered as the flow expects"),
        );
    }

    // Then every payment reaches the partner exactly once, and its confirmation too.
    let sim = cluster.url(10);
    let started = Instant::now();
    let received = loop {
        let received = received_by(&sim).await;
        let confirmed = count(&received, "confirmation");
        if paid.iter().all(|t| confirmed.get(t) == Some(&1)) || started.elapsed() > DRAIN_LIMIT {
            break received;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let authorised = count(&received, "payment");
    let confirmed = count(&received, "confirmation");
    let lost = paid.iter().filter(|t| !confirmed.contains_key(*t)).count();
    let doubled = paid
        .iter()
        .filter(|t| authorised.get(*t) != Some(&1) || confirmed.get(*t).is_some_and(|n| *n > 1))
        .count();
    figures!(
        "scale-out behind HAProxy: payments {}, restarts 1 (instance 2 back in {} ms), lost {lost}, doubled {doubled}",
        paid.len(),
        restart_took.as_millis()
    );
    assert_eq!((lost, doubled), (0, 0));
    assert!(
        paid.len() > LANES * 5,
        "the lanes kept paying: {}",
        paid.len()
    );
}

/// What the partner simulator received, 2xx answers only.
async fn received_by(sim: &str) -> Vec<serde_json::Value> {
    let all: Vec<serde_json::Value> = reqwest::get(format!("{sim}/sim/received"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    all.into_iter()
        .filter(|r| {
            r["status"]
                .as_u64()
                .is_some_and(|s| (200..300).contains(&s))
        })
        .collect()
}

/// Messages of `operation` per tranId.
fn count(received: &[serde_json::Value], operation: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in received.iter().filter(|r| r["operation"] == operation) {
        if let Some(tran) = r["tran_id"].as_str().or(r["tranId"].as_str()) {
            *counts.entry(tran.to_owned()).or_default() += 1;
        }
    }
    counts
}
