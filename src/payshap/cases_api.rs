//! Held credits worked to closure over HTTP (finance and ops), with four eyes on the steps
//! that move money: `/backoffice/api/cases` (open cases with age and amount; close one),
//! `/backoffice/api/approvals` (ask, list, approve, reject), and `/ops/payshap/refunds`
//! (list; send a parked one again).

use actix_web::{web, HttpResponse};
use aggregates::approval::MoneyAction;
use aggregates::case::CaseStep;
use aggregates::refund::RefundCommand;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use tracing_actix_web::RequestId;

use super::approvals::ApprovalFailure;
use super::cases::CaseFailure;
use super::service::PayShapService;
use crate::commands::CommandMetadata;
use crate::http::ApiError;
use crate::security::{Party, Role};

/// Rows one listing returns at most.
const LIST_LIMIT_ROWS: i64 = 1_000;
/// Who may ask for a money-moving step, or close a case (an approver may ask too; another
/// approver decides).
const MAKERS: &[Role] = &[Role::Backoffice, Role::Ops, Role::Approver];

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Resources, not a scope: `/backoffice/api` is the back office's scope.
    cfg.service(web::resource("/backoffice/api/cases").route(web::get().to(cases)))
        .service(web::resource("/backoffice/api/cases/{uetr}/close").route(web::post().to(close)))
        .service(
            web::resource("/backoffice/api/held/{message_hash}/close")
                .route(web::post().to(close_held)),
        )
        .service(
            web::resource("/backoffice/api/approvals")
                .route(web::get().to(approvals))
                .route(web::post().to(ask)),
        )
        .service(
            web::resource("/backoffice/api/approvals/{id}/approve").route(web::post().to(approve)),
        )
        .service(
            web::resource("/backoffice/api/approvals/{id}/reject").route(web::post().to(reject)),
        )
        .service(web::resource("/ops/payshap/refunds").route(web::get().to(refunds)))
        .service(
            web::resource("/ops/payshap/refunds/{uetr}/retry").route(web::post().to(retry_refund)),
        );
}

fn case_error(failure: CaseFailure) -> ApiError {
    match failure {
        CaseFailure::NotFound => ApiError::not_found(),
        CaseFailure::Refused(why) => ApiError::conflict(why),
        CaseFailure::Failed(why) => ApiError::internal("working a case", &why),
    }
}

fn approval_error(failure: ApprovalFailure) -> ApiError {
    match failure {
        ApprovalFailure::NotFound => ApiError::not_found(),
        ApprovalFailure::Case(failure) => case_error(failure),
        ApprovalFailure::Refused(why) => ApiError::conflict(why),
        ApprovalFailure::Failed(why) => ApiError::internal("four eyes", &why),
    }
}

/// An open case, with how long it has waited.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenCase {
    pub age_seconds: i64,
    pub transfer: projections::payshap_transfers::TransferRow,
}

#[utoipa::path(get, path = "/backoffice/api/cases", tag = "finance",
    responses((status = 200, description = "Held credits not yet worked to closure, oldest first.", body = Vec<OpenCase>), crate::http::documented::Reads))]
pub async fn cases(
    payshap: web::Data<PayShapService>,
    party: Party,
) -> Result<HttpResponse, ApiError> {
    party.require(Role::READS_BOOKS)?;
    let rows =
        projections::payshap_transfers::open_cases(payshap.store.views().pool(), LIST_LIMIT_ROWS)
            .await
            .map_err(|e| ApiError::internal("listing open cases", &e))?;
    let now = Utc::now();
    let open: Vec<OpenCase> = rows
        .into_iter()
        .map(|transfer| OpenCase {
            age_seconds: chrono::DateTime::parse_from_rfc3339(&transfer.first_received_at)
                .map(|t| (now - t.with_timezone(&Utc)).num_seconds())
                .unwrap_or(0),
            transfer,
        })
        .collect();
    Ok(HttpResponse::Ok().json(open))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Close {
    /// DUPLICATE, RESOLVED_AT_BANK, NOT_OURS or WRITTEN_OFF.
    pub reason_code: String,
    pub note: String,
}

/// `POST /backoffice/api/cases/{uetr}/close`: moves no money, so one person suffices.
#[utoipa::path(post, path = "/backoffice/api/cases/{uetr}/close", tag = "finance", request_body = Close,
    params(("uetr" = String, Path, description = "The held credit's UETR.")),
    responses((status = 204, description = "Closed."), crate::http::documented::Writes))]
