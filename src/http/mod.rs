//! The HTTP surface. Handlers are thin: parse, run a command or query, map the result.

mod error;
mod health;

use actix_web::web;
use tracing_actix_web::TracingLogger;

pub use error::ApiError;

use crate::app::App;

pub fn configure(cfg: &mut web::ServiceConfig, app: web::Data<App>) {
    let body_limit_bytes = app.config.server.body_limit_bytes;
    let statement_max_bytes = app.config.backoffice.statement_max_bytes;
    cfg.app_data(app)
        .app_data(web::PayloadConfig::new(body_limit_bytes))
        .app_data(
            web::JsonConfig::default()
                .limit(body_limit_bytes)
                .error_handler(|error, _request| ApiError::bad_request(error.to_string()).into()),
        )
        .service(
            web::scope("")
                .wrap(actix_web::middleware::from_fn(
                    crate::security::authenticate::authenticate,
                ))
                .wrap(TracingLogger::default())
                .route("/health", web::get().to(health::health))
                .route("/ready", web::get().to(health::ready))
                .route("/metrics", web::get().to(health::metrics))
                .configure(|cfg| crate::qr_api::configure(cfg, body_limit_bytes))
                .configure(crate::ops::configure)
                .configure(crate::payshap::configure)
                .configure(|cfg| crate::backoffice::configure(cfg, statement_max_bytes))
                .default_service(web::to(|| async { ApiError::not_found() })),
        );
}
