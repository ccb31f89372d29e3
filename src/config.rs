//! Configuration: a TOML file (`--config FILE` or `QRSWITCH_CONFIG`), then the environment
//! (`DATABASE_URL`, `QRSWITCH_LISTEN`), then defaults. Every limit names its unit.

use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;

/// Where the embedded store lives when `DATABASE_URL` is unset: a file beside the process.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://qrswitch.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub projections: ProjectionConfig,
    pub logging: LoggingConfig,
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
    /// Time in-flight requests get to finish after SIGTERM/SIGINT. Above the 60 s a `pay`
    /// may wait for a partner, so a deploy does not cut off a payment.
    pub shutdown_timeout_ms: u64,
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
            shutdown_timeout_ms: 65_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `postgres://…` or `sqlite://…`. `DATABASE_URL` wins over this.
    pub url: String,
    /// Connections per pool. PostgreSQL's default limit is 100 and several instances share it.
    pub max_connections: u32,
    /// How long a request may wait for a free connection before it fails with 503.
    pub acquire_timeout_ms: u64,
    /// Apply pending migrations when `serve` starts.
    pub migrate_on_start: bool,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: DEFAULT_DATABASE_URL.to_owned(),
            max_connections: 16,
            acquire_timeout_ms: 5_000,
            migrate_on_start: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProjectionConfig {
    /// Longest a projector sleeps without a wake-up. Bounds the lag if a notification is lost.
    pub poll_interval_ms: u64,
}

impl Default for ProjectionConfig {
    fn default() -> Self {
        Self {
            poll_interval_ms: 1_000,
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

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {source}")]
    Parse {
        path: String,
        source: Box<toml::de::Error>,
    },
    #[error("{name} is not valid: {reason}")]
    Env { name: &'static str, reason: String },
}

impl Config {
    /// Reads `path` if given, then applies the environment on top.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match path {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: display.clone(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: display,
            source: Box::new(source),
        })
    }

    /// Applies `DATABASE_URL`, `QRSWITCH_LISTEN` and `QRSWITCH_LOG_FORMAT`, read through
    /// `lookup` so tests need not touch the process environment.
    pub fn apply_env(
        &mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        if let Some(url) = lookup("DATABASE_URL").filter(|url| !url.trim().is_empty()) {
            self.database.url = url;
        }
        if let Some(listen) = lookup("QRSWITCH_LISTEN").filter(|l| !l.trim().is_empty()) {
            self.server.listen = listen.trim().parse().map_err(|_| ConfigError::Env {
                name: "QRSWITCH_LISTEN",
                reason: format!("{listen:?} is not an address such as 127.0.0.1:8080"),
            })?;
        }
        if let Some(format) = lookup("QRSWITCH_LOG_FORMAT") {
            self.logging.format = match format.trim() {
                "json" => LogFormat::Json,
                "text" | "" => LogFormat::Text,
                other => {
                    return Err(ConfigError::Env {
                        name: "QRSWITCH_LOG_FORMAT",
                        reason: format!("{other:?} is neither text nor json"),
                    })
                }
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_file_values() {
        let mut config: Config = toml::from_str(
            "[server]\nlisten = \"127.0.0.1:9000\"\n[database]\nurl = \"sqlite://a.db\"\n",
        )
        .unwrap();
        config
            .apply_env(|name| match name {
                "DATABASE_URL" => Some("postgres://localhost/x".into()),
                "QRSWITCH_LISTEN" => Some("127.0.0.1:0".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(config.database.url, "postgres://localhost/x");
        assert_eq!(config.server.listen.port(), 0);
    }

    #[test]
    fn unset_database_url_means_embedded_sqlite() {
        let mut config = Config::default();
        config.apply_env(|_| None).unwrap();
        assert!(config.database.url.starts_with("sqlite://"));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        assert!(toml::from_str::<Config>("[server]\nlisen = \"x\"\n").is_err());
        let mut config = Config::default();
        let bad = config.apply_env(|name| (name == "QRSWITCH_LISTEN").then(|| "nope".into()));
        assert!(bad.is_err());
    }
}
