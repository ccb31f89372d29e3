//! How the service runs: `[server]`, its TLS, `[security]`, `[[users]]` and `[logging]`.

use std::net::SocketAddr;

use serde::Deserialize;

/// Where the service listens when neither the file nor `QRSWITCH_LISTEN` says.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// A user of the switch: HTTP Basic name (the party's id) and role.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub name: String,
    pub role: aggregates::role::Role,
    /// Argon2 hash, as printed by `qrswitch hash-password`.
    pub password_hash: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// Failed authentications a source address may make per window before it gets 429.
    pub max_failed_auth_per_source: u32,
    pub failed_auth_window_ms: u64,
    /// How long a console login lasts. A working day: finance and ops sign in once a shift.
    pub console_session_ms: u64,
    /// A file of at least 64 random bytes that keys the console's session cookies. Every
    /// instance behind one balancer must read the same file; without it each instance draws
    /// its own key at start, and a login lasts until that instance restarts.
    pub console_session_key_path: Option<std::path::PathBuf>,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            max_failed_auth_per_source: 10,
            failed_auth_window_ms: 60_000,
            console_session_ms: 8 * 3_600_000,
            console_session_key_path: None,
        }
    }
}

/// TLS for our listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert_path: std::path::PathBuf,
    pub key_path: std::path::PathBuf,
    /// CA whose client certificates we accept (mTLS).
    #[serde(default)]
    pub client_ca_path: Option<std::path::PathBuf>,
    /// With a client CA: refuse connections without a client certificate.
    #[serde(default = "default_true")]
    pub require_client_cert: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// HTTP worker threads. Two matches the smallest machine we run on.
    pub workers: usize,
    /// Largest request body accepted. Contract messages are a few KiB; 64 KiB leaves room for
    /// slip data and still stops a client from making us buffer megabytes.
    pub body_limit_bytes: usize,
    /// Concurrent connections per worker; past it new connections wait in the backlog.
    pub max_connections_per_worker: usize,
    /// Time a client gets to send its request head before the connection is dropped.
    pub client_request_timeout_ms: u64,
    /// Time a client gets, from the start of its request, to send the whole body. Contract
    /// messages are a few KiB; even a statement file arrives in well under this on any
    /// line a retailer or partner would use. Past it: 408 and the connection closed.
    pub body_read_timeout_ms: u64,
    /// Requests handled at once (a `pay` waiting on a partner counts). Past it a request
    /// is refused at once with 503 and `Retry-After`, so accepted ones keep their latency.
    pub max_in_flight_requests: usize,
    /// Time in-flight requests get to finish after SIGTERM/SIGINT. Above the 60 s a `pay`
    /// may wait for a partner, so a deploy does not cut off a payment.
    pub shutdown_timeout_ms: u64,
    /// TLS; without it the switch speaks plain HTTP, which it only does on a loopback
    /// address unless `allow_plain_http` says otherwise (e.g. behind a TLS-terminating proxy).
    pub tls: Option<TlsConfig>,
    pub allow_plain_http: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080))),
            workers: 2,
            body_limit_bytes: 64 * 1024,
            max_connections_per_worker: 2_048,
            client_request_timeout_ms: 5_000,
            body_read_timeout_ms: 10_000,
            max_in_flight_requests: 4_096,
            shutdown_timeout_ms: 65_000,
            tls: None,
            allow_plain_http: false,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoggingConfig {
    pub format: LogFormat,
    /// Used when `RUST_LOG` is unset.
    pub filter: String,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            filter: "info".to_owned(),
        }
    }
}

fn default_true() -> bool {
    true
}
