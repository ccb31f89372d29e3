//! The `qrswitch` binary as ops run it: serve on the embedded default store with no database
//! server, restart and find the data, the same on PostgreSQL, migrations on demand, and a
//! clear refusal of a bad configuration.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::*;
use projections::payment_status;

/// Time a started process gets to report its address; generous for a cold debug binary.
const STARTUP_LIMIT: Duration = Duration::from_secs(30);

/// A `qrswitch serve` child process, killed if the test panics.
struct ServeProcess {
    child: Child,
    addr: SocketAddr,
    log_lines: mpsc::Receiver<String>,
}

impl ServeProcess {
    fn spawn(cwd: &Path, database_url: Option<&str>, extra_args: &[&str]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_qrswitch"));
        command
            .arg("serve")
            .args(extra_args)
            .current_dir(cwd)
            .env("QRSWITCH_LISTEN", "127.0.0.1:0")
            .env("QRSWITCH_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
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
            if entry["fields"]["message"] == "qrswitch listening" {
                break entry["fields"]["addr"].as_str().unwrap().parse().unwrap();
            }
        };
        Self {
            child,
            addr,
            log_lines,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// SIGTERM, then wait for a clean exit.
    fn terminate(mut self) -> std::process::ExitStatus {
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

    fn drain_logs(&self) -> Vec<String> {
        self.log_lines.try_iter().collect()
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn ready_body(process: &ServeProcess) -> (u16, serde_json::Value) {
    let response = reqwest::get(process.url("/ready")).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn wait_for_applied(process: &ServeProcess, events: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (_, body) = ready_body(process).await;
        if body["projections"]["payment_status"]["events_applied_total"].as_u64() >= Some(events) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "projector never caught up: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Serves, takes data, stops on SIGTERM, starts again and still has the data.
async fn serve_restart_keeps_data(backend: Backend) {
    let db = TestDb::new(backend).await;
    let workdir = db.dir().to_path_buf();
    // No DATABASE_URL for SQLite: the embedded default file in the working directory.
    let database_url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(db.url.as_str()),
    };
    let first = ServeProcess::spawn(&workdir, database_url, &[]);
    let health = reqwest::get(first.url("/health")).await.unwrap();
    assert_eq!(health.status(), 200);
    let (status, body) = ready_body(&first).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["store"]["backend"], backend_name(backend));
    assert_eq!(body["store"]["head_position"], 0);

    // Another writer (this test) appends through the library against the same store.
    let mut config = db.config();
    if backend == Backend::Sqlite {
        config.database.url = format!("sqlite://{}", workdir.join("qrswitch.db").display());
        assert!(
            workdir.join("qrswitch.db").exists(),
            "default store file created"
        );
    }
    let writer = qrswitch::app::App::build(config).await.unwrap();
    let tran_id = issue_and_request(&writer, 4_200).await;
    wait_for_applied(&first, 2).await;
    let logs = first.drain_logs();
    assert!(
        logs.iter().any(|line| line.contains("request_id")),
        "request log lines carry a request id"
    );
    assert!(first.terminate().success(), "clean exit on SIGTERM");

    let second = ServeProcess::spawn(&workdir, database_url, &[]);
    let (status, body) = ready_body(&second).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["store"]["head_position"], 2,
        "events survived the restart"
    );
    let row = payment_status::find(writer.store.views().pool(), tran_id.as_str())
        .await
        .unwrap()
        .expect("view row survived the restart");
    assert_eq!(row.amount_minor, Some(4_200));
    writer.store.close().await;
    assert!(second.terminate().success());
}
on_both_backends!(serve_restart_keeps_data, super::serve_restart_keeps_data);

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// `serve --no-migrate` on an empty store is up but not ready; `qrswitch migrate` fixes it.
async fn not_ready_until_migrated(backend: Backend) {
    let db = TestDb::new(backend).await;
    let process = ServeProcess::spawn(db.dir(), Some(&db.url), &["--no-migrate"]);
    assert_eq!(
        reqwest::get(process.url("/health")).await.unwrap().status(),
        200
    );
    let (status, body) = ready_body(&process).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["store"]["ok"], false);

    let migrate = Command::new(env!("CARGO_BIN_EXE_qrswitch"))
        .arg("migrate")
        .env("DATABASE_URL", &db.url)
        .env_remove("QRSWITCH_CONFIG")
        .output()
        .unwrap();
    assert!(migrate.status.success(), "{migrate:?}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = ready_body(&process).await;
        if status == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never ready: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(process.terminate().success());
}
on_both_backends!(not_ready_until_migrated, super::not_ready_until_migrated);

#[test]
fn unsupported_database_url_is_refused_with_a_clear_message() {
    let output = Command::new(env!("CARGO_BIN_EXE_qrswitch"))
        .arg("serve")
        .env("DATABASE_URL", "mysql://localhost/qrswitch")
        .env("QRSWITCH_LISTEN", "127.0.0.1:0")
        .env_remove("QRSWITCH_CONFIG")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DATABASE_URL must start with"), "{stderr}");
}

#[test]
fn config_file_with_an_unknown_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[server]\nlisen = \"127.0.0.1:1\"\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_qrswitch"))
        .args(["--config", path.to_str().unwrap(), "serve"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("lisen"), "{stderr}");
}
