//! The API document (OpenAPI 3.1) of every surface we own, generated from the handlers'
//! own annotations and types so that it cannot drift from them, served at `/openapi.json`,
//! and browsable at `/docs` ([`ui`], assets vendored). `/qr/v1` keeps Electrum's published
//! contract, which the document links to rather than restates. The examples are the
//! messages under `examples/api/`, which the tests send ([`examples`]).

mod examples;
mod ui;

use std::sync::LazyLock;

use actix_web::{web, HttpResponse};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::audit::api as audit;
use crate::backoffice::{api as finance, markoff};
use crate::http::health;
use crate::payshap::{
    admin as proxies, authorise, cases_api, completion, ops as payshap_ops, recon_api, refunds,
    resolve,
};

/// Where the `/qr/v1` surface is specified: Electrum's QR Payment Service Interface.
pub const QR_CONTRACT_URL: &str =
    "https://electrumpayments.github.io/qr-payment-service-interface-docs/";

/// The path the finance API publishes the audit digest under as well.
const DIGEST_BESIDE_REPORTS: &str = "/backoffice/api/days/{day}/digest";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "qrswitch",
        description = "Event-sourced QR payment switch: PayShap inbound, the proxy registry, the \
            finance API, the audit trail, store-and-forward operations and health. The retailer \
            and partner surface, `/qr/v1`, is Electrum's QR Payment Service Interface as \
            published (see externalDocs).",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    external_docs(
        url = "https://electrumpayments.github.io/qr-payment-service-interface-docs/",
        description = "/qr/v1: Electrum QR Payment Service Interface"
    ),
    paths(
        health::health, health::ready, health::metrics,
        resolve::identifier_determination, completion::credit_transfer_completion,
        authorise::credit_transfer_authorisation, refunds::outbound_result,
        cases_api::cases, cases_api::close, cases_api::ask, cases_api::approvals,
        cases_api::approve, cases_api::reject, cases_api::refunds, cases_api::retry_refund,
        recon_api::run, recon_api::differences,
        proxies::register, proxies::show, proxies::change, proxies::retire,
        finance::fee_terms, finance::report, finance::settlement_extract,
        finance::exceptions_extract, finance::matching_extract, finance::markoff_extract,
        finance::import_statement, markoff::extract,
        audit::payment_events, audit::stream_events, audit::feed, audit::day_digest,
        audit::day_events,
        crate::ops::list, crate::ops::act,
        payshap_ops::reload_keys, payshap_ops::authorisations, cases_api::close_held,
        crate::tools_api::inspect,
    ),
    components(schemas(crate::http::error::ErrorBody, crate::payshap::wire::FailureBody)),
    modifiers(&Security),
    security(("basic" = [])),
    tags(
        (name = "payshap", description = "PayShap inbound from the sponsor bank, signed as Electrum signs."),
        (name = "proxies", description = "The proxy registry PayShap resolves against (ops)."),
        (name = "finance", description = "Reports, settlement, exceptions, matching and extracts of a business day."),
        (name = "audit", description = "Every event as stored, read-only."),
        (name = "ops", description = "The store-and-forward queue of advices to partners."),
        (name = "tools", description = "Reading any QR payload against the EMV rules and the contract's schemes."),
        (name = "health", description = "Probes for load balancers, and metrics."),
    ),
)]
struct ApiDoc;

/// HTTP Basic on every operation unless it says otherwise; PayShap messages carry the
/// scheme's signature as well.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
        components.add_security_scheme(
            "schemeSignature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "x-jwt-signature",
                "ES256 JWS with the body's SHA-256, by the scheme's key",
            ))),
        );
    }
}

/// The document, built once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(|| {
        let mut document = ApiDoc::openapi();
        publish_digest_beside_reports(&mut document);
        examples::attach(&mut document);
        document
    });
    &DOCUMENT
}

/// `GET /backoffice/api/days/{day}/digest` is the audit digest's handler under a second
/// path; it is documented as such, with an operation id of its own.
fn publish_digest_beside_reports(document: &mut utoipa::openapi::OpenApi) {
    let Some(mut item) = document
        .paths
        .paths
        .get("/audit/days/{day}/digest")
        .cloned()
    else {
        return;
    };
    if let Some(operation) = item.get.as_mut() {
        operation.operation_id = Some("day_digest_beside_reports".to_owned());
        operation.tags = Some(vec!["finance".to_owned()]);
    }
    document
        .paths
        .paths
        .insert(DIGEST_BESIDE_REPORTS.to_owned(), item);
}

async fn openapi_json() -> HttpResponse {
    static TEXT: LazyLock<String> = LazyLock::new(|| {
        document()
            .to_pretty_json()
            .expect("the API document serialises")
    });
    HttpResponse::Ok()
        .content_type("application/json")
        .body(TEXT.as_str())
}

/// `/openapi.json` and `/docs`, open like the probes: the document holds no secret, and an
/// integrating partner reads it before it has credentials.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(openapi_json));
    ui::configure(cfg);
}

/// Whether `path` is one of the document's own, which answer without credentials.
pub fn is_public(path: &str) -> bool {
    path == "/openapi.json" || path == "/docs" || path.starts_with(ui::ASSETS)
}
