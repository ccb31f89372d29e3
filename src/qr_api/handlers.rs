//! Thin handlers: parse the message, run the command with its metadata, map the result.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use aggregates::values::TranId;
use aggregates::{Outcome, Payment, PaymentCommand, PaymentError, WaitingFor};
use chrono::{DateTime, Utc};
use cqrs_es::AggregateError;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing_actix_web::RequestId;

use super::error::QrApiError;
use super::wire::{
    CreateQrCodeRequest, CreateQrCodeResponse, ErrorDetail, ErrorType, PaymentRequest,
    PaymentResponse, ScanNotification,
};
use super::{image, parse};
use crate::app::App;
use crate::commands::CommandMetadata;
use crate::emv::{MerchantAccount, PayloadSpec, QrScheme};
use crate::routing;
use crate::security::{mask, Party, Role};
use crate::waiters::{WaitGuard, Wake};

/// Longest a waiting `pay` sleeps between looks at its payment, should a wake-up be lost.
const PAY_RECHECK_MS: u64 = 1_000;

/// Parses a contract message, keeping the JSON as sent. Shape errors are format errors.
pub(super) fn message<T: DeserializeOwned>(body: &Value) -> Result<T, QrApiError> {
    serde_json::from_value(body.clone()).map_err(|error| {
        QrApiError::format("message does not match the contract")
            .about(body.get("id").and_then(Value::as_str), None)
            .with_detail(serde_json::json!({ "reason": error.to_string() }))
    })
}

fn metadata(party: &str, request_id: &RequestId, message_id: &str) -> CommandMetadata {
    CommandMetadata {
        party: party.to_owned(),
        request_id: request_id.to_string(),
        message_id: Some(message_id.to_owned()),
        received_at: Utc::now(),
    }
}

