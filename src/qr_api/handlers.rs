//! Thin handlers: parse the message, run the command with its metadata, map the result.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use aggregates::values::{Amount, TranId};
use aggregates::{Payment, PaymentCommand};
use chrono::{DateTime, Utc};
use serde_json::Value;
use tracing_actix_web::RequestId;

use super::error::QrApiError;
use super::image;
use super::parse::{self, message, metadata};
use crate::commands::CommandBus;
use crate::config::Config;
use crate::emv::{MerchantAccount, PayloadSpec, QrScheme};
use crate::qr_wire::{CreateQrCodeRequest, CreateQrCodeResponse, ErrorType, ScanNotification};
use crate::routing::Router;
use crate::security::{mask, Party, Role};
use crate::telemetry::context::CallerTrace;

pub async fn create_qr_code(
    config: web::Data<Config>,
    payments: web::Data<CommandBus<Payment>>,
    party: Party,
    request_id: RequestId,
    trace: CallerTrace,
    body: web::Json<Value>,
) -> Result<HttpResponse, QrApiError> {
    party.require(&[Role::Retailer])?;
    let request: CreateQrCodeRequest = message(&body)?;
    party.require_as(Role::Retailer, &request.client.id)?;
    let about = |e: QrApiError| e.about(Some(&request.id), None);
    parse::envelope(&request.id, &request.time).map_err(about)?;
    let client_id = parse::party(&request.client.id, "client").map_err(about)?;
    let amount = qr_amount(&request).map_err(about)?;
    let now = Utc::now();
    let expires_at = qr_expiry(&config, &request, now).map_err(about)?;
    let tran_id = parse::tran_id_for(&client_id, &request.id);
    if let Some(msisdn) = request.customer.as_ref().and_then(|c| c["msisdn"].as_str()) {
        tracing::debug!(%tran_id, customer = %mask::msisdn(msisdn), "QR requested for a customer");
    }
    let scheme_name = request
        .qr_properties
        .scheme
        .unwrap_or(config.qr.default_scheme);
    let payload = payload_for(&config, &request, &tran_id, scheme_name, amount).map_err(about)?;

    let command = PaymentCommand::IssueQr {
        message_id: request.id.clone(),
        tran_id: tran_id.clone(),
        client_id,
        terminal_id: request.originator.terminal_id.clone(),
        amount,
        scheme: scheme_name.as_str().to_owned(),
        payload: payload.clone(),
        merchant_name: crate::emv::validate::validate(&payload, QrScheme::PseudoEmvcoMerchant)
            .ok()
            .and_then(|p| p.value(59).map(str::to_owned))
            .or_else(|| Some(request.originator.merchant.merchant_name.name.clone())),
        issued_at: now,
        expires_at,
    };
    crate::telemetry::record_tran_id(tran_id.as_str());
    // The tranId was minted just now: nothing to read first.
    payments
        .execute_new(
            tran_id.as_str(),
            command,
            &metadata(&request.client.id, &request_id, &request.id, &trace),
        )
        .await
        .map_err(|e| QrApiError::from(e).about(Some(&request.id), Some(tran_id.as_str())))?;

    let mut echo = request;
    echo.qr_properties.scheme = Some(scheme_name);
    Ok(HttpResponse::Created().json(CreateQrCodeResponse {
        request: echo,
        tran_id: tran_id.to_string(),
        qr_code: payload,
    }))
}

/// The amount the code carries: the QR's own value, else the request's amount, if any.
fn qr_amount(request: &CreateQrCodeRequest) -> Result<Option<Amount>, QrApiError> {
    request
        .qr_properties
        .value
        .as_ref()
        .or(request
            .amounts
            .as_ref()
            .and_then(|a| a.request_amount.as_ref()))
        .map(parse::amount)
        .transpose()
}

/// When the code expires: as asked, but never later than `max_expiry_ms` from now; else
/// the configured `expiry_ms` from now.
fn qr_expiry(
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

/// One template per enabled partner plus ours, all carrying the tranId, and the merchant's
/// details from the originator.
fn payload_for(
    config: &Config,
    request: &CreateQrCodeRequest,
    tran_id: &TranId,
    scheme: QrScheme,
    amount: Option<aggregates::values::Amount>,
) -> Result<String, QrApiError> {
    let qr = &config.qr;
    let mut accounts = vec![MerchantAccount {
        tag: qr.template_tag,
        guid: qr.guid.clone(),
        reference: tran_id.to_string(),
    }];
    accounts.extend(
        config
            .partners
            .iter()
            .filter(|p| p.enabled)
            .map(|p| MerchantAccount {
                tag: p.template_tag,
                guid: p.qr_guid.clone(),
                reference: tran_id.to_string(),
            }),
    );
    if config.payshap.qr_enabled {
        // The payer's bank resolves this CUSTOM proxy (namespace `qr_namespace`) to the payment.
        accounts.push(MerchantAccount {
            tag: config.payshap.qr_template_tag,
            guid: config.payshap.qr_guid.clone(),
            reference: tran_id.to_string(),
        });
    }
    accounts.sort_by_key(|a| a.tag);
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
    };
    spec.encode().map_err(|error| {
        QrApiError::format("QR data cannot be built from this message")
            .with_detail(serde_json::json!({ "reason": error.to_string() }))
    })
}

