//! PostgreSQL clusters made by the tests themselves with the installed server binaries
//! (`initdb`, `pg_ctl`), so that `cargo test --workspace` needs no server set up beforehand.
//!
//! As root, a cluster is made and run as the `postgres` user (PostgreSQL refuses to run as
//! root). The binaries are found where Debian lays them out (`/usr/lib/postgresql/VERSION/bin`,
//! off the `PATH`), then through `pg_config --bindir`, then on the `PATH`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Longest `pg_ctl` waits for a start or a stop, in seconds.
const PG_CTL_WAIT_S: &str = "60";

/// What to install where no server binaries are found.
pub const INSTALL_HINT: &str =
    "no PostgreSQL server binaries (initdb, pg_ctl) found: install Debian's `postgresql` package \
     (or your system's PostgreSQL server package), or set QRSWITCH_TEST_POSTGRES_URL";

/// Says, past the output capture, that `test` skipped for want of a server, and why; or
/// fails it where `QRSWITCH_REQUIRE_INITDB` is set (CI sets it).
pub fn skip(test: &str, why: &str) {
    assert!(
        std::env::var_os("QRSWITCH_REQUIRE_INITDB").is_none(),
        "{test}: {why}"
    );
    crate::figures!("{test}: skipped: {why}");
}

/// The server binaries' folder, or why there is none usable.
pub fn server_binaries() -> Result<PathBuf, String> {
    let bin = debian_bin_dir()
        .or_else(pg_config_bin_dir)
        .or_else(path_bin_dir)
        .ok_or_else(|| INSTALL_HINT.to_owned())?;
    if is_root() && !user_exists("postgres") {
        return Err(format!(
            "running as root, and PostgreSQL refuses to; no `postgres` user to run {} as",
            bin.display()
        ));
    }
    Ok(bin)
}

/// One cluster in a folder of its own, listening on a loopback port only.
pub struct Cluster {
    pub root: PathBuf,
    pub bin: PathBuf,
    pub port: u16,
    /// Extra `-c name=value` settings for the server.
    pub settings: Vec<String>,
}

impl Cluster {
    /// Makes (`initdb`) a cluster under `root`, owned by whoever will run it, on a free port.
    pub fn create(root: &Path, bin: PathBuf, settings: Vec<String>) -> Self {
        let port = free_port();
        let cluster = Self {
            root: root.to_owned(),
            bin,
            port,
            settings,
        };
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(root)
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
        cluster
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server (again), waiting until it accepts connections.
    pub fn start(&self) {
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            path_text(&self.root)
        );
        for setting in &self.settings {
            options.push_str(" -c ");
            options.push_str(setting);
        }
        let log = self.log_file();
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

    /// The `pg_ctl stop` command line of a cluster under `root`, for a caller that runs it
    /// later on its own (before the cluster even exists).
    pub fn stop_command(bin: &Path, root: &Path) -> Vec<String> {
        let mut words = as_server_user();
        words.extend([
            bin.join("pg_ctl").display().to_string(),
            "-D".to_owned(),
            root.join("data").display().to_string(),
            "-m".to_owned(),
            "immediate".to_owned(),
            "stop".to_owned(),
        ]);
        words
    }

    /// The server's version line (`postgres (PostgreSQL) 15.14`).
    pub fn version(&self) -> String {
        Command::new(self.bin.join("postgres"))
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_else(|_| "PostgreSQL".to_owned())
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    pub fn log_file(&self) -> PathBuf {
        self.root.join("server.log")
    }

    /// Runs one of the server's tools as the user that owns the cluster; fails the test
    /// with the tool's output if it fails.
    fn run(&self, program: &str, args: &[&str]) {
        let output = self.output(program, args);
        assert!(
            output.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Runs one of the server's tools as the user that owns the cluster.
    pub fn output(&self, program: &str, args: &[&str]) -> Output {
        let words = as_server_user();
        let program = self.bin.join(program);
        let mut command = match words.split_first() {
            Some((first, rest)) => {
                let mut command = Command::new(first);
                command.args(rest).arg(&program);
                command
            }
            None => Command::new(&program),
        };
        command
            .args(args)
            .current_dir(&self.root)
            .output()
            .expect("PostgreSQL tool runs")
    }
}

/// The words that run a program as the cluster's owner: nothing, or `runuser` as root.
fn as_server_user() -> Vec<String> {
    if is_root() {
        ["runuser", "-u", "postgres", "--"]
            .map(str::to_owned)
            .to_vec()
    } else {
        Vec::new()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The newest installed server's binaries in Debian's layout.
fn debian_bin_dir() -> Option<PathBuf> {
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

fn pg_config_bin_dir() -> Option<PathBuf> {
    let output = Command::new("pg_config").arg("--bindir").output().ok()?;
    let bin = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    (output.status.success() && bin.join("initdb").exists()).then_some(bin)
}

/// `initdb` on the `PATH`, followed through links to the folder that also holds `postgres`.
fn path_bin_dir() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("initdb"))
        .filter(|initdb| initdb.exists())
        .find_map(|initdb| {
            let real = std::fs::canonicalize(initdb).ok()?;
            let dir = real.parent()?.to_owned();
            dir.join("pg_ctl").exists().then_some(dir)
        })
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn user_exists(name: &str) -> bool {
    Command::new("id")
        .arg("-u")
        .arg(name)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn path_text(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}