pub async fn create_qr_code(
    app: web::Data<App>,
    party: Party,
    request_id: RequestId,
    body: web::Json<Value>,
) -> Result<HttpResponse, QrApiError> {
    party.require(&[Role::Retailer])?;
    let request: CreateQrCodeRequest = message(&body)?;
    party.require_as(Role::Retailer, &request.client.id)?;
    let about = |e: QrApiError| e.about(Some(&request.id), None);
    parse::envelope(&request.id, &request.time).map_err(about)?;
    let client_id = parse::party(&request.client.id, "client").map_err(about)?;
    let amount = request
        .qr_properties
        .value
        .as_ref()
        .or(request
            .amounts
            .as_ref()
            .and_then(|a| a.request_amount.as_ref()))
        .map(parse::amount)
        .transpose()
        .map_err(about)?;
    let now = Utc::now();
    let expires_at =
        match parse::expiry(request.qr_properties.expiry_date.as_ref()).map_err(about)? {
            Some(at) => {
                at.min(now + chrono::Duration::milliseconds(app.config.qr.max_expiry_ms as i64))
            }
            None => now + chrono::Duration::milliseconds(app.config.qr.expiry_ms as i64),
        };
    let tran_id = parse::tran_id_for(&client_id, &request.id);
    if let Some(msisdn) = request.customer.as_ref().and_then(|c| c["msisdn"].as_str()) {
        tracing::debug!(%tran_id, customer = %mask::msisdn(msisdn), "QR requested for a customer");
    }
    let scheme_name = request
        .qr_properties
        .scheme
        .unwrap_or(app.config.qr.default_scheme);
    let payload = payload_for(&app, &request, &tran_id, scheme_name, amount).map_err(about)?;

    let command = PaymentCommand::IssueQr {
        message_id: request.id.clone(),
        tran_id: tran_id.clone(),
        client_id,
        terminal_id: request.originator.terminal_id.clone(),
        amount,
        scheme: scheme_name.as_str().to_owned(),
        payload: payload.clone(),
        merchant_name: crate::emv::payload::validate(&payload, QrScheme::PseudoEmvcoMerchant)
            .ok()
            .and_then(|p| p.value(59).map(str::to_owned))
            .or_else(|| Some(request.originator.merchant.merchant_name.name.clone())),
        issued_at: now,
        expires_at,
    };
    // The tranId was minted just now: nothing to read first.
    app.payments
        .execute_new(
            tran_id.as_str(),
            command,
            &metadata(&request.client.id, &request_id, &request.id),
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

/// One template per enabled partner plus ours, all carrying the tranId, and the merchant's
/// details from the originator.
fn payload_for(
    app: &App,
    request: &CreateQrCodeRequest,
    tran_id: &TranId,
    scheme: QrScheme,
    amount: Option<aggregates::values::Amount>,
) -> Result<String, QrApiError> {
    let qr = &app.config.qr;
    let mut accounts = vec![MerchantAccount {
        tag: qr.template_tag,
        guid: qr.guid.clone(),
        reference: tran_id.to_string(),
    }];
    accounts.extend(
        app.config
            .partners
            .iter()
            .filter(|p| p.enabled)
            .map(|p| MerchantAccount {
                tag: p.template_tag,
                guid: p.qr_guid.clone(),
                reference: tran_id.to_string(),
            }),
    );
    if app.config.payshap.qr_enabled {
        // The payer's bank resolves this CUSTOM proxy (namespace `qr_namespace`) to the payment.
        accounts.push(MerchantAccount {
            tag: app.config.payshap.qr_template_tag,
            guid: app.config.payshap.qr_guid.clone(),
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
    app: web::Data<App>,
    party: Party,
    path: web::Path<String>,
) -> Result<HttpResponse, QrApiError> {
    let payload = issued_payload(&app, &party, &path).await?;
    let png = image::png(&payload).map_err(|e| QrApiError::unavailable("rendering PNG", &e))?;
    Ok(HttpResponse::Ok().content_type("image/png").body(png))
}

pub async fn qr_svg(
    app: web::Data<App>,
    party: Party,
    path: web::Path<String>,
) -> Result<HttpResponse, QrApiError> {
    let payload = issued_payload(&app, &party, &path).await?;
    let svg = image::svg(&payload).map_err(|e| QrApiError::unavailable("rendering SVG", &e))?;
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(svg))
}

/// The QR payload of a payment the caller may see: another retailer's looks unknown.
async fn issued_payload(app: &App, party: &Party, raw_tran_id: &str) -> Result<String, QrApiError> {
    party.require(&[Role::Retailer])?;
    let tran_id = parse::tran_id(raw_tran_id)?;
    let payment = app.payments.load(tran_id.as_str()).await?;
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
    app: web::Data<App>,
    party: Party,
    request_id: RequestId,
    body: web::Json<Value>,
) -> Result<HttpResponse, QrApiError> {
    party.require(&[Role::Partner])?;
    let scan: ScanNotification = message(&body)?;
    party.require_as(Role::Partner, &scan.partner.id)?;
    let about = |e: QrApiError| e.about(Some(&scan.id), Some(&scan.tran_id));
    parse::envelope(&scan.id, &scan.time).map_err(about)?;
    let partner_id = parse::party(&scan.partner.id, "partner").map_err(about)?;
    if app.config.partner(partner_id.as_str()).is_none() {
        return Err(about(QrApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorType::PartnerUnknown,
            "partner is not known to this switch",
        )));
    }
    let tran_id = parse::tran_id(&scan.tran_id).map_err(about)?;
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
        hold_until: now + chrono::Duration::milliseconds(app.config.payments.scan_hold_ms as i64),
    };
    let payment = app
        .payments
        .execute(
            tran_id.as_str(),
            command,
            &metadata(&scan.partner.id, &request_id, &scan.id),
        )
        .await
        .map_err(|e| about(e.into()))?;
    // The partner gets its 202 now; the authorisation (which may wait for the customer's
    // consent) goes out in the background.
    spawn_routing(&app, tran_id.as_str(), payment);
    Ok(HttpResponse::Accepted().finish())
}

fn spawn_routing(app: &web::Data<App>, tran_id: &str, payment: Payment) {
    let app: Arc<App> = app.clone().into_inner();
    let runtime = app.runtime.clone();
    runtime.spawn(routing::drive(app, tran_id.to_owned(), payment));
}

pub async fn pay(
    app: web::Data<App>,
    party: Party,
    request_id: RequestId,
    body: web::Json<Value>,
) -> Result<HttpResponse, QrApiError> {
    party.require(&[Role::Retailer])?;
    let request: PaymentRequest = message(&body)?;
    party.require_as(Role::Retailer, &request.client.id)?;
    let about = |e: QrApiError| e.about(Some(&request.id), Some(&request.tran_id));
    parse::envelope(&request.id, &request.time).map_err(about)?;
    let client_id = parse::party(&request.client.id, "client").map_err(about)?;
    let tran_id = parse::tran_id(&request.tran_id).map_err(about)?;
    let requested = request.amounts.request_amount.as_ref().ok_or_else(|| {
        about(QrApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorType::InvalidAmount,
            "amounts.requestAmount is required",
        ))
    })?;
    let amount = parse::amount(requested).map_err(about)?;
    let now = Utc::now();
    let respond_by =
        now + chrono::Duration::milliseconds(app.config.payments.pay_timeout_ms as i64);
    let command = PaymentCommand::RequestPayment {
        message_id: request.id.clone(),
        client_id,
        amount,
        message: body.into_inner(),
        received_at: now,
        respond_by,
    };
    // Registered before the command: every later commit on the payment wakes it, and the
    // state the command returns is the store's as of its own commit.
    let waiter = app.waiters.wait_for(tran_id.as_str());
    let payment = app
        .payments
        .execute(
            tran_id.as_str(),
            command,
            &metadata(&request.client.id, &request_id, &request.id),
        )
        .await
        .map_err(|e| about(e.into()))?;
    let payment = match payment.outcome() {
        Some(_) => payment, // already answered (a PayShap credit came first)
        None => {
            spawn_routing(&app, tran_id.as_str(), payment);
            wait_for_outcome(&app, &waiter, tran_id.as_str(), respond_by)
                .await
                .map_err(about)?
        }
    };
    answer(&app, &request, &payment).map_err(about)
}

/// Waits until the payment has its outcome, timing it out at `respond_by`.
///
/// An outcome recorded here is in the aggregate cache before the waiter wakes; the store is
/// read only when another instance announced a commit, or when the re-check timer fires
/// (a lost announcement costs at most [`PAY_RECHECK_MS`]).
async fn wait_for_outcome(
    app: &App,
    waiter: &WaitGuard<'_>,
    tran_id: &str,
    respond_by: DateTime<Utc>,
) -> Result<Payment, QrApiError> {
    let mut wake = waiter.taken();
    loop {
        if let Some(payment) = app.payments.peek(tran_id).filter(|p| p.outcome().is_some()) {
            return Ok(payment);
        }
        if wake == Wake::ReadStore {
            let payment = app.payments.load(tran_id).await?;
            if payment.outcome().is_some() {
                return Ok(payment);
            }
        }
        let now = Utc::now();
        if now >= respond_by {
            match app
                .payments
                .execute(
                    tran_id,
                    PaymentCommand::TimeOut { at: now },
                    &routing::system_metadata(),
                )
                .await
            {
                // We timed it out (the cache has it), or an outcome landed first: look again.
                Ok(_) => continue,
                Err(AggregateError::UserError(PaymentError::AlreadyFinal)) => {
                    wake = Wake::ReadStore;
                    continue;
                }
                Err(other) => return Err(other.into()),
            }
        }
        let left = (respond_by - now).to_std().unwrap_or_default();
        let pause = left.min(Duration::from_millis(PAY_RECHECK_MS));
        wake = tokio::select! {
            woken = waiter.notified() => woken,
            () = tokio::time::sleep(pause) => Wake::ReadStore,
        };
    }
}

/// The POS's answer for a payment with its outcome.
fn answer(
    app: &App,
    request: &PaymentRequest,
    payment: &Payment,
) -> Result<HttpResponse, QrApiError> {
    match payment.outcome() {
        Some(Outcome::Authorised { response }) => {
            let partner_id = payment
                .scan()
                .map(|s| s.partner_id.to_string())
                .unwrap_or_default();
            Ok(HttpResponse::Created().json(approved_answer(app, request, &partner_id, response)))
        }
        Some(Outcome::Declined { error }) => Err(declined_answer(error)),
        Some(Outcome::TimedOut { waiting_for }) => Err(match waiting_for {
            WaitingFor::Scan => QrApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                ErrorType::NoScanReceived,
                "no scan received in time",
            ),
            WaitingFor::Partner => QrApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                ErrorType::UpstreamUnavailable,
                "partner did not answer in time",
            ),
        }),
        None => Err(QrApiError::unavailable(
            "payment has no outcome",
            &"no outcome",
        )),
    }
}