pub async fn close(
    payshap: web::Data<PayShapService>,
    party: Party,
    request_id: RequestId,
    uetr: web::Path<String>,
    body: web::Json<Close>,
) -> Result<HttpResponse, ApiError> {
    party.require(MAKERS)?;
    let metadata = CommandMetadata::by_user(party.label("finance"), request_id);
    let Close { reason_code, note } = body.into_inner();
    let step = CaseStep::Close { reason_code, note };
    payshap.open_case(&uetr).await.map_err(case_error)?;
    payshap
        .take_step(&uetr, step, &metadata)
        .await
        .map_err(case_error)?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /backoffice/api/held/{message_hash}/close`: a held message closed with a reason
/// and a note; nothing of it is applied, ever.
#[utoipa::path(post, path = "/backoffice/api/held/{message_hash}/close", tag = "finance", request_body = Close,
    params(("message_hash" = String, Path, description = "The held message, as the exceptions list it.")),
    responses((status = 204, description = "Closed."), crate::http::documented::Writes))]
pub async fn close_held(
    payshap: web::Data<PayShapService>,
    party: Party,
    request_id: RequestId,
    hash: web::Path<String>,
    body: web::Json<Close>,
) -> Result<HttpResponse, ApiError> {
    party.require(MAKERS)?;
    let metadata = CommandMetadata::by_user(party.label("finance"), request_id);
    let Close { reason_code, note } = body.into_inner();
    let command = aggregates::held_message::HeldMessageCommand::Close {
        reason_code,
        note,
        by: metadata.party.clone(),
        at: Utc::now(),
    };
    payshap
        .held_messages
        .execute(&hash, command, &metadata)
        .await
        .map_err(|e| match e {
            cqrs_es::AggregateError::UserError(
                aggregates::held_message::HeldMessageError::NotHeld,
            ) => ApiError::not_found(),
            cqrs_es::AggregateError::UserError(refusal) => ApiError::conflict(refusal.to_string()),
            other => ApiError::internal("closing a held message", &other),
        })?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ask {
    /// `{"action": "APPLY", "uetr", "note"}`, `{"action": "ATTRIBUTE", "uetr", "to", "note"}`,
    /// `{"action": "REFUND", "uetr"}`, `{"action": "APPLY_HELD", "messageHash", "note"}`,
    /// `{"action": "CREDIT_FROM_RECON", "day", "uetr"}`, `{"action": "MANUAL_REVERSAL",
    /// "tranId", "reason"}` or `{"action": "FEE_TERMS", "partnerId", "terms"}`.
    #[schema(value_type = Object)]
    pub action: MoneyAction,
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Asked {
    pub approval_id: String,
    pub expires_at: String,
}

/// `POST /backoffice/api/approvals`: a maker asks for a money-moving step.
#[utoipa::path(post, path = "/backoffice/api/approvals", tag = "finance", request_body = Ask,
    responses((status = 201, description = "Asked; another user with the approver role decides.", body = Asked), crate::http::documented::Writes))]
pub async fn ask(
    payshap: web::Data<PayShapService>,
    party: Party,
    request_id: RequestId,
    body: web::Json<Ask>,
) -> Result<HttpResponse, ApiError> {
    party.require(MAKERS)?;
    let metadata = CommandMetadata::by_user(party.label("finance"), request_id);
    let Ask { action, reason } = body.into_inner();
    let (approval_id, expires_at) = payshap
        .request_approval(action, &reason, &metadata)
        .await
        .map_err(approval_error)?;
    Ok(HttpResponse::Created().json(Asked {
        approval_id,
        expires_at: expires_at.to_rfc3339(),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    status: Option<String>,
}

#[utoipa::path(get, path = "/backoffice/api/approvals", tag = "finance", params(StatusQuery),
    responses((status = 200, description = "At most 1,000 requests, newest first.", body = Vec<projections::approvals::ApprovalRow>), crate::http::documented::Reads))]
pub async fn approvals(
    payshap: web::Data<PayShapService>,
    party: Party,
    query: web::Query<StatusQuery>,
) -> Result<HttpResponse, ApiError> {
    party.require(&[Role::Backoffice, Role::Ops, Role::Auditor, Role::Approver])?;
    let status = query.status.as_deref().map(str::to_ascii_uppercase);
    let rows = projections::approvals::list(
        payshap.store.views().pool(),
        status.as_deref(),
        LIST_LIMIT_ROWS,
    )
    .await
    .map_err(|e| ApiError::internal("listing approvals", &e))?;
    Ok(HttpResponse::Ok().json(rows))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Decided {
    /// EXECUTED, FAILED or REJECTED.
    pub status: &'static str,
    pub outcome: String,
}

/// `POST /backoffice/api/approvals/{id}/approve`: another user with the approver role; the
/// step is carried out at once and how it went recorded.
#[utoipa::path(post, path = "/backoffice/api/approvals/{id}/approve", tag = "finance",
    params(("id" = String, Path, description = "The approval request.")),
    responses((status = 200, description = "Approved and carried out (or failed, with why).", body = Decided), crate::http::documented::Writes))]
