//! HTTP Basic authentication of every request but the probes (`/health`, `/ready`) and the
//! API document (`/openapi.json`, `/docs`).
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
use crate::payshap::keys::KeyRing;
use crate::qr_api::wire::ErrorType;
use crate::qr_api::QrApiError;
use crate::security::credentials::Credentials;
use crate::security::credentials::Verdict;
use crate::security::limiter::FailureLimiter;
use crate::security::party::Party;
use crate::security::session::{self, Login, Sessions};

/// The console's pages, its open ones, and its JSON API (Basic credentials only).
const CONSOLE: &str = "/backoffice";
const CONSOLE_API: &str = "/backoffice/api";
const CONSOLE_LOGIN: &str = "/backoffice/login";
const CONSOLE_STATIC: &str = "/backoffice/static/";

/// Paths that answer without credentials: load balancers probe them, and browsers ask for
/// an icon on every page (there is none: 404, not a challenge).
fn is_probe(path: &str) -> bool {
    path == "/health"
        || path == "/ready"
        || path == "/favicon.ico"
        || crate::openapi::is_public(path)
}

pub async fn authenticate(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let (Some(credentials), Some(failures), Some(keys)) = (
        request.app_data::<web::Data<Credentials>>().cloned(),
        request.app_data::<web::Data<FailureLimiter>>().cloned(),
        request
            .app_data::<web::Data<Option<Arc<KeyRing>>>>()
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
    if let Some(outcome) = console_login(&request) {
        return match outcome {
            ConsoleLogin::Public => next.call(request).await,
            ConsoleLogin::Valid(party, login) => {
                request.extensions_mut().insert(party);
                request.extensions_mut().insert(login);
                next.call(request).await
            }
            // A browser is sent to the form; a script is challenged as everywhere else.
            ConsoleLogin::Missing if wants_html(&request) => return Ok(to_login(request)),
            ConsoleLogin::Missing => return Ok(refuse(request, StatusCode::UNAUTHORIZED)),
        }
        .map(ServiceResponse::map_into_left_body);
    }
    if signed_alone(&request, &keys) {
        // The message signature authenticates it: the handler refuses it unless it verifies.
        return next
            .call(request)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    match basic_party(&request, &credentials, &failures) {
        Ok(party) => {
            request.extensions_mut().insert(party);
            next.call(request)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        Err(status) => Ok(refuse(request, status)),
    }
}

/// A PayShap message sent with its signature and no HTTP Basic, where the keys allow it.
fn signed_alone(request: &ServiceRequest, keys: &Option<Arc<KeyRing>>) -> bool {
    crate::payshap::inbound::is_signed_path(request.path())
        && keys.as_ref().is_some_and(|keys| !keys.require_basic())
        && !request.headers().contains_key(header::AUTHORIZATION)
}

/// The party HTTP Basic proves, or the status that refuses the request.
fn basic_party(
    request: &ServiceRequest,
    credentials: &Credentials,
    failures: &FailureLimiter,
) -> Result<Party, StatusCode> {
    let source = request.peer_addr().map(|a| a.ip());
    if source.is_some_and(|source| failures.blocked(source)) {
        return Err(StatusCode::TOO_MANY_REQUESTS);
    }
    let verdict = basic_credentials(request)
        .map(|(user, password)| (credentials.verify(&user, &password), user));
    match verdict {
        Some((Verdict::Valid(role), user)) => Ok(Party::Authenticated { user, role }),
        Some((Verdict::Invalid, _)) => {
            // Only a wrong password counts towards the block: a request without credentials
            // (a browser's first try, its favicon) guesses nothing, and counting it would let
            // anyone behind the same address lock its users out.
            if let Some(source) = source {
                failures.record_failure(source);
            }
            tracing::warn!(path = request.path(), "authentication failed");
            Err(StatusCode::UNAUTHORIZED)
        }
        None => {
            tracing::debug!(path = request.path(), "no credentials");
            Err(StatusCode::UNAUTHORIZED)
        }
    }
}

/// How a console page request stands without HTTP Basic credentials.
enum ConsoleLogin {
    /// The login form and the stylesheet: open to all.
    Public,
    /// A login cookie of a user still configured.
    Valid(Party, Login),
    /// No login: the browser is sent to the form.
    Missing,
}

/// `None` unless this is a console page asked without an `Authorization` header (callers
/// that send Basic credentials, scripts and tests, are checked as on every other surface).
fn console_login(request: &ServiceRequest) -> Option<ConsoleLogin> {
    let path = request.path();
    let is_page = path.starts_with(CONSOLE) && !path.starts_with(CONSOLE_API);
    if !is_page || request.headers().contains_key(header::AUTHORIZATION) {
        return None;
    }
    if path == CONSOLE_LOGIN || path.starts_with(CONSOLE_STATIC) {
        return Some(ConsoleLogin::Public);
    }
    let sessions = request.app_data::<web::Data<Sessions>>()?;
    let credentials = request.app_data::<web::Data<Credentials>>()?;
    let login = request
        .cookie(session::COOKIE)
        .and_then(|cookie| sessions.read(cookie));
    Some(
        match login.and_then(|l| credentials.role_of(&l.user).map(|role| (l, role))) {
            Some((login, role)) => ConsoleLogin::Valid(
                Party::Authenticated {
                    user: login.user.clone(),
                    role,
                },
                login,
            ),
            None => ConsoleLogin::Missing,
        },
    )
}

/// Whether the caller is a browser navigating (it asks for HTML).
fn wants_html(request: &ServiceRequest) -> bool {
    request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// 303 to the login form, which comes back here after.
fn to_login<B>(request: ServiceRequest) -> ServiceResponse<EitherBody<B>> {
    let (request, _) = request.into_parts();
    let back = match request.method() {
        &actix_web::http::Method::GET => request.uri().path_and_query().map(|p| p.as_str()),
        _ => None,
    }
    .unwrap_or(CONSOLE);
    let query = serde_urlencoded::to_string([("next", back)]).unwrap_or_default();
    let location = format!("{CONSOLE_LOGIN}?{query}");
    let response = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish();
    ServiceResponse::new(request, response).map_into_right_body()
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
    } else if crate::payshap::inbound::is_signed_path(request.path()) {
        // Electrum's shape, `{message, detail}`; the outermost layer signs it.
        use crate::payshap::wire::FailureResponse;
        match status {
            StatusCode::TOO_MANY_REQUESTS => FailureResponse::too_many(),
            _ => FailureResponse::unauthentic("authentication required"),
        }
        .error_response()
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
