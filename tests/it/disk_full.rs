//! SQLite on a disk that fills up under load, then gets room again: writes fail with a clean
//! 503 (never a 500, never a hang), nothing is half-written (the database checks clean and
//! the books balance), and service resumes by itself once space returns.
//!
//! The disk is a small tmpfs the test mounts, which takes root; elsewhere the test says it
//! skipped, unless `QRSWITCH_REQUIRE_TMPFS` is set (CI sets it), in which case it fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::books::{check_books, Lanes, Pos};
use crate::common::qr::*;
use crate::common::*;
use qrswitch::partner_sim::Mode;

/// The disk: room for the schema and a few thousand payments' events.
const DISK_SIZE: &str = "24m";
/// How long the disk stays full under load.
const FULL_FOR: Duration = Duration::from_secs(5);
/// Load before the disk fills and after it has room again.
const LOADED: Duration = Duration::from_secs(3);

/// A tmpfs mounted for the test, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(test: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={DISK_SIZE}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .is_ok_and(|o| o.status.success());
        if !mounted {
            let why = "cannot mount a tmpfs here (it takes root)";
            assert!(
                std::env::var_os("QRSWITCH_REQUIRE_TMPFS").is_none(),
                "{test}: {why}"
            );
            crate::figures!("{test}: skipped: {why}");
            return None;
        }
        Some(Self { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills what room is left with one file; returns its path.
    fn fill(&self) -> PathBuf {
        let filler = self.path().join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0_u8; 64 * 1024];
        while file.write_all(&chunk).is_ok() {}
        let _ = file.flush();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_on_a_full_disk_refuses_cleanly_and_recovers_when_space_returns() {
    let _heavy = heavy_slot().await;
    let Some(disk) = SmallDisk::mount("sqlite on a full disk") else {
        return;
    };
    let url = format!("sqlite://{}", disk.path().join("qrswitch.db").display());
    let sim = start_sim(Mode::Approve, PARTNER, None).await;
    let mut config = with_partners(
        test_config(&url),
        vec![partner_config(PARTNER, 27, &sim, Duration::from_secs(2))],
        Duration::from_secs(5),
    );
    config.server.workers = 2;
    config.saf.poll_interval_ms = 100;
    config.saf.backoff_base_ms = 100;
    config.saf.backoff_cap_ms = 1_000;
    let switch = TestServer::start(config).await;
    let pos = Pos::new(&switch.base_url);
    let lanes = Lanes::start(&pos, &[PARTNER], 2, Duration::from_millis(100));
    tokio::time::sleep(LOADED).await;

    let filler = disk.fill();
    let filled = Instant::now();
    let mut refused_while_full = 0;
    while filled.elapsed() < FULL_FOR {
        let answer = pos.post("/qrCodes", &create_qr_request(None)).await;
        assert_ne!(answer.status, 500, "never a 500: {}", answer.body);
        if answer.status == 503 {
            refused_while_full += 1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        refused_while_full > 0,
        "writes refused while the disk is full"
    );
    std::fs::remove_file(filler).unwrap();
    let room = Instant::now();
    loop {
        let answer = pos.post("/qrCodes", &create_qr_request(None)).await;
        if answer.status == 201 {
            break;
        }
        assert!(
            room.elapsed() < Duration::from_secs(20),
            "no recovery: {}",
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovery = room.elapsed();
    tokio::time::sleep(LOADED).await;
    let tally = lanes.stop().await;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(switch.app().store.views().pool())
        .await
        .unwrap();
    assert_eq!(integrity, "ok", "the database file is whole");
    check_books(
        "sqlite on a full disk",
        switch.app(),
        &[&sim],
        &tally,
        &format!(
            ", refused while full {} (503) plus {refused_while_full} probes, 500s {}, \
             integrity {integrity}, writing again {:.1} s after space returned",
            tally.count(503),
            tally.count(500),
            recovery.as_secs_f64()
        ),
    )
    .await;
    assert_eq!(tally.count(500), 0, "never a 500");
    switch.stop().await;
    sim.stop().await;
    drop(disk);
}