pub async fn approve(
    payshap: web::Data<PayShapService>,
    party: Party,
    request_id: RequestId,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    party.require(&[Role::Approver])?;
    let metadata = CommandMetadata::by_user(party.label("approver"), request_id);
    let outcome = payshap
        .approve(&id, &metadata)
        .await
        .map_err(approval_error)?;
    let (status, outcome) = match outcome {
        Ok(detail) => ("EXECUTED", detail),
        Err(reason) => ("FAILED", reason),
    };
    Ok(HttpResponse::Ok().json(Decided { status, outcome }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Reject {
    pub note: String,
}

#[utoipa::path(post, path = "/backoffice/api/approvals/{id}/reject", tag = "finance", request_body = Reject,
    params(("id" = String, Path, description = "The approval request.")),
    responses((status = 200, description = "Rejected: nothing is done.", body = Decided), crate::http::documented::Writes))]
pub async fn reject(
    payshap: web::Data<PayShapService>,
    party: Party,
    request_id: RequestId,
    id: web::Path<String>,
    body: web::Json<Reject>,
) -> Result<HttpResponse, ApiError> {
    party.require(&[Role::Approver])?;
    let metadata = CommandMetadata::by_user(party.label("approver"), request_id);
    payshap
        .reject(&id, &body.note, &metadata)
        .await
        .map_err(approval_error)?;
    Ok(HttpResponse::Ok().json(Decided {
        status: "REJECTED",
        outcome: body.into_inner().note,
    }))
}

#[utoipa::path(get, path = "/ops/payshap/refunds", tag = "ops", params(StatusQuery),
    responses((status = 200, description = "At most 1,000 refunds, newest first.", body = Vec<projections::refunds::RefundRow>), crate::http::documented::Reads))]
pub async fn refunds(
    payshap: web::Data<PayShapService>,
    party: Party,
    query: web::Query<StatusQuery>,
) -> Result<HttpResponse, ApiError> {
    party.require(Role::READS_BOOKS)?;
    let status = query.status.as_deref().map(str::to_ascii_uppercase);
    let rows = projections::refunds::list(
        payshap.store.views().pool(),
        status.as_deref(),
        LIST_LIMIT_ROWS,
    )
    .await
    .map_err(|e| ApiError::internal("listing refunds", &e))?;
    Ok(HttpResponse::Ok().json(rows))
}

/// `POST /ops/payshap/refunds/{uetr}/retry`: a parked refund is sent again (same payload).
#[utoipa::path(post, path = "/ops/payshap/refunds/{uetr}/retry", tag = "ops",
    params(("uetr" = String, Path, description = "The refund's UETR.")),
    responses((status = 204, description = "Sending again."), crate::http::documented::Writes))]
pub async fn retry_refund(
    payshap: web::Data<PayShapService>,
    party: Party,
    request_id: RequestId,
    uetr: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    party.require(&[Role::Ops])?;
    let metadata = CommandMetadata::by_user(party.label("ops"), request_id);
    let command = RefundCommand::Unpark {
        by: metadata.party.clone(),
        at: Utc::now(),
    };
    payshap
        .refunds
        .execute(&uetr, command, &metadata)
        .await
        .map_err(|e| match e {
            cqrs_es::AggregateError::UserError(refusal) => ApiError::conflict(refusal.to_string()),
            other => ApiError::internal("unparking a refund", &other),
        })?;
    if let Some(sender) = &payshap.refund_sender {
        sender.send_soon(uetr.into_inner());
    }
    Ok(HttpResponse::NoContent().finish())
}
