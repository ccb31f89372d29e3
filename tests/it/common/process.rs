//! `qrswitch` run as a child process, as ops and a partner would run it.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Time a started process gets to report its address; generous for a cold debug binary.
const STARTUP_LIMIT: Duration = Duration::from_secs(30);

/// A `qrswitch` child process that logs its listening address, killed if the test panics.
pub struct ServeProcess {
    child: Child,
    pub addr: SocketAddr,
    log_lines: mpsc::Receiver<String>,
}

impl ServeProcess {
    /// `qrswitch serve` in `cwd`, on the given store (none: the embedded default).
    pub fn spawn(cwd: &Path, database_url: Option<&str>, extra_args: &[&str]) -> Self {
        let mut args = vec!["serve"];
        args.extend_from_slice(extra_args);
        Self::spawn_command(cwd, database_url, &args, "qrswitch listening")
    }

    /// Any subcommand; waits for the log line `ready_message` and reads its `addr`.
    pub fn spawn_command(
        cwd: &Path,
        database_url: Option<&str>,
        args: &[&str],
        ready_message: &str,
    ) -> Self {
        Self::spawn_with_log_filter(cwd, database_url, args, ready_message, "info")
    }

    /// As [`ServeProcess::spawn_command`], logging at `log_filter` (`RUST_LOG`).
    pub fn spawn_with_log_filter(
        cwd: &Path,
        database_url: Option<&str>,
        args: &[&str],
        ready_message: &str,
        log_filter: &str,
    ) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_qrswitch"));
        command
            .args(args)
            .current_dir(cwd)
            .env("QRSWITCH_LISTEN", "127.0.0.1:0")
            .env_remove("QRSWITCH_SIM_PASSWORD")
            .env("QRSWITCH_LOG_FORMAT", "json")
            .env("RUST_LOG", log_filter)
            .env_remove("QRSWITCH_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        match database_url {
            Some(url) => command.env("DATABASE_URL", url),
            None => command.env_remove("DATABASE_URL"),
        };
        let mut child = command.spawn().expect("qrswitch starts");
        let stderr = child.stderr.take().unwrap();
        let (sender, log_lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        let addr = loop {
            let line = log_lines
                .recv_timeout(STARTUP_LIMIT)
                .expect("qrswitch reports its address");
            let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if entry["fields"]["message"] == ready_message {
                break entry["fields"]["addr"].as_str().unwrap().parse().unwrap();
            }
        };
        Self {
            child,
            addr,
            log_lines,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn drain_logs(&self) -> Vec<String> {
        self.log_lines.try_iter().collect()
    }
}

/// `qrswitch ARGS` run to its end on the store at `database_url`, without a config file.
pub fn run_qrswitch(database_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_qrswitch"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env_remove("QRSWITCH_CONFIG")
        .env("RUST_LOG", "warn")
        .output()
        .expect("qrswitch runs")
}

/// A process's resident memory now, from `/proc` (0 once it is gone).
pub fn resident_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
