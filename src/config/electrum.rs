//! `[payshap.partner_auth]`: the credits we authorise ourselves during clearing, and
//! `[payshap.electrum]`: how we reach Electrum's API (partner-auth decisions; refunds).

use serde::Deserialize;

/// Partner-auth: Electrum asks us before it lets a credit to one of these proxies clear.
/// Chosen per proxy namespace (`MOBILE`/`CUSTOM` namespace; a QR's namespace for every QR)
/// or per merchant (a QR payment's `client.id`); every other credit stays auto-auth.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PartnerAuthConfig {
    pub namespaces: Vec<String>,
    pub merchants: Vec<String>,
    /// Our own ceiling on one credit, in cents (the scheme's limit is Electrum's); above
    /// it we refuse with AG03.
    pub max_amount_cents: Option<i64>,
}

impl PartnerAuthConfig {
    pub fn is_enabled(&self) -> bool {
        !self.namespaces.is_empty() || !self.merchants.is_empty()
    }

    /// Whether a credit to `namespace` (for a QR payment of `merchant`) is ours to authorise.
    pub fn covers(&self, namespace: Option<&str>, merchant: Option<&str>) -> bool {
        namespace.is_some_and(|n| self.namespaces.iter().any(|c| c == n))
            || merchant.is_some_and(|m| self.merchants.iter().any(|c| c == m))
    }
}

/// Our client of Electrum's API: every request signed with our PayShap key and every
/// answer checked with the scheme's keys ([payshap.signing] is required), an OIDC bearer
/// token where the sponsor bank requires one, retried until acknowledged.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectrumConfig {
    /// e.g. `https://electrum.example/path/payments/api/v1`; paths are appended.
    pub base_url: String,
    /// Longest wait for one answer.
    #[serde(default = "ElectrumConfig::default_timeout_ms")]
    pub timeout_ms: u64,
    /// First pause between tries; doubled each time up to `max_backoff_ms`.
    #[serde(default = "ElectrumConfig::default_first_backoff_ms")]
    pub first_backoff_ms: u64,
    #[serde(default = "ElectrumConfig::default_max_backoff_ms")]
    pub max_backoff_ms: u64,
    /// A decision not acknowledged this long after Electrum's request is given up: the
    /// scheme allows 10 s end to end, after which Electrum declines the credit itself.
    #[serde(default = "ElectrumConfig::default_decision_deadline_ms")]
    pub decision_deadline_ms: u64,
    /// Tries at sending one refund before it is parked for ops.
    #[serde(default = "ElectrumConfig::default_refund_max_attempts")]
    pub refund_max_attempts: u32,
    pub oauth: Option<OAuthConfig>,
}

impl ElectrumConfig {
    fn default_timeout_ms() -> u64 {
        2_000
    }
    fn default_first_backoff_ms() -> u64 {
        100
    }
    fn default_max_backoff_ms() -> u64 {
        1_000
    }
    fn default_decision_deadline_ms() -> u64 {
        9_000
    }
    fn default_refund_max_attempts() -> u32 {
        8
    }
}

/// OIDC client credentials at the sponsor bank's authorisation server: the token is cached
/// and renewed at half its lifetime, as Electrum's security page asks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthConfig {
    pub token_url: String,
    pub client_id: String,
    /// A file holding the client secret (kept out of the configuration file).
    pub client_secret_file: std::path::PathBuf,
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// `[payshap.recon]`: reconciliation with Electrum's files over the agreed S3 bucket.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectrumReconConfig {
    /// An S3-compatible endpoint (path-style requests); AWS's own when absent.
    pub endpoint: Option<String>,
    #[serde(default = "ElectrumReconConfig::default_region")]
    pub region: String,
    pub bucket: String,
    pub access_key_id: String,
    /// A file holding the secret access key (kept out of the configuration file).
    pub secret_access_key_file: std::path::PathBuf,
    /// `[CLIENT]`: our folder in the bucket, agreed at onboarding.
    pub client_folder: String,
    /// `[ENTITY]`: the fixed value Electrum gives us for file names.
    pub entity: String,
    /// `[REPORT NAME]` of our mark-off files; Electrum's extracts carry another.
    #[serde(default = "ElectrumReconConfig::default_report_name")]
    pub report_name: String,
    /// Local time (`HH:MM`, the back office's time zone) at which `serve` reconciles the
    /// day before; `off`: only by hand.
    #[serde(default = "ElectrumReconConfig::default_run_at")]
    pub run_at: String,
}

impl ElectrumReconConfig {
    fn default_region() -> String {
        "af-south-1".to_owned()
    }
    fn default_report_name() -> String {
        "MARKOFF".to_owned()
    }
    fn default_run_at() -> String {
        "03:00".to_owned()
    }

    /// When `serve` runs recon each day: `Ok(None)` when it is `off`.
    pub fn daily_at(&self) -> Result<Option<chrono::NaiveTime>, String> {
        match self.run_at.as_str() {
            "off" => Ok(None),
            text => chrono::NaiveTime::parse_from_str(text, "%H:%M")
                .map(Some)
                .map_err(|_| format!("payshap.recon.run_at must be HH:MM or off, not {text:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn problems(toml_text: &str) -> Vec<String> {
        toml::from_str::<Config>(toml_text).unwrap().problems()
    }

    #[test]
    fn partner_auth_needs_the_electrum_client_signing_and_a_collection_account() {
        let found = problems("[payshap.partner_auth]\nnamespaces = [\"acme\"]\n");
        assert!(
            found.iter().any(|p| p.contains("needs [payshap.electrum]")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|p| p.contains("collection_account")),
            "{found:?}"
        );
        let found = problems(
            "[payshap.partner_auth]\nnamespaces = [\"acme\"]\nmax_amount_cents = 0\n\
             [payshap.electrum]\nbase_url = \"ftp://x\"\ntimeout_ms = 0\n",
        );
        for expected in ["needs [payshap.signing]", "http(s)://", "must be positive"] {
            assert!(
                found.iter().any(|p| p.contains(expected)),
                "{expected}: {found:?}"
            );
        }
    }

    #[test]
    fn recon_runs_daily_at_a_local_time_or_only_by_hand() {
        let recon = |run_at: &str| {
            format!(
                "[payshap.recon]\nbucket = \"b\"\naccess_key_id = \"k\"\n\
                 secret_access_key_file = \"s\"\nclient_folder = \"C\"\nentity = \"E\"\n\
                 run_at = \"{run_at}\"\n"
            )
        };
        assert!(problems(&recon("03:00")).is_empty());
        assert!(problems(&recon("off")).is_empty());
        let found = problems(&recon("3am"));
        assert!(
            found.iter().any(|p| p.contains("HH:MM or off")),
            "{found:?}"
        );
    }

    #[test]
    fn a_merchant_or_namespace_chooses_partner_auth() {
        let config: Config = toml::from_str(
            "[payshap.partner_auth]\nnamespaces = [\"acme\"]\nmerchants = [\"M1\"]\n",
        )
        .unwrap();
        let auth = &config.payshap.partner_auth;
        assert!(auth.covers(Some("acme"), None));
        assert!(auth.covers(Some("qrswitch"), Some("M1")));
        assert!(!auth.covers(Some("other"), Some("M2")));
        assert!(
            !Config::default().payshap.partner_auth.is_enabled(),
            "auto-auth by default"
        );
    }
}
