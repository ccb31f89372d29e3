//! Thin handlers: parse the message, run the command with its metadata, map the result.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use aggregates::short_code::ShortCode;
use aggregates::{Payment, PaymentCommand};
use chrono::Utc;
use serde_json::Value;
use tracing_actix_web::RequestId;

use super::error::QrApiError;
use super::parse::{self, message, metadata};
use super::{image, issue};
use crate::commands::CommandBus;
use crate::config::Config;
use crate::qr_wire::{CreateQrCodeRequest, CreateQrCodeResponse, ErrorType, ScanNotification};
use crate::routing::Router;
use crate::security::{mask, Party, Role};
use crate::telemetry::context::CallerTrace;

pub async fn create_qr_code(
    config: web::Data<Config>,
    payments: web::Data<CommandBus<Payment>>,
    short_codes: web::Data<CommandBus<ShortCode>>,
    party: Party,
    (request_id, trace): (RequestId, CallerTrace),
    body: web::Json<Value>,
) -> Result<HttpResponse, QrApiError> {
    party.require(&[Role::Retailer])?;
    let request: CreateQrCodeRequest = message(&body)?;
    party.require_as(Role::Retailer, &request.client.id)?;
    let about = |e: QrApiError| e.about(Some(&request.id), None);
    parse::envelope(&request.id, &request.time).map_err(about)?;
    let client_id = parse::party(&request.client.id, "client").map_err(about)?;
    let amount = issue::qr_amount(&request).map_err(about)?;
    let now = Utc::now();
    let expires_at = issue::qr_expiry(&config, &request, now).map_err(about)?;
    let tran_id = parse::tran_id_for(&client_id, &request.id);
    if let Some(msisdn) = request.customer.as_ref().and_then(|c| c["msisdn"].as_str()) {
        tracing::debug!(%tran_id, customer = %mask::msisdn(msisdn), "QR requested for a customer");
    }
    let scheme_name = request.qr_properties.scheme;
    let scheme_name = scheme_name.unwrap_or(config.qr.default_scheme);
    let issuing = issue::Issuing {
        config: &config,
        short_codes: &short_codes,
        metadata: metadata(&request.client.id, &request_id, &request.id, &trace),
    };
    let payload = issuing
        .code(&request, &tran_id, expires_at, (scheme_name, amount))
        .await
        .map_err(about)?;
    let command = PaymentCommand::IssueQr {
        message_id: request.id.clone(),
        tran_id: tran_id.clone(),
        client_id,
        terminal_id: request.originator.terminal_id.clone(),
        amount,
        scheme: scheme_name.as_str().to_owned(),
        payload: payload.clone(),
        // The payload was validated as it was built: its 59 is read back plainly.
        merchant_name: crate::emv::tlv::decode(&payload)
            .ok()
            .and_then(|objects| objects.into_iter().find(|o| o.id == 59))
            .map(|o| o.value)
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
    short_codes: web::Data<CommandBus<ShortCode>>,
    router: web::Data<Router>,
    party: Party,
    (request_id, trace): (RequestId, CallerTrace),
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
    // A partner whose customer keyed in the short code names it in place of the tranId.
    let tran_id = match issue::short_code_holder(&config, &short_codes, &scan.tran_id)
        .await
        .map_err(about)?
    {
        Some(tran_id) => tran_id,
        None => parse::tran_id(&scan.tran_id).map_err(about)?,
    };
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
