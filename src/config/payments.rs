//! The payment flow: `[qr]`, `[payments]`, `[saf]` and the `[[partners]]`.

use serde::Deserialize;

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
    /// Digits of the short code a customer can key in instead of scanning. Ten digits
    /// leave 10^10 codes for the few thousand payments live at once.
    pub short_code_digits: u8,
    /// Merchants' card network accounts and unreserved templates.
    pub merchants: Vec<super::qr::QrMerchantConfig>,
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
            short_code_digits: 10,
            merchants: Vec::new(),
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
    /// What its template's sub-field 01 carries: `tran_id` (default) or `short_code`.
    #[serde(default)]
    pub qr_reference: super::qr::QrReference,
    /// Further sub-fields of its template by ID (`"02"`–`"99"`), as it asks for them.
    #[serde(default)]
    pub qr_fields: std::collections::BTreeMap<String, String>,
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