/// Our `PaymentResponse` to the POS: its own request echoed, with what the partner added
/// (approved amounts, tenders, slip data, its identifiers).
fn approved_answer(
    app: &App,
    request: &PaymentRequest,
    partner_id: &str,
    partner_response: &Value,
) -> PaymentResponse {
    let from_partner: Option<PaymentResponse> =
        serde_json::from_value(partner_response.clone()).ok();
    let payshap = &app.config.payshap;
    let partner = app
        .config
        .partner(partner_id)
        .map(routing::institution)
        .or_else(|| {
            (partner_id == payshap.partner_id).then(|| super::wire::Institution {
                id: payshap.partner_id.clone(),
                name: payshap.partner_name.clone(),
            })
        })
        .or_else(|| from_partner.as_ref().map(|r| r.partner.clone()))
        .unwrap_or_else(|| super::wire::Institution {
            id: partner_id.to_owned(),
            name: partner_id.chars().take(40).collect(),
        });
    let mut identifiers = request.third_party_identifiers.clone();
    if let Some(theirs) = from_partner.as_ref().map(|r| &r.third_party_identifiers) {
        for identifier in theirs {
            if !identifiers.contains(identifier) {
                identifiers.push(identifier.clone());
            }
        }
    }
    let request_echo = request.clone();
    PaymentResponse {
        id: request_echo.id,
        time: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        originator: request_echo.originator,
        client: request_echo.client,
        settlement_entity: from_partner
            .as_ref()
            .and_then(|r| r.settlement_entity.clone())
            .or(request_echo.settlement_entity),
        receiver: from_partner
            .as_ref()
            .and_then(|r| r.receiver.clone())
            .or(request_echo.receiver),
        third_party_identifiers: identifiers,
        slip_data: from_partner
            .as_ref()
            .and_then(|r| r.slip_data.clone())
            .or(request_echo.slip_data),
        basket_ref: request_echo.basket_ref,
        tran_type: request_echo.tran_type,
        src_acc_type: request_echo.src_acc_type,
        dest_acc_type: request_echo.dest_acc_type,
        stan: request_echo.stan,
        rrn: request_echo.rrn,
        partner,
        tenders: from_partner.as_ref().and_then(|r| r.tenders.clone()),
        amounts: from_partner
            .as_ref()
            .map(|r| r.amounts.clone())
            .unwrap_or_else(|| {
                // An answer that is not a PaymentResponse (PayShap) may still name the amount paid.
                let mut amounts = request_echo.amounts;
                if amounts.approved_amount.is_none() {
                    amounts.approved_amount =
                        serde_json::from_value(partner_response["approvedAmount"].clone()).ok();
                }
                amounts
            }),
        tran_id: request_echo.tran_id,
        partner_payment_token: from_partner
            .and_then(|r| r.partner_payment_token)
            .or(request_echo.partner_payment_token),
    }
}

/// The partner's refusal, passed on: its error type when it is one of the contract's, its
/// code and message as provider fields, our own id.
fn declined_answer(partner_error: &Value) -> QrApiError {
    let theirs: Option<ErrorDetail> = serde_json::from_value(partner_error.clone()).ok();
    let error_type = theirs
        .as_ref()
        .map_or(ErrorType::DeclinedByPartner, |e| e.error_type);
    let message = theirs
        .as_ref()
        .map_or("declined by the partner", |e| e.error_message.as_str());
    let mut error = QrApiError::new(StatusCode::BAD_REQUEST, error_type, message);
    if let Some(theirs) = theirs {
        error.detail.provider_error_code = theirs.provider_error_code;
        error.detail.provider_error_msg = theirs.provider_error_msg;
        error.detail.provider_ref = theirs.provider_ref;
        error.detail.detail_message = theirs.detail_message;
    }
    error
}