/// The first candidate with printable characters, else `fallback`.
fn first_printable(candidates: &[&str], fallback: &str) -> String {
    candidates
        .iter()
        .find(|c| c.chars().any(|ch| ch.is_ascii_graphic()))
        .map_or_else(|| fallback.to_owned(), |c| (*c).to_owned())
}

pub async fn qr_png(
    payments: web::Data<CommandBus<Payment>>,
    party: Party,
    path: web::Path<String>,
) -> Result<HttpResponse, QrApiError> {
    let payload = issued_payload(&payments, &party, &path).await?;
    let png = image::png(&payload).map_err(|e| QrApiError::unavailable("rendering PNG", &e))?;
    Ok(HttpResponse::Ok().content_type("image/png").body(png))
}

pub async fn qr_svg(
    payments: web::Data<CommandBus<Payment>>,
    party: Party,
    path: web::Path<String>,
) -> Result<HttpResponse, QrApiError> {
    let payload = issued_payload(&payments, &party, &path).await?;
    let svg = image::svg(&payload).map_err(|e| QrApiError::unavailable("rendering SVG", &e))?;
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(svg))
}

/// The QR payload of a payment the caller may see: another retailer's looks unknown.
async fn issued_payload(
    payments: &CommandBus<Payment>,
    party: &Party,
    raw_tran_id: &str,
) -> Result<String, QrApiError> {
    party.require(&[Role::Retailer])?;
    let tran_id = parse::tran_id(raw_tran_id)?;
    let payment = payments.load(tran_id.as_str()).await?;
    let visible = match party.user() {
        Some(user) => {
            aggregates::values::PartyId::parse(user).is_ok_and(|me| payment.belongs_to(&me))
        }
        None => true,
    };
    payment
        .qr()
        .filter(|_| visible)
        .map(|qr| qr.payload.clone())
        .ok_or_else(|| {
            QrApiError::new(
                StatusCode::NOT_FOUND,
                ErrorType::UnableToLocateRecord,
                "unknown tranId",
            )
            .about(None, Some(tran_id.as_str()))
        })
}

pub async fn notify_scan(
    config: web::Data<Config>,
    payments: web::Data<CommandBus<Payment>>,
    router: web::Data<Router>,
    party: Party,
    request_id: RequestId,
    trace: CallerTrace,
    body: web::Json<Value>,
) -> Result<HttpResponse, QrApiError> {
    party.require(&[Role::Partner])?;
    let scan: ScanNotification = message(&body)?;
    party.require_as(Role::Partner, &scan.partner.id)?;
    let about = |e: QrApiError| e.about(Some(&scan.id), Some(&scan.tran_id));
    parse::envelope(&scan.id, &scan.time).map_err(about)?;
    let partner_id = parse::party(&scan.partner.id, "partner").map_err(about)?;
    if config.partner(partner_id.as_str()).is_none() {
        return Err(about(QrApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorType::PartnerUnknown,
            "partner is not known to this switch",
        )));
    }
    let tran_id = parse::tran_id(&scan.tran_id).map_err(about)?;
    crate::telemetry::record_tran_id(tran_id.as_str());
    tracing::debug!(
        %tran_id,
        partner = %scan.partner.id,
        token = %scan.partner_payment_token.as_deref().map(mask::token).unwrap_or_default(),
        "scan received"
    );
    let now = Utc::now();
    let command = PaymentCommand::ReceiveScan {
        message_id: scan.id.clone(),
        partner_id,
        partner_payment_token: scan.partner_payment_token.clone(),
        received_at: now,
        hold_until: now + chrono::Duration::milliseconds(config.payments.scan_hold_ms as i64),
    };
    let payment = payments
        .execute(
            tran_id.as_str(),
            command,
            &metadata(&scan.partner.id, &request_id, &scan.id, &trace),
        )
        .await
        .map_err(|e| about(e.into()))?;
    // The partner gets its 202 now; the authorisation (which may wait for the customer's
    // consent) goes out in the background.
    router.spawn(tran_id.as_str(), &payment);
    Ok(HttpResponse::Accepted().finish())
}
