//! A PostgreSQL cluster of the test's own, made with `initdb` in a temporary directory and
//! listening on a free loopback port, so a test may stop, kill and restart it without
//! touching the server every other test uses.
//!
//! Where no server binaries are installed the test says it skipped, unless
//! `QRSWITCH_REQUIRE_INITDB` is set (CI sets it), in which case it fails.

use super::postgres_server::{server_binaries, skip, Cluster};

pub struct PrivatePostgres {
    // Declared before the folder it lives in, so it is stopped before that is removed.
    cluster: Cluster,
    _dir: tempfile::TempDir,
    pub port: u16,
}

impl PrivatePostgres {
    /// A new cluster, started; `None` (with the reason printed) where it cannot be had.
    pub fn start(test: &str) -> Option<Self> {
        let bin = match server_binaries() {
            Ok(bin) => bin,
            Err(why) => {
                skip(test, &why);
                return None;
            }
        };
        let dir = tempfile::tempdir().expect("temporary directory");
        let settings = ["fsync=off", "max_connections=50"].map(str::to_owned);
        let cluster = Cluster::create(dir.path(), bin, settings.to_vec());
        cluster.start();
        Some(Self {
            port: cluster.port,
            cluster,
            _dir: dir,
        })
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        self.cluster.url()
    }

    /// Starts the server again after `stop`.
    pub fn start_again(&self) {
        self.cluster.start();
    }

    /// Stops the server: `immediate` is a crash, `fast` a clean stop.
    pub fn stop(&self, mode: &str) {
        self.cluster.stop(mode);
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.cluster.output(
            "pg_ctl",
            &[
                "-D",
                &self.cluster.data_dir().display().to_string(),
                "-m",
                "immediate",
                "stop",
            ],
        );
    }
}
