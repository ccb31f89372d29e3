//! The operator console at `/backoffice/`: where finance, ops and auditors work. Pages are
//! rendered on the server (maud), styled by one stylesheet and need no script.
//!
//! - [`login`]: signing in with a form (a login cookie) or sending HTTP Basic credentials.
//! - [`html`]: the document and headers of every answer; [`error`]: the console's error
//!   type; [`context`]: the request's reader, CSRF token and notice; [`layout`]: the frame
//!   and navigation; [`forms`]: the CSRF check, the confirmation step of every action, the
//!   notice after it.
//! - [`dashboard`] with [`day_tables`] and [`charts`]: a business day at a glance.
//! - [`search`] and [`payment`]: finding any payment and reading its story.
//! - [`transfers`]: PayShap credit transfers.
//! - [`queue`]: the store-and-forward queue, and ops' retry, park and unpark.
//! - [`proxies`]: the PayShap proxy registry, and ops' register, change and retire.
//! - [`files`]: partner settlement files, uploaded by finance.
//!
//! Every page needs a role that reads the books (403 otherwise); each action names the role
//! it needs, is confirmed first, and is recorded as an event naming who did it.

pub mod charts;
pub mod context;
pub mod dashboard;
pub mod day_tables;
pub mod error;
pub mod files;
pub mod forms;
pub mod held;
pub mod html;
pub mod layout;
pub mod login;
pub mod payment;
pub mod proxies;
pub mod qr;
pub mod queue;
pub mod search;
pub mod transfers;

use actix_web::{web, HttpResponse};

pub fn configure(cfg: &mut web::ServiceConfig, statement_max_bytes: usize) {
    // The confirmed upload carries the file again, base64 (4 bytes per 3), in a form.
    let confirmed_upload_bytes = statement_max_bytes / 3 * 4 + 64 * 1024;
    cfg.route("/backoffice/", web::get().to(dashboard::page))
        .route(
            "/backoffice",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header(("location", "/backoffice/"))
                    .finish()
            }),
        )
        .route(html::STYLESHEET_PATH, web::get().to(stylesheet))
        .route("/backoffice/login", web::get().to(login::show))
        .route("/backoffice/login", web::post().to(login::sign_in))
        .route("/backoffice/logout", web::post().to(login::sign_out))
        .route("/backoffice/payments", web::get().to(search::page))
        .route(
            "/backoffice/payments/{tran_id}",
            web::get().to(payment::page),
        )
        .route("/backoffice/transfers", web::get().to(transfers::page))
        .route("/backoffice/transfers", web::post().to(transfers::by_proxy))
        .route(
            "/backoffice/transfers/{uetr}",
            web::get().to(transfers::detail),
        )
        .route("/backoffice/queue", web::get().to(queue::page))
        .route(
            "/backoffice/queue/{delivery_id}/{action}",
            web::post().to(queue::act),
        )
        .route("/backoffice/proxies", web::get().to(proxies::page))
        .route("/backoffice/proxies/{action}", web::post().to(proxies::act))
        .route("/backoffice/extracts", web::get().to(dashboard::extracts))
        .route("/backoffice/qr", web::get().to(qr::page))
        .route("/backoffice/qr", web::post().to(qr::check))
        .route("/backoffice/files", web::get().to(files::page))
        .route("/backoffice/files", web::post().to(files::check))
        .service(
            web::resource("/backoffice/files/import")
                .app_data(web::FormConfig::default().limit(confirmed_upload_bytes))
                .app_data(web::PayloadConfig::new(confirmed_upload_bytes))
                .route(web::post().to(files::confirm_import)),
        );
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("cache-control", "public, max-age=3600"))
        .body(html::STYLESHEET)
}
