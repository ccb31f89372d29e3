//! What every inbound PayShap request goes through before its handler sees it, and every
//! answer after: the message signature is checked against the scheme's public key (401 and
//! a metric when it fails, and nothing stored), the caller's role where HTTP Basic is also
//! used, the W3C trace context read; every answer is signed with our key.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures::future::LocalBoxFuture;

use super::keys::KeyRing;
use super::message::SchemeMessage;
use super::signing;
use super::wire::{
    FailureResponse, AUTHORISATION_PATH, COMPLETION_PATH, OUTBOUND_RESULT_PATH, RESOLUTION_PATH,
};
use crate::security::{Party, Role};

/// Headers kept with a held message: enough to re-check its signature and find its trace.
const KEPT_HEADERS: [&str; 4] = [signing::HEADER, "traceparent", "tracestate", "content-type"];

/// The paths whose messages are signed.
pub fn is_signed_path(path: &str) -> bool {
    [
        RESOLUTION_PATH,
        COMPLETION_PATH,
        AUTHORISATION_PATH,
        OUTBOUND_RESULT_PATH,
    ]
    .contains(&path)
}

impl FromRequest for SchemeMessage {
    type Error = FailureResponse;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(request, payload);
        let request = request.clone();
        Box::pin(async move {
            let body = body
                .await
                .map_err(|e| FailureResponse::syntax(format!("body unreadable: {e}")))?;
            let headers = KEPT_HEADERS
                .iter()
                .filter_map(|name| {
                    let value = request.headers().get(*name)?.to_str().ok()?;
                    Some(((*name).to_owned(), value.to_owned()))
                })
                .collect::<BTreeMap<_, _>>();
            let (party, refused) = match authenticate(&request, &body) {
                Ok(party) => (party, None),
                Err(refused) => ("unverified".to_owned(), Some(refused)),
            };
            let message = Self::kept(body, party, request.path(), headers);
            match refused {
                None => Ok(message),
                Some(refused) => Err(keep_if_unverified(&request, &message, refused).await),
            }
        })
    }
}

/// A completion refused for its signature is kept (bounded) before the 401 goes out; the
/// answer is 503 instead when it cannot be kept, so that Electrum sends it again.
async fn keep_if_unverified(
    request: &HttpRequest,
    message: &SchemeMessage,
    refused: FailureResponse,
) -> FailureResponse {
    let signing = request
        .app_data::<web::Data<Option<Arc<KeyRing>>>>()
        .is_some_and(|ring| ring.is_some());
    let payshap = request.app_data::<web::Data<super::service::PayShapService>>();
    let (true, true, Some(payshap)) = (
        refused.status == actix_web::http::StatusCode::UNAUTHORIZED && signing,
        message.endpoint == COMPLETION_PATH,
        payshap,
    ) else {
        return refused;
    };
    let request_id = request
        .extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(ToString::to_string)
        .unwrap_or_default();
    match super::unverified::keep(payshap, message, &request_id, &refused.detail).await {
        Ok(()) => refused,
        Err(unavailable) => unavailable,
    }
}

fn authenticate(request: &HttpRequest, body: &[u8]) -> Result<String, FailureResponse> {
    let ring = request
        .app_data::<web::Data<Option<Arc<KeyRing>>>>()
        .ok_or_else(|| FailureResponse::unavailable("no signing settings", &"missing"))?;
    let basic = request.extensions().get::<Party>().cloned();
    let Some(keys) = ring.as_ref().as_ref().map(|ring| ring.current()) else {
        let party = basic.ok_or_else(|| FailureResponse::unauthentic("credentials required"))?;
        party.require(&[Role::Scheme])?;
        return Ok(party.label("scheme").to_owned());
    };
    let token = request
        .headers()
        .get(signing::HEADER)
        .and_then(|v| v.to_str().ok());
    if let Err(refusal) = keys.verify(token, body, chrono::Utc::now().timestamp()) {
        metrics::counter!("qrswitch_payshap_signature_refused_total", "reason" => refusal.as_str())
            .increment(1);
        tracing::warn!(path = request.path(), %refusal, "PayShap message signature refused");
        return Err(FailureResponse::unauthentic(refusal.to_string()));
    }
    match basic {
        Some(party) => {
            party.require(&[Role::Scheme])?;
            Ok(party.label(&keys.scheme_party).to_owned())
        }
        None => Ok(keys.scheme_party.clone()),
    }
}

/// Signs every answer on a PayShap path when signing is configured, whichever layer made it
/// (the handler, admission control, the body deadline, HTTP Basic): errors and the empty
/// 202 of a completion too, as Electrum signs and expects every message. It is the outermost
/// layer, so nothing answers after it.
pub async fn sign_responses(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let keys = is_signed_path(request.path())
        .then(|| {
            request
                .app_data::<web::Data<Option<Arc<KeyRing>>>>()
                .and_then(|ring| ring.as_ref().as_ref().map(|ring| ring.current()))
        })
        .flatten();
    let response = next.call(request).await?;
    let Some(keys) = keys else {
        return Ok(response.map_into_boxed_body());
    };
    let (request, response) = response.into_parts();
    let (mut head, payload) = response.into_parts();
    let bytes = body::to_bytes(payload)
        .await
        .map_err(|_| actix_web::error::ErrorInternalServerError("response body unreadable"))?;
    let token = keys.signer.sign(&bytes).map_err(|e| {
        tracing::error!(error = %e, "cannot sign a PayShap response");
        actix_web::error::ErrorInternalServerError("cannot sign the response")
    })?;
    let value = HeaderValue::from_str(&token)
        .map_err(|_| actix_web::error::ErrorInternalServerError("unsignable response"))?;
    head.headers_mut()
        .insert(HeaderName::from_static(signing::HEADER), value);
    let response = head.set_body(bytes).map_into_boxed_body();
    Ok(ServiceResponse::new(request, response))
}
