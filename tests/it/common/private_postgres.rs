//! A PostgreSQL cluster of the test's own, made with `initdb` in a temporary directory and
//! listening on a free loopback port, so a test may stop, kill and restart it without
//! touching the server every other test uses.
//!
//! As root, the cluster is made and run as the `postgres` user (PostgreSQL refuses to run
//! as root). Where no `initdb` is installed the test says it skipped, unless
//! `QRSWITCH_REQUIRE_INITDB` is set (CI sets it), in which case it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Longest `pg_ctl` waits for a start or a stop, in seconds.
const PG_CTL_WAIT_S: &str = "60";

pub struct PrivatePostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
}

impl PrivatePostgres {
    /// A new cluster, started; `None` (with the reason printed) where it cannot be had.
    pub fn start(test: &str) -> Option<Self> {
        let Some(bin) = bin_dir() else {
            let why = "no initdb (PostgreSQL server binaries) on this machine";
            assert!(
                std::env::var_os("QRSWITCH_REQUIRE_INITDB").is_none(),
                "{test}: {why}"
            );
            crate::figures!("{test}: skipped: {why}");
            return None;
        };
        let dir = tempfile::tempdir().expect("temporary directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = Self { dir, bin, port };
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(cluster.dir.path())
                .status()
                .expect("chown runs");
            assert!(status.success(), "the cluster directory given to postgres");
        }
        let data = cluster.data_dir();
        cluster.run(
            "initdb",
            &[
                "-D",
                path_text(&data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        cluster.start_again();
        Some(cluster)
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server (again), waiting until it accepts connections.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50",
            self.port,
            path_text(self.dir.path())
        );
        let log = self.dir.path().join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                path_text(&self.data_dir()),
                "-l",
                path_text(&log),
                "-w",
                "-t",
                PG_CTL_WAIT_S,
                "-o",
                &options,
                "start",
            ],
        );
    }

    /// Stops the server: `immediate` is a crash (no checkpoint, recovery at the next
    /// start), `fast` a clean stop that ends every session.
    pub fn stop(&self, mode: &str) {
        self.run(
            "pg_ctl",
            &[
                "-D",
                path_text(&self.data_dir()),
                "-w",
                "-t",
                PG_CTL_WAIT_S,
                "-m",
                mode,
                "stop",
            ],
        );
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program);
        let mut command = if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        let output = command
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("PostgreSQL tool runs");
        assert!(
            output.status.success(),
            "{} {args:?}: {}{}",
            program.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data_dir();
        let program = self.bin.join("pg_ctl");
        let args = ["-D", path_text(&data), "-m", "immediate", "stop"];
        let _ = if is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&program)
                .args(args)
                .output()
        } else {
            Command::new(&program).args(args).output()
        };
    }
}

/// The newest installed server's binaries: Debian keeps them under
/// `/usr/lib/postgresql/VERSION/bin`, off the `PATH`.
fn bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn path_text(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}
