//! Configuration: a TOML file (`--config FILE` or `QRSWITCH_CONFIG`), then the environment
//! (`DATABASE_URL`, `QRSWITCH_LISTEN`), then defaults. Every limit names its unit.

use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;

mod payshap;

pub use payshap::{PayShapConfig, SigningConfig};

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
    pub qr: QrConfig,
    pub payments: PaymentsConfig,
    pub saf: SafConfig,
    pub security: SecurityConfig,
    pub payshap: PayShapConfig,
    pub partners: Vec<PartnerConfig>,
    pub users: Vec<UserConfig>,
    pub backoffice: BackofficeConfig,
}

/// Reconciliation and settlement: the business day, when an advice is overdue, fees.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackofficeConfig {
    /// IANA time zone of the business day, e.g. `Africa/Johannesburg`.
    pub time_zone: String,
    /// Local time (`HH:MM`) at which a business day ends; a payment requested at or after
    /// it belongs to the next day. `00:00` means midnight: days are calendar days.
    pub cutoff: String,
    /// An authorised payment without an advice from the POS for this long is an exception.
    /// A POS normally advises within seconds; an hour allows for a lane that lost power.
    pub advice_due_within_ms: u64,
    /// Largest partner settlement file accepted. 16 MiB holds about 150 000 lines, more
    /// than a partner settles with one retailer in a day.
    pub statement_max_bytes: usize,
    /// Fee terms per partner. A partner without terms is charged nothing.
    pub fees: Vec<FeeConfig>,
}

impl Default for BackofficeConfig {
    fn default() -> Self {
        Self {
            time_zone: "Africa/Johannesburg".to_owned(),
            cutoff: "00:00".to_owned(),
            advice_due_within_ms: 3_600_000,
            statement_max_bytes: 16 * 1024 * 1024,
            fees: Vec::new(),
        }
    }
}

/// One partner's fee terms (see `aggregates::fee_schedule` for how a fee is worked out).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeConfig {
    pub partner_id: String,
    /// Hundredths of a percent of the amount, rounded half up to whole minor units.
    #[serde(default)]
    pub basis_points: u32,
    #[serde(default)]
    pub fixed_minor: i64,
    #[serde(default)]
    pub minimum_minor: i64,
    #[serde(default)]
    pub maximum_minor: Option<i64>,
}

impl FeeConfig {
    pub fn terms(&self) -> aggregates::fee_schedule::FeeTerms {
        aggregates::fee_schedule::FeeTerms {
            basis_points: self.basis_points,
            fixed_minor: self.fixed_minor,
            minimum_minor: self.minimum_minor,
            maximum_minor: self.maximum_minor,
        }
    }
}

/// A user of the switch: HTTP Basic name (the party's id) and role.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub name: String,
    pub role: crate::security::Role,
    /// Argon2 hash, as printed by `qrswitch hash-password`.
    pub password_hash: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// Failed authentications a source address may make per window before it gets 429.
    pub max_failed_auth_per_source: u32,
    pub failed_auth_window_ms: u64,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            max_failed_auth_per_source: 10,
            failed_auth_window_ms: 60_000,
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

/// Store-and-forward delivery of advices to partners.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SafConfig {
    /// Longest the dispatcher sleeps without a wake-up.
    pub poll_interval_ms: u64,
    /// First retry delay; doubles per attempt up to the cap, with jitter.
    pub backoff_base_ms: u64,
    /// Longest delay between attempts: five minutes keeps a recovered partner's backlog
    /// short without hammering one that is down.
    pub backoff_cap_ms: u64,
    /// A delivery unanswered for this long is parked (never dropped) for the back office.
    pub max_age_ms: u64,
    /// Deliveries in flight per partner unless the partner says otherwise: a slow partner
    /// only ever holds its own slots.
    pub max_in_flight_per_partner: usize,
    /// Added to the partner's timeout to form a claim's lease, so a claim never lapses
    /// while its send can still be running.
    pub claim_margin_ms: u64,
}

impl Default for SafConfig {
    fn default() -> Self {
        Self {
            poll_interval_ms: 500,
            backoff_base_ms: 1_000,
            backoff_cap_ms: 300_000,
            max_age_ms: 86_400_000,
            max_in_flight_per_partner: 4,
            claim_margin_ms: 10_000,
        }
    }
}

