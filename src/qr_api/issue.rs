//! Issuing a QR code: its amount and expiry from the request, the short code a customer can
//! key in (claimed so that no two live payments share one), and the payload itself.

use aggregates::short_code::{ShortCode, ShortCodeCommand, ShortCodeError};
use aggregates::values::{Amount, TranId};
use chrono::{DateTime, Utc};
use cqrs_es::AggregateError;
use rand::Rng;

use super::error::QrApiError;
use super::parse;
use crate::commands::{CommandBus, CommandMetadata};
use crate::config::{data_objects, Config, QrReference};
use crate::emv::{MerchantAccount, PayloadSpec, QrScheme};
use crate::qr_wire::CreateQrCodeRequest;

/// Draws before giving up on a free short code: with 10^10 codes and a few thousand live,
/// a second draw is already rare.
const SHORT_CODE_DRAWS: usize = 8;

/// What issuing one QR code needs.
pub(super) struct Issuing<'a> {
    pub config: &'a Config,
    pub short_codes: &'a CommandBus<ShortCode>,
    pub metadata: CommandMetadata,
}

impl Issuing<'_> {
    /// A short code claimed for `tran_id` until the QR expires, when any partner's template
    /// carries one; `None` otherwise (no work on the common path).
    async fn short_code(
        &self,
        tran_id: &TranId,
        expires_at: DateTime<Utc>,
    ) -> Result<Option<String>, QrApiError> {
        let wanted = self
            .config
            .partners
            .iter()
            .any(|p| p.enabled && p.qr_reference == QrReference::ShortCode);
        if !wanted {
            return Ok(None);
        }
        let digits = usize::from(self.config.qr.short_code_digits);
        for _ in 0..SHORT_CODE_DRAWS {
            let code: String = (0..digits)
                .map(|_| char::from(b'0' + rand::rng().random_range(0..10u8)))
                .collect();
            let claim = ShortCodeCommand::Claim {
                tran_id: tran_id.clone(),
                expires_at,
                at: Utc::now(),
            };
            match self.short_codes.execute(&code, claim, &self.metadata).await {
                Ok(_) => return Ok(Some(code)),
                Err(AggregateError::UserError(ShortCodeError::Taken)) => continue,
                Err(error) => return Err(QrApiError::unavailable("claiming a short code", &error)),
            }
        }
        Err(QrApiError::unavailable(
            "claiming a short code",
            &"every code drawn was taken",
        ))
    }

    /// The payload of the QR code, with a short code claimed where a partner wants one.
    pub async fn code(
        &self,
        request: &CreateQrCodeRequest,
        tran_id: &TranId,
        expires_at: DateTime<Utc>,
        how: (QrScheme, Option<Amount>),
    ) -> Result<String, QrApiError> {
        let short_code = self.short_code(tran_id, expires_at).await?;
        payload_for(self.config, request, (tran_id, short_code.as_deref()), how)
    }
}

/// The payment `reference` names when it is a short code (all digits, as many as
/// configured): its live holder, or a refusal if none holds it; `None` when it is not one.
pub(super) async fn short_code_holder(
    config: &Config,
    short_codes: &CommandBus<ShortCode>,
    reference: &str,
) -> Result<Option<TranId>, QrApiError> {
    let digits = usize::from(config.qr.short_code_digits);
    if reference.len() != digits || !reference.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let code = short_codes
        .load(reference)
        .await
        .map_err(|e| QrApiError::unavailable("reading a short code", &e))?;
    match code.live_tran_id(Utc::now()) {
        Some(tran_id) => Ok(Some(tran_id.clone())),
        None => Err(QrApiError::new(
            actix_web::http::StatusCode::NOT_FOUND,
            crate::qr_wire::ErrorType::UnableToLocateRecord,
            "no live payment has this short code",
        )),
    }
}

/// The merchant's card network accounts (02–25) and unreserved templates (80–99), where the
/// configuration names the retailer; the minimal scheme holds neither.
fn with_merchant_accounts(config: &Config, client_id: &str, mut spec: PayloadSpec) -> PayloadSpec {
    let Some(merchant) = config
        .qr
        .merchants
        .iter()
        .find(|m| m.client_id == client_id)
    else {
        return spec;
    };
    if spec.scheme == QrScheme::ElectrumMerchantMinimal {
        return spec;
    }
    // Both were checked when the configuration was loaded.
    spec.network_accounts = merchant.network_objects().unwrap_or_default();
    spec.unreserved_templates = merchant.unreserved().unwrap_or_default();
    spec
}

