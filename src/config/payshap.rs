//! `[payshap]`: PayShap inbound, the QR's PayShap template, and message signing.

use serde::Deserialize;

/// PayShap inbound, and PayShap through the interoperable QR.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PayShapConfig {
    /// Put a PayShap template (a CUSTOM proxy naming the payment) into every QR.
    pub qr_enabled: bool,
    /// The party a QR payment paid by PayShap is attributed to (the POS sees it as `partner`).
    pub partner_id: String,
    pub partner_name: String,
    /// GUID and tag of the PayShap merchant account template in our QR codes.
    pub qr_guid: String,
    pub qr_template_tag: u8,
    /// Namespace of the CUSTOM proxies that name QR payments (the value is the tranId).
    pub qr_namespace: String,
    /// `accountOwner.legalName` for QR payments: the corporate client's registered name.
    pub legal_name: String,
    /// The corporate client's account at the sponsor bank that every proxy credits: the
    /// `traditionalIdentifier` of a positive proxy resolution.
    pub collection_account: String,
    /// Message signing (`x-jwt-signature`, ES256) of the inbound PayShap endpoints; without
    /// it they take HTTP Basic as every other surface.
    pub signing: Option<SigningConfig>,
    /// Credits we authorise ourselves during clearing (partner-auth); none by default.
    pub partner_auth: super::electrum::PartnerAuthConfig,
    /// Our client of Electrum's API; required by partner-auth (decisions are sent with it).
    pub electrum: Option<super::electrum::ElectrumConfig>,
    /// Reconciliation with Electrum's files; none by default.
    pub recon: Option<super::electrum::ElectrumReconConfig>,
    /// The scheme's own listener: Electrum's calls on a port, an HTTP worker and database
    /// connections of their own, so that a payer's proxy resolution does not queue behind
    /// QR traffic (Electrum allows 1 s end to end). The same routes stay on `server.listen`.
    pub listen: Option<std::net::SocketAddr>,
    /// Database connections that resolutions use on their own (their registry read and
    /// their record), apart from the pool every other request shares. PostgreSQL only.
    pub resolution_connections: u32,
}

/// Keys and tolerances for PayShap message signing. Relative key paths are taken from the
/// configuration file's folder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningConfig {
    /// The scheme side's P-256 public key (PEM), exchanged at onboarding.
    pub scheme_public_key: std::path::PathBuf,
    /// Further scheme public keys accepted beside `scheme_public_key`, one `KID.pub.pem`
    /// each in this folder (a rotation's new or old key); a token's `kid` picks one.
    #[serde(default)]
    pub scheme_public_keys_dir: Option<std::path::PathBuf>,
    /// Our PKCS#8 P-256 private key (PEM): every answer is signed with it.
    pub private_key: std::path::PathBuf,
    /// The `kid` our tokens name our key by, so the scheme picks the right one of ours.
    #[serde(default)]
    pub key_id: Option<String>,
    /// `iss` of our tokens.
    #[serde(default = "SigningConfig::default_issuer")]
    pub issuer: String,
    /// Recorded as the party of a signed message that came without HTTP Basic.
    #[serde(default = "SigningConfig::default_scheme_party")]
    pub scheme_party: String,
    /// How far apart our clock and the sender's may be.
    #[serde(default = "SigningConfig::default_clock_skew_ms")]
    pub clock_skew_ms: u64,
    /// Tokens issued longer ago than this are refused even before they expire: it bounds
    /// how long a captured message can be replayed.
    #[serde(default = "SigningConfig::default_max_token_age_ms")]
    pub max_token_age_ms: u64,
    /// Also demand HTTP Basic credentials of the scheme role on the signed endpoints.
    #[serde(default)]
    pub require_basic: bool,
}

impl SigningConfig {
    fn default_issuer() -> String {
        "qrswitch".to_owned()
    }
    fn default_scheme_party() -> String {
        "scheme".to_owned()
    }
    fn default_clock_skew_ms() -> u64 {
        60_000
    }
    fn default_max_token_age_ms() -> u64 {
        300_000
    }
}

impl Default for PayShapConfig {
    fn default() -> Self {
        Self {
            qr_enabled: false,
            partner_id: "payshap".to_owned(),
            partner_name: "PayShap".to_owned(),
            qr_guid: "za.co.payshap".to_owned(),
            qr_template_tag: 51,
            qr_namespace: "qrswitch".to_owned(),
            legal_name: "qrswitch merchant services".to_owned(),
            collection_account: String::new(),
            signing: None,
            partner_auth: super::electrum::PartnerAuthConfig::default(),
            electrum: None,
            recon: None,
            listen: None,
            resolution_connections: 2,
        }
    }
}