/// How QR codes are minted.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QrConfig {
    /// GUID of our own merchant account template, which carries the tranId.
    pub guid: String,
    /// Template tag (26–51) of our own template.
    pub template_tag: u8,
    /// Scheme used when the request names none: `EMVCO_MERCHANT`, `PSEUDO_EMVCO_MERCHANT`
    /// or `ELECTRUM_MERCHANT_MINIMAL`.
    pub default_scheme: crate::emv::QrScheme,
    /// Lifetime of a QR when the request gives no expiry. Five minutes covers a queue at
    /// the till; longer invites stale codes being scanned.
    pub expiry_ms: u64,
    /// Longest lifetime a request may ask for: a day. A QR is for one sale.
    pub max_expiry_ms: u64,
    /// Country code (58) when the merchant's own is absent.
    pub country_code: String,
    /// Merchant name (59) and city (60) when the message's are empty (the contract allows
    /// empty ones; EMV does not).
    pub default_merchant_name: String,
    pub default_merchant_city: String,
}

impl Default for QrConfig {
    fn default() -> Self {
        Self {
            guid: "za.co.qrswitch".to_owned(),
            template_tag: 26,
            default_scheme: crate::emv::QrScheme::EmvcoMerchant,
            expiry_ms: 300_000,
            max_expiry_ms: 86_400_000,
            country_code: "ZA".to_owned(),
            default_merchant_name: "Merchant".to_owned(),
            default_merchant_city: "Johannesburg".to_owned(),
        }
    }
}

/// Timing of the payment flow.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentsConfig {
    /// How long `pay` waits for the outcome before answering 504; the contract's 60 s.
    pub pay_timeout_ms: u64,
    /// How long a scan that arrived first waits for its payment request.
    pub scan_hold_ms: u64,
    /// How often the deadline sweeper looks for payments whose waiting instance died.
    pub sweep_interval_ms: u64,
    /// How far past its deadline a payment must be before the sweeper times it out, so the
    /// instance holding the POS connection answers first.
    pub sweep_grace_ms: u64,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        Self {
            pay_timeout_ms: 60_000,
            scan_hold_ms: 60_000,
            sweep_interval_ms: 1_000,
            sweep_grace_ms: 5_000,
        }
    }
}

/// A partner that scans our QR codes and authorises payments.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerConfig {
    /// `partner.id` in its messages (and its user name when it calls us).
    pub id: String,
    /// `partner.name` we put in our messages; at most 40 characters (contract).
    pub name: String,
    /// GUID of its merchant account template, e.g. `za.co.mp`.
    pub qr_guid: String,
    /// Its template tag, 26–51, unique among partners and ours.
    pub template_tag: u8,
    /// Where its QR interface lives, e.g. `https://partner.example/qr/v1`.
    pub base_url: String,
    /// Basic credentials we present when calling it.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// Longest we wait for one answer from it. Its customer may need to consent in the app,
    /// so allow tens of seconds, but stay inside the POS's 60 s.
    #[serde(default = "default_partner_timeout_ms")]
    pub timeout_ms: u64,
    /// Issue QR templates for this partner and accept its scans. Advices still reach a
    /// disabled partner: it may owe or be owed money for earlier payments.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Advices in flight to this partner at once; `[saf] max_in_flight_per_partner` if unset.
    #[serde(default)]
    pub max_in_flight: Option<usize>,
    /// CA that signs the partner's server certificate, if not a public one.
    #[serde(default)]
    pub ca_path: Option<std::path::PathBuf>,
    /// Our client certificate and key for this partner (mTLS).
    #[serde(default)]
    pub client_cert_path: Option<std::path::PathBuf>,
    #[serde(default)]
    pub client_key_path: Option<std::path::PathBuf>,
}

fn default_partner_timeout_ms() -> u64 {
    45_000
}

fn default_true() -> bool {
    true
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
            shutdown_timeout_ms: 65_000,
            tls: None,
            allow_plain_http: false,
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
    /// Aggregates kept in memory per aggregate type (entries), so that a command decides
    /// without reading the store first. A payment with its messages is a few KiB; a payment
    /// is hot for seconds, so 1,024 covers hundreds of payments a second within a few MiB.
    pub aggregate_cache_entries: usize,
    /// Tasks writing appended events (each one statement and one commit at a time). While
    /// one writes, the next gathers what queued up; two keep the disk and the CPU busy.
    pub append_writers: usize,
    /// Most commands written by one statement (group commit). Under load a batch holds what
    /// queued during the write before it; this bounds its size, not its wait (there is none).
    pub append_batch_commands: usize,
}

/// More writers than this only queue for connections and the disk.
const MAX_APPEND_WRITERS: usize = 16;
/// Commands per statement at most: keeps a batch's bound values (seven per event) well under
/// SQLite's limit of 32,766.
const MAX_APPEND_BATCH_COMMANDS: usize = 512;

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: DEFAULT_DATABASE_URL.to_owned(),
            max_connections: 16,
            acquire_timeout_ms: 5_000,
            migrate_on_start: true,
            aggregate_cache_entries: 1_024,
            append_writers: 2,
            append_batch_commands: 64,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProjectionConfig {
    /// Longest a projector sleeps without a wake-up. Bounds the lag if a notification is lost.
    pub poll_interval_ms: u64,
    /// After a wake-up, how long a projector lets further commits gather before its batch.
    /// Under load this turns one transaction per commit into one per interval; views lag by
    /// at most this much (no POS answer is read from a view).
    pub gather_interval_ms: u64,
}

