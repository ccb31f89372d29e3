//! The switch under test: a child process of the bench (so its peak memory and CPU are its
//! own) on the bench's store, users and keys, killed when dropped.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;

use super::parties::BenchKeys;
use crate::partner_sim::SimRunning;

/// Longest the switch child gets to report its address.
const STARTUP_LIMIT: Duration = Duration::from_secs(60);

/// The switch under test, killed when dropped.
pub(super) struct Switch {
    pub child: Child,
    pub addr: SocketAddr,
    /// The scheme's own listener (`[payshap] listen`), where resolutions go.
    pub scheme_addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Switch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Switch {
    pub fn start(
        database_url: &str,
        sim: &SimRunning,
        keys: &BenchKeys,
        users: &str,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let config = dir.path().join("bench.toml");
        std::fs::write(
            &config,
            format!(
                "[database]\nurl = \"{database_url}\"\nmax_connections = 40\n\n\
                 [payments]\npay_timeout_ms = 30000\n\n\
                 [saf]\nbackoff_base_ms = 100\n\
                 max_in_flight_per_partner = 32\n\n\
                 [payshap]\nqr_enabled = false\ncollection_account = \"62000000001\"\n\
                 listen = \"127.0.0.1:0\"\n\n\
                 [payshap.signing]\nscheme_public_key = \"{}\"\nprivate_key = \"{}\"\n\n\
                 [[partners]]\nid = \"bench-partner\"\nname = \"Bench Partner\"\n\
                 qr_guid = \"za.co.bench\"\ntemplate_tag = 27\nbase_url = \"{}/qr/v1\"\n\
                 timeout_ms = 10000\n\n{users}",
                keys.scheme_public.display(),
                keys.switch_private.display(),
                sim.base_url()
            ),
        )?;
        let mut child = Command::new(std::env::current_exe()?)
            .args(["--config", config.to_str().unwrap_or_default(), "serve"])
            .env("QRSWITCH_LISTEN", "127.0.0.1:0")
            .env("QRSWITCH_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn,qrswitch::server=info")
            .env_remove("DATABASE_URL")
            .env_remove("QRSWITCH_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting the switch")?;
        let stderr = child.stderr.take().context("switch stderr")?;
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || report_addresses(stderr, sender));
        let address = |what| {
            receiver
                .recv_timeout(STARTUP_LIMIT)
                .with_context(|| format!("the switch did not report its {what} address"))
        };
        let (scheme_addr, addr) = (address("scheme")?.parse()?, address("main")?.parse()?);
        Ok(Self {
            child,
            addr,
            scheme_addr,
            _dir: dir,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Peak resident memory of the switch process, in MiB.
    pub fn peak_memory_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }
}

/// Sends the scheme listener's address, then the main one's, as the switch reports them (in
/// that order); every other line of the switch's log stays visible.
fn report_addresses(stderr: std::process::ChildStderr, sender: std::sync::mpsc::Sender<String>) {
    const REPORTS: [&str; 2] = ["PayShap scheme listener", "qrswitch listening"];
    let mut reported = 0;
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        if let Some(report) = REPORTS.get(reported) {
            if let Ok(entry) = serde_json::from_str::<Value>(&line) {
                if entry["fields"]["message"] == *report {
                    let addr = entry["fields"]["addr"].as_str().unwrap_or_default();
                    let _ = sender.send(addr.to_owned());
                    reported += 1;
                    continue;
                }
            }
        }
        eprintln!("switch: {line}");
    }
}
