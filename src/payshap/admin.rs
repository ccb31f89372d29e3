//! Proxy registry administration (ops): register, change, retire, show. Each change is an
//! event on the proxy.

use actix_web::{web, HttpResponse};
use aggregates::proxy::Proxy;
use aggregates::proxy::{AccountStatus, ProxyChange, ProxyCommand, ProxyError};
use aggregates::values::ProxyKey;
use chrono::{NaiveDate, Utc};
use cqrs_es::AggregateError;
use projections::proxy_registry;
use serde::{Deserialize, Serialize};
use tracing_actix_web::RequestId;

use crate::commands::CommandBus;
use crate::commands::CommandMetadata;
use crate::http::ApiError;
use crate::security::{Party, Role};
use crate::store::Store;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Registration {
    /// `MOBILE`, `CUSTOM` or `GENERIC`.
    pub schema: String,
    /// For MOBILE and CUSTOM.
    pub namespace: Option<String>,
    /// For GENERIC accounts.
    pub bicfi: Option<String>,
    pub value: String,
    pub known_as_name: String,
    pub legal_name: String,
    pub account_creation_date: NaiveDate,
    pub status: AccountStatus,
    #[serde(default = "allowed")]
    pub resolution_allowed: bool,
}

fn allowed() -> bool {
    true
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Change {
    pub known_as_name: Option<String>,
    pub legal_name: Option<String>,
    pub status: Option<AccountStatus>,
    pub resolution_allowed: Option<bool>,
}

/// The proxy a command was applied to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProxyAnswer {
    pub proxy_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired: Option<bool>,
}

fn answer(proxy_id: &str, retired: Option<bool>) -> ProxyAnswer {
    ProxyAnswer {
        proxy_id: proxy_id.to_owned(),
        retired,
    }
}

pub fn metadata(party: &Party, request_id: &RequestId) -> CommandMetadata {
    CommandMetadata::by_user(party.label("ops"), request_id)
}

pub fn refused(error: AggregateError<ProxyError>) -> ApiError {
    match error {
        AggregateError::UserError(ProxyError::NotRegistered) => ApiError::not_found(),
        AggregateError::UserError(
            refusal @ (ProxyError::AlreadyRegistered | ProxyError::Retired),
        ) => ApiError::conflict(refusal.to_string()),
        AggregateError::UserError(refusal) => ApiError::bad_request(refusal.to_string()),
        other => ApiError::internal("proxy command failed", &other),
    }
}

/// The proxy a registration names, and the command that registers it; 400 for a key that
/// does not read.
pub fn registration_command(
    registration: Registration,
) -> Result<(String, ProxyCommand), ApiError> {
    let context = match registration.schema.as_str() {
        "GENERIC" => registration.bicfi.clone(),
        _ => registration.namespace.clone(),
    }
    .unwrap_or_default();
    let key = ProxyKey::parse(&registration.schema, &context, &registration.value)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let proxy_id = key.id();
    let command = ProxyCommand::Register {
        key,
        known_as_name: registration.known_as_name,
        legal_name: registration.legal_name,
        account_created_on: registration.account_creation_date,
        status: registration.status,
        resolution_allowed: registration.resolution_allowed,
        at: Utc::now(),
    };
    Ok((proxy_id, command))
}

/// The command a change asks for.
pub fn change_command(change: Change) -> ProxyCommand {
    ProxyCommand::Change {
        change: ProxyChange {
            known_as_name: change.known_as_name,
            legal_name: change.legal_name,
            status: change.status,
            resolution_allowed: change.resolution_allowed,
        },
        at: Utc::now(),
    }
}

#[utoipa::path(post, path = "/admin/proxies", tag = "proxies", request_body = Registration,
    responses((status = 201, description = "Registered.", body = ProxyAnswer), crate::http::documented::Writes))]
pub async fn register(
    proxies: web::Data<CommandBus<Proxy>>,
    party: Party,
    request_id: RequestId,
    body: web::Json<Registration>,
) -> Result<HttpResponse, ApiError> {
    party.require(&[Role::Ops])?;
    let (proxy_id, command) = registration_command(body.into_inner())?;
    proxies
        .execute(&proxy_id, command, &metadata(&party, &request_id))
        .await
        .map_err(refused)?;
    Ok(HttpResponse::Created().json(answer(&proxy_id, None)))
}

#[utoipa::path(patch, path = "/admin/proxies/{proxy_id}", tag = "proxies", params(("proxy_id" = String, Path, description = "`SCHEMA|CONTEXT|VALUE`, as registration answered.")), request_body = Change,
    responses((status = 200, description = "Changed.", body = ProxyAnswer), crate::http::documented::Writes))]
pub async fn change(
    proxies: web::Data<CommandBus<Proxy>>,
    party: Party,
    request_id: RequestId,
    path: web::Path<String>,
    body: web::Json<Change>,
) -> Result<HttpResponse, ApiError> {
    party.require(&[Role::Ops])?;
    let command = change_command(body.into_inner());
    proxies
        .execute(&path, command, &metadata(&party, &request_id))
        .await
        .map_err(refused)?;
    Ok(HttpResponse::Ok().json(answer(&path, None)))
}

#[utoipa::path(delete, path = "/admin/proxies/{proxy_id}", tag = "proxies", params(("proxy_id" = String, Path, description = "`SCHEMA|CONTEXT|VALUE`, as registration answered.")),
    responses((status = 200, description = "Retired: it no longer resolves.", body = ProxyAnswer), crate::http::documented::Writes))]
pub async fn retire(
    proxies: web::Data<CommandBus<Proxy>>,
    party: Party,
    request_id: RequestId,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    party.require(&[Role::Ops])?;
    let command = ProxyCommand::Retire { at: Utc::now() };
    proxies
        .execute(&path, command, &metadata(&party, &request_id))
        .await
        .map_err(refused)?;
    Ok(HttpResponse::Ok().json(answer(&path, Some(true))))
}

#[utoipa::path(get, path = "/admin/proxies/{proxy_id}", tag = "proxies", params(("proxy_id" = String, Path, description = "`SCHEMA|CONTEXT|VALUE`, as registration answered.")),
    responses((status = 200, description = "The proxy as the registry has it.", body = projections::proxy_registry::ProxyRow), crate::http::documented::Reads))]
pub async fn show(
    store: web::Data<Store>,
    party: Party,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    party.require(Role::READS_BOOKS)?;
    let row = proxy_registry::find(store.views().pool(), &path)
        .await
        .map_err(|e| ApiError::internal("reading the proxy registry", &e))?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(row))
}
