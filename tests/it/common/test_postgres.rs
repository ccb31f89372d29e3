//! The PostgreSQL server the tests make their databases on, found or started once per run:
//!
//! 1. the one `QRSWITCH_TEST_POSTGRES_URL` names, if set;
//! 2. else one at 127.0.0.1:5432 that lets `postgres` in without a password;
//! 3. else a throwaway server of the run's own, made with the installed server binaries on
//!    a free port in a temporary folder, and removed when the run ends, however it ends.
//!
//! Where none of these can be had, each PostgreSQL test says it skipped and which package
//! gives the server (or fails, where `QRSWITCH_REQUIRE_INITDB` is set, as CI sets it).

use std::io::Write as _;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use sqlx::Connection;

use super::postgres_server::{server_binaries, Cluster};

/// The conventional local server, tried before starting one.
const LOCAL_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// How long the local server may take to answer before it counts as absent.
const LOCAL_CONNECT_LIMIT: Duration = Duration::from_secs(3);
/// Settings of the throwaway server: its data is thrown away, so no fsync; room for the
/// pools of several switches (8 connections each) under the suite's parallel tests.
const THROWAWAY_SETTINGS: [&str; 3] = ["fsync=off", "max_connections=300", "shared_buffers=128MB"];

static ADMIN: OnceLock<Result<String, String>> = OnceLock::new();

/// The admin URL tests create their databases from, or why there is no server.
pub fn admin_url() -> Result<&'static str, &'static str> {
    ADMIN
        .get_or_init(|| {
            std::panic::catch_unwind(find_or_start).unwrap_or_else(|_| {
                Err("starting a PostgreSQL server for the tests failed (see above)".to_owned())
            })
        })
        .as_deref()
        .map_err(String::as_str)
}

/// Whether a PostgreSQL test can run; where not, prints one line saying `test` skipped and
/// why (or fails, where CI requires the server).
pub fn available(test: &str) -> bool {
    match admin_url() {
        Ok(_) => true,
        Err(why) => {
            super::postgres_server::skip(test, why);
            false
        }
    }
}

fn find_or_start() -> Result<String, String> {
    if let Ok(url) = std::env::var("QRSWITCH_TEST_POSTGRES_URL") {
        announce("test PostgreSQL: the server QRSWITCH_TEST_POSTGRES_URL names");
        return Ok(url);
    }
    let local: SocketAddr = ([127, 0, 0, 1], 5432).into();
    if TcpStream::connect_timeout(&local, LOCAL_CONNECT_LIMIT).is_ok() {
        match lets_in(LOCAL_URL) {
            Ok(()) => {
                announce("test PostgreSQL: the server at 127.0.0.1:5432");
                return Ok(LOCAL_URL.to_owned());
            }
            Err(why) => announce(&format!(
                "test PostgreSQL: 127.0.0.1:5432 answers but does not let `postgres` in \
                 without a password ({why}); starting a server of this run's own"
            )),
        }
    }
    start_throwaway()
}

/// Starts a server that lives as long as this test process: a watcher process holds the
/// other end of a pipe from us and, when the pipe closes (the process has ended, however),
/// stops the server and removes its folder.
fn start_throwaway() -> Result<String, String> {
    let bin = server_binaries()?;
    let root = tempfile::Builder::new()
        .prefix("qrswitch-test-postgres-")
        .tempdir()
        .map_err(|e| format!("a temporary folder for PostgreSQL: {e}"))?
        .keep();
    // The watcher first, so that even a failed initdb leaves nothing behind.
    let watcher = Command::new("sh")
        .arg("-c")
        .arg(r#"cat >/dev/null; "$@" >/dev/null 2>&1; rm -rf -- "$0""#)
        .arg(&root)
        .args(Cluster::stop_command(&bin, &root))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: a Ctrl-C at the terminal must not end it before it cleans up.
        .process_group(0)
        .spawn()
        .map_err(|e| format!("the PostgreSQL watcher (sh) did not start: {e}"))?;
    // Never dropped: the pipe closes only when this process ends.
    Box::leak(Box::new(watcher));
    let settings = THROWAWAY_SETTINGS.map(str::to_owned).to_vec();
    let cluster = Cluster::create(&root, bin, settings);
    cluster.start();
    announce(&format!(
        "test PostgreSQL: started {} at 127.0.0.1:{} in {} for this run (removed when it ends)",
        cluster.version(),
        cluster.port,
        root.display()
    ));
    Ok(cluster.url())
}

/// Connects once as the URL says, on a runtime of its own (callers may be inside another).
fn lets_in(url: &str) -> Result<(), String> {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let connect = sqlx::PgConnection::connect(&url);
            match tokio::time::timeout(LOCAL_CONNECT_LIMIT, connect).await {
                Ok(Ok(conn)) => {
                    let _ = conn.close().await;
                    Ok(())
                }
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("no answer in time".to_owned()),
            }
        })
    })
    .join()
    .unwrap_or_else(|_| Err("the connection attempt panicked".to_owned()))
}

/// Says, past the harness's output capture, which server this run uses.
fn announce(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Returns from the calling test, saying it skipped, where no PostgreSQL can be had.
#[macro_export]
macro_rules! postgres_or_skip {
    ($test:expr) => {
        if !$crate::common::test_postgres::available($test) {
            return;
        }
    };
}
