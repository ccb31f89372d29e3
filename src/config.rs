//! Configuration: a TOML file (`--config FILE` or `QRSWITCH_CONFIG`), then the environment
//! (`DATABASE_URL`, `QRSWITCH_LISTEN`), then defaults. Every limit names its unit.

use std::path::Path;

use serde::Deserialize;

mod backoffice;
mod database;
mod electrum;
mod payments;
mod payshap;
mod qr;
mod service;
mod traces;
mod validate;

pub use backoffice::{BackofficeConfig, FeeConfig};
pub use database::{DatabaseConfig, ProjectionConfig, DEFAULT_DATABASE_URL};
pub use electrum::{ElectrumConfig, ElectrumReconConfig, OAuthConfig, PartnerAuthConfig};
pub use payments::{PartnerConfig, PaymentsConfig, QrConfig, SafConfig};
pub use payshap::{PayShapConfig, SigningConfig};
pub use qr::{data_objects, QrMerchantConfig, QrReference, QrTemplateConfig};
pub use service::{
    LogFormat, LoggingConfig, SecurityConfig, ServerConfig, TlsConfig, UserConfig, DEFAULT_LISTEN,
};
pub use traces::{OtlpProtocol, TracingConfig};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub projections: ProjectionConfig,
    pub logging: LoggingConfig,
    pub tracing: TracingConfig,
    pub qr: QrConfig,
    pub payments: PaymentsConfig,
    pub saf: SafConfig,
    pub security: SecurityConfig,
    pub payshap: PayShapConfig,
    pub partners: Vec<PartnerConfig>,
    pub users: Vec<UserConfig>,
    pub backoffice: BackofficeConfig,
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
    #[error("configuration is not valid: {0}")]
    Invalid(String),
}

impl Config {
    /// Reads `path` if given, then applies the environment on top.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match path {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        config.validate()?;
        Ok(config)
    }

    pub fn partner(&self, id: &str) -> Option<&PartnerConfig> {
        self.partners.iter().find(|p| p.id == id && p.enabled)
    }

    /// A configured partner whether enabled or not (for deliveries it is still owed).
    pub fn any_partner(&self, id: &str) -> Option<&PartnerConfig> {
        self.partners.iter().find(|p| p.id == id)
    }

    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: display.clone(),
            source,
        })?;
        let mut config: Self = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: display,
            source: Box::new(source),
        })?;
        if let (Some(signing), Some(folder)) = (config.payshap.signing.as_mut(), path.parent()) {
            signing.scheme_public_key = folder.join(&signing.scheme_public_key);
            signing.private_key = folder.join(&signing.private_key);
            signing.scheme_public_keys_dir = signing
                .scheme_public_keys_dir
                .as_ref()
                .map(|d| folder.join(d));
        }
        let oauth = config
            .payshap
            .electrum
            .as_mut()
            .and_then(|e| e.oauth.as_mut());
        if let (Some(oauth), Some(folder)) = (oauth, path.parent()) {
            oauth.client_secret_file = folder.join(&oauth.client_secret_file);
        }
        if let (Some(recon), Some(folder)) = (config.payshap.recon.as_mut(), path.parent()) {
            recon.secret_access_key_file = folder.join(&recon.secret_access_key_file);
        }
        Ok(config)
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
    fn the_demo_configuration_is_valid() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo.toml"));
        let config = Config::from_file(path).unwrap();
        config.validate().unwrap();
        assert_eq!(config.backoffice.fees.len(), 2);
        // Its signing keys are found beside it, wherever the process runs from.
        let signing = config.payshap.signing.as_ref().unwrap();
        crate::payshap::keys::SchemeKeys::load(signing).unwrap();
        // The demo auditor logs in with the password its comment gives.
        let users = crate::security::credentials::Credentials::new(&config.users).unwrap();
        assert!(matches!(
            users.verify("demo-auditor", "demo-auditor-pw"),
            crate::security::credentials::Verdict::Valid(aggregates::role::Role::Auditor)
        ));
    }

    #[test]
    fn bad_back_office_settings_are_refused() {
        let refused = |toml_text: &str| {
            let config: Config = toml::from_str(toml_text).unwrap();
            config.validate().unwrap_err().to_string()
        };
        let twice =
            "[[backoffice.fees]]\npartner_id = \"p\"\n[[backoffice.fees]]\npartner_id = \"p\"\n";
        assert!(refused(twice).contains("configured twice"));
        let inverted =
            "[[backoffice.fees]]\npartner_id = \"p\"\nminimum_minor = 5\nmaximum_minor = 1\n";
        assert!(refused(inverted).contains("maximum_minor"));
    }

    #[test]
    fn append_writers_and_batch_size_must_be_in_range() {
        for (writers, batch) in [(0, 64), (17, 64), (2, 0), (2, 513)] {
            let mut config = Config::default();
            config.database.append_writers = writers;
            config.database.append_batch_commands = batch;
            assert!(
                config.validate().is_err(),
                "{writers} writers, {batch} per batch"
            );
        }
        let mut config = Config::default();
        config.database.append_writers = 1;
        config.database.append_batch_commands = 1;
        assert!(config.validate().is_ok(), "one writer, no grouping");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        assert!(toml::from_str::<Config>("[server]\nlisen = \"x\"\n").is_err());
        let mut config = Config::default();
        let bad = config.apply_env(|name| (name == "QRSWITCH_LISTEN").then(|| "nope".into()));
        assert!(bad.is_err());
    }
}
