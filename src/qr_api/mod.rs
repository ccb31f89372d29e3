//! Electrum's QR Payment Service Interface (`/qr/v1`), as the intermediate system: retailers'
//! POSes create QR codes and pay; partners notify scans.
//!
//! - [`wire`]: the contract's messages (`crate::qr_wire`, which the services below the
//!   surface use too).
//! - [`parse`]: from messages to domain values.
//! - [`error`]: the surface's one error type (`ErrorDetail`).
//! - [`handlers`]: thin handlers for createQrCode, notifyScan and the QR images.
//! - [`pay`]: the POS's payment request, answered with the outcome.
//! - [`advices`]: confirmation and reversal advices (store-and-forward).
//! - [`issue`]: a QR code's amount, expiry, short code and payload.
//! - [`image`]: PNG and SVG renderings of a QR for the pin entry device.

pub mod advices;
pub mod error;
pub mod handlers;
pub mod image;
pub mod issue;
pub mod parse;
pub mod pay;

pub use crate::qr_wire as wire;

use actix_web::web;

pub use error::QrApiError;

/// Mounts `/qr/v1`. Its bodies that fail to parse answer with an `ErrorDetail`.
pub fn configure(cfg: &mut web::ServiceConfig, body_limit_bytes: usize) {
    cfg.service(
        web::scope("/qr/v1")
            .app_data(
                web::JsonConfig::default()
                    .limit(body_limit_bytes)
                    .error_handler(|error, _request| {
                        let status = match &error {
                            actix_web::error::JsonPayloadError::Overflow { .. }
                            | actix_web::error::JsonPayloadError::OverflowKnownLength { .. } => {
                                actix_web::http::StatusCode::PAYLOAD_TOO_LARGE
                            }
                            _ => actix_web::http::StatusCode::BAD_REQUEST,
                        };
                        let mut answer = QrApiError::format("body is not a valid JSON message")
                            .with_detail(serde_json::json!({ "reason": error.to_string() }));
                        answer.status = status;
                        answer.into()
                    }),
            )
            .route("/qrCodes", web::post().to(handlers::create_qr_code))
            .route(
                "/qrCodes/{tran_id}/image.png",
                web::get().to(handlers::qr_png),
            )
            .route(
                "/qrCodes/{tran_id}/image.svg",
                web::get().to(handlers::qr_svg),
            )
            .route("/scans", web::post().to(handlers::notify_scan))
            .route("/payments", web::post().to(pay::pay))
            .route("/payments/confirmations", web::post().to(advices::confirm))
            .route("/payments/reversals", web::post().to(advices::reverse)),
    );
}