impl Default for ProjectionConfig {
    fn default() -> Self {
        Self {
            poll_interval_ms: 1_000,
            gather_interval_ms: 25,
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

    /// Checks what serde cannot: template tags, lengths the contract caps, timeouts.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |reason: String| Err(ConfigError::Invalid(reason));
        let tags = crate::emv::payload::MERCHANT_ACCOUNT_TAGS;
        let mut used = std::collections::HashSet::from([self.qr.template_tag]);
        if !tags.contains(&self.qr.template_tag) {
            return invalid(format!(
                "qr.template_tag {} is not within 26-51",
                self.qr.template_tag
            ));
        }
        if self.qr.guid.is_empty() || self.qr.guid.len() > crate::emv::payload::GUID_MAX_CHARS {
            return invalid("qr.guid must be 1 to 32 characters".to_owned());
        }
        if self.saf.max_in_flight_per_partner == 0 || self.saf.backoff_base_ms == 0 {
            return invalid(
                "saf.max_in_flight_per_partner and backoff_base_ms must be positive".to_owned(),
            );
        }
        let database = &self.database;
        if !(1..=MAX_APPEND_WRITERS).contains(&database.append_writers)
            || !(1..=MAX_APPEND_BATCH_COMMANDS).contains(&database.append_batch_commands)
        {
            return invalid(format!(
                "database.append_writers must be 1 to {MAX_APPEND_WRITERS} and \
                 database.append_batch_commands 1 to {MAX_APPEND_BATCH_COMMANDS}"
            ));
        }
        if self.payments.pay_timeout_ms == 0 || self.qr.expiry_ms == 0 {
            return invalid("payments.pay_timeout_ms and qr.expiry_ms must be positive".to_owned());
        }
        let mut names = std::collections::HashSet::new();
        for user in &self.users {
            if !names.insert(user.name.as_str()) || user.name.contains(':') || user.name.is_empty()
            {
                return invalid(format!(
                    "user {:?} is empty, repeated or contains ':'",
                    user.name
                ));
            }
        }
        if self.payshap.qr_enabled
            && (!tags.contains(&self.payshap.qr_template_tag)
                || !used.insert(self.payshap.qr_template_tag))
        {
            return invalid("payshap.qr_template_tag must be unique and within 26-51".to_owned());
        }
        self.validate_backoffice()?;
        let mut ids = std::collections::HashSet::new();
        for partner in &self.partners {
            if !ids.insert(partner.id.as_str()) {
                return invalid(format!("partner {} is configured twice", partner.id));
            }
            if aggregates::values::PartyId::parse(&partner.id).is_err() {
                return invalid(format!(
                    "partner id {:?} is not a valid party id",
                    partner.id
                ));
            }
            if partner.name.chars().count() > 40 {
                return invalid(format!("partner {} name is over 40 characters", partner.id));
            }
            if !tags.contains(&partner.template_tag) || !used.insert(partner.template_tag) {
                return invalid(format!(
                    "partner {} template_tag {} must be unique and within 26-51",
                    partner.id, partner.template_tag
                ));
            }
            if partner.qr_guid.is_empty()
                || partner.qr_guid.len() > crate::emv::payload::GUID_MAX_CHARS
            {
                return invalid(format!(
                    "partner {} qr_guid must be 1 to 32 characters",
                    partner.id
                ));
            }
            if !(partner.base_url.starts_with("http://")
                || partner.base_url.starts_with("https://"))
            {
                return invalid(format!(
                    "partner {} base_url must be http(s)://",
                    partner.id
                ));
            }
            if partner.timeout_ms == 0 {
                return invalid(format!(
                    "partner {} timeout_ms must be positive",
                    partner.id
                ));
            }
        }
        Ok(())
    }

    fn validate_backoffice(&self) -> Result<(), ConfigError> {
        let invalid = |reason: String| Err(ConfigError::Invalid(reason));
        let mut partners = std::collections::HashSet::new();
        for fee in &self.backoffice.fees {
            if !partners.insert(fee.partner_id.as_str()) {
                return invalid(format!("fees for {} are configured twice", fee.partner_id));
            }
            if aggregates::values::PartyId::parse(&fee.partner_id).is_err() {
                return invalid(format!("fees: {:?} is not a party id", fee.partner_id));
            }
            if let Err(reason) = fee.terms().check() {
                return invalid(format!("fees for {}: {reason}", fee.partner_id));
            }
        }
        Ok(())
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