/// The amount the code carries: the QR's own value, else the request's amount, if any.
pub(super) fn qr_amount(request: &CreateQrCodeRequest) -> Result<Option<Amount>, QrApiError> {
    request
        .qr_properties
        .value
        .as_ref()
        .or(request
            .amounts
            .as_ref()
            .and_then(|a| a.request_amount.as_ref()))
        .map(parse::amount)
        .transpose()?
        .map(|amount| {
            // EMV forbids a zero amount (54); a code without one asks the customer instead.
            if amount.minor_units() > 0 {
                Ok(amount)
            } else {
                Err(QrApiError::new(
                    actix_web::http::StatusCode::BAD_REQUEST,
                    crate::qr_wire::ErrorType::InvalidAmount,
                    "a QR's amount must be more than zero",
                ))
            }
        })
        .transpose()
}

/// When the code expires: as asked, but never later than `max_expiry_ms` from now; else
/// the configured `expiry_ms` from now.
pub(super) fn qr_expiry(
    config: &Config,
    request: &CreateQrCodeRequest,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, QrApiError> {
    Ok(
        match parse::expiry(request.qr_properties.expiry_date.as_ref())? {
            Some(at) => {
                at.min(now + chrono::Duration::milliseconds(config.qr.max_expiry_ms as i64))
            }
            None => now + chrono::Duration::milliseconds(config.qr.expiry_ms as i64),
        },
    )
}

/// One template per enabled partner plus ours, each carrying the tranId or the short code
/// as the partner asks, the merchant's details from the originator, and (full schemes) the
/// merchant's card network accounts and unreserved templates from the configuration.
fn payload_for(
    config: &Config,
    request: &CreateQrCodeRequest,
    (tran_id, short_code): (&TranId, Option<&str>),
    (scheme, amount): (QrScheme, Option<Amount>),
) -> Result<String, QrApiError> {
    let qr = &config.qr;
    let accounts = templates(config, tran_id, short_code);
    let merchant = &request.originator.merchant;
    let name = &merchant.merchant_name;
    let country = Some(name.country.as_str())
        .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
        .unwrap_or(&qr.country_code);
    let mcc = Some(merchant.merchant_type.as_str())
        .filter(|m| m.len() == 4 && m.bytes().all(|b| b.is_ascii_digit()));
    let spec = PayloadSpec {
        scheme,
        accounts,
        merchant_category_code: mcc.map(str::to_owned),
        amount,
        currency: amount.map_or_else(|| "710".to_owned(), |a| a.currency().to_string()),
        country: Some(country.to_owned()),
        merchant_name: Some(first_printable(
            &[&name.name, &request.client.name],
            &qr.default_merchant_name,
        )),
        merchant_city: Some(first_printable(&[&name.city], &qr.default_merchant_city)),
        reference_label: request
            .rrn
            .clone()
            .or_else(|| Some(tran_id.as_str().chars().take(25).collect())),
        terminal_label: Some(request.originator.terminal_id.clone()),
        network_accounts: Vec::new(),
        unreserved_templates: Vec::new(),
    };
    let spec = with_merchant_accounts(config, &request.client.id, spec);
    spec.encode().map_err(|error| {
        QrApiError::format("QR data cannot be built from this message")
            .with_detail(serde_json::json!({ "reason": error.to_string() }))
    })
}

/// One template per enabled partner plus ours (and PayShap's where QR payments by PayShap
/// are on), in tag order, each carrying the tranId or the short code as its owner asks.
fn templates(config: &Config, tran_id: &TranId, short_code: Option<&str>) -> Vec<MerchantAccount> {
    let qr = &config.qr;
    let mut accounts = vec![MerchantAccount {
        tag: qr.template_tag,
        guid: qr.guid.clone(),
        reference: tran_id.to_string(),
        extra: Vec::new(),
    }];
    accounts.extend(
        config
            .partners
            .iter()
            .filter(|p| p.enabled)
            .map(|p| MerchantAccount {
                tag: p.template_tag,
                guid: p.qr_guid.clone(),
                reference: match (p.qr_reference, short_code) {
                    (QrReference::ShortCode, Some(code)) => code.to_owned(),
                    _ => tran_id.to_string(),
                },
                // Checked when the configuration was loaded.
                extra: data_objects(&p.qr_fields, 2..=99).unwrap_or_default(),
            }),
    );
    if config.payshap.qr_enabled {
        // The payer's bank resolves this CUSTOM proxy (namespace `qr_namespace`) to the payment.
        accounts.push(MerchantAccount {
            tag: config.payshap.qr_template_tag,
            guid: config.payshap.qr_guid.clone(),
            reference: tran_id.to_string(),
            extra: Vec::new(),
        });
    }
    accounts.sort_by_key(|a| a.tag);
    accounts
}

/// The first candidate with printable characters, else `fallback`.
fn first_printable(candidates: &[&str], fallback: &str) -> String {
    candidates
        .iter()
        .find(|c| c.chars().any(|ch| ch.is_ascii_graphic()))
        .map_or_else(|| fallback.to_owned(), |c| (*c).to_owned())
}
