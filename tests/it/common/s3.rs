//! A local S3-compatible server for the tests (moto's server mode, from PyPI), started per
//! test on a free loopback port and stopped when dropped. Found at `QRSWITCH_MOTO_SERVER`
//! or in `target/ci-venv`; without it a test says it skipped (and fails where
//! `QRSWITCH_REQUIRE_S3` is set, as in CI).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct LocalS3 {
    pub endpoint: String,
    child: Child,
}

impl Drop for LocalS3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> Option<PathBuf> {
    let named = std::env::var_os("QRSWITCH_MOTO_SERVER").map(PathBuf::from);
    let venv = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/target/ci-venv/bin/moto_server"
    ));
    named.into_iter().chain([venv]).find(|path| path.is_file())
}

/// A running server with `bucket` made, or `None` (the test skips) when none is installed.
pub async fn start(test: &str, bucket: &str) -> Option<LocalS3> {
    let Some(binary) = binary() else {
        assert!(
            std::env::var_os("QRSWITCH_REQUIRE_S3").is_none(),
            "{test}: no moto_server (pip install 'moto[server]'), and QRSWITCH_REQUIRE_S3 is set"
        );
        eprintln!("{test}: skipped: no S3-compatible server (pip install 'moto[server]')");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(binary)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let s3 = LocalS3 {
        endpoint: format!("http://127.0.0.1:{port}"),
        child,
    };
    let http = reqwest::Client::new();
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        match http.put(format!("{}/{bucket}", s3.endpoint)).send().await {
            Ok(answer) if answer.status().is_success() => return Some(s3),
            _ if Instant::now() < until => tokio::time::sleep(Duration::from_millis(100)).await,
            other => panic!("{test}: the S3 server did not come up: {other:?}"),
        }
    }
}
