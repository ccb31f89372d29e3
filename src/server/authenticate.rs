//! HTTP Basic authentication of every request but the probes (`/health`, `/ready`).
//!
//! Bad or missing credentials: 401 with a `WWW-Authenticate` challenge. A source address
//! with too many failures inside the window gets 429 until the window passes, before its
//! credentials are even looked at. The body is an `ErrorDetail` on `/qr/v1` and the plain
//! JSON error elsewhere, and never says which part was wrong.

use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse, ResponseError};
use base64::Engine;

use crate::http::ApiError;
use crate::payshap::keys::SchemeKeys;
use crate::qr_api::wire::ErrorType;
use crate::qr_api::QrApiError;
use crate::security::credentials::Credentials;
use crate::security::credentials::Verdict;
use crate::security::limiter::FailureLimiter;
use crate::security::party::Party;

/// Paths that answer without credentials: load balancers probe them.
fn is_probe(path: &str) -> bool {
    path == "/health" || path == "/ready"
}

pub async fn authenticate(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let (Some(credentials), Some(failures), Some(keys)) = (
        request.app_data::<web::Data<Credentials>>().cloned(),
        request.app_data::<web::Data<FailureLimiter>>().cloned(),
        request
            .app_data::<web::Data<Option<Arc<SchemeKeys>>>>()
            .cloned(),
    ) else {
        return Err(actix_web::error::ErrorInternalServerError(
            "no credentials registered",
        ));
    };
    if is_probe(request.path()) {
        return next
            .call(request)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    if credentials.is_empty() {
        request.extensions_mut().insert(Party::Open);
        return next
            .call(request)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let signed_alone = keys
        .as_ref()
        .as_ref()
        .is_some_and(|keys| !keys.require_basic)
        && crate::payshap::inbound::is_signed_path(request.path())
        && !request.headers().contains_key(header::AUTHORIZATION);
    if signed_alone {
        // The message signature authenticates it: the handler refuses it unless it verifies.
        return next
            .call(request)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let source = request.peer_addr().map(|a| a.ip());
    if let Some(source) = source {
        if failures.blocked(source) {
            return Ok(refuse(request, StatusCode::TOO_MANY_REQUESTS));
        }
    }
    let verdict = basic_credentials(&request)
        .map(|(user, password)| (credentials.verify(&user, &password), user));
    match verdict {
        Some((Verdict::Valid(role), user)) => {
            request
                .extensions_mut()
                .insert(Party::Authenticated { user, role });
            next.call(request)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        _ => {
            if let Some(source) = source {
                failures.record_failure(source);
            }
            tracing::warn!(path = request.path(), "authentication failed");
            Ok(refuse(request, StatusCode::UNAUTHORIZED))
        }
    }
}

fn basic_credentials(request: &ServiceRequest) -> Option<(String, String)> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn refuse<B>(request: ServiceRequest, status: StatusCode) -> ServiceResponse<EitherBody<B>> {
    let (request, _) = request.into_parts();
    let mut response = if request.path().starts_with("/qr/v1") {
        let message = match status {
            StatusCode::TOO_MANY_REQUESTS => "too many failed attempts",
            _ => "authentication required",
        };
        QrApiError::new(status, ErrorType::GeneralError, message).error_response()
    } else {
        ApiError::unauthenticated(status).error_response()
    };
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"qrswitch\""),
        );
    }
    ServiceResponse::new(request, response).map_into_right_body()
}

/// The caller as the middleware found it; `Open` only when no users are configured.
impl actix_web::FromRequest for Party {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(
        request: &actix_web::HttpRequest,
        _: &mut actix_web::dev::Payload,
    ) -> Self::Future {
        let party = request.extensions().get::<Party>().cloned();
        std::future::ready(party.ok_or_else(|| {
            actix_web::error::InternalError::from_response(
                "unauthenticated",
                HttpResponse::Unauthorized().finish(),
            )
            .into()
        }))
    }
}
