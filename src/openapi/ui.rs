//! `/docs`: Swagger UI over `/openapi.json`, from the copy vendored under `vendor/swagger-ui`
//! (no network at build or run time). The page's one script of ours is a file, not inline,
//! so that a strict content security policy holds.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

/// Where the UI's assets are served.
pub const ASSETS: &str = "/docs/assets/";

const PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>qrswitch API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="api"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/start.js"></script>
</body>
</html>
"##;

/// Points the UI at our document; no validator badge (it would call out to the network).
const START: &str = r##"window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#api",
  validatorUrl: null,
  deepLinking: true
});
"##;

const BUNDLE: &str = include_str!("../../vendor/swagger-ui/swagger-ui-bundle.js");
const STYLES: &str = include_str!("../../vendor/swagger-ui/swagger-ui.css");

/// The UI changes only with a new build: a day in caches.
const CACHE_FOR: &str = "public, max-age=86400";

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, CACHE_FOR))
        .insert_header(("x-content-type-options", "nosniff"))
        .body(body)
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/docs",
        web::get().to(|| async {
            HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .insert_header((
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
                ))
                .body(PAGE)
        }),
    )
    .route(
        "/docs/assets/swagger-ui-bundle.js",
        web::get().to(|| async { asset("text/javascript", BUNDLE) }),
    )
    .route(
        "/docs/assets/swagger-ui.css",
        web::get().to(|| async { asset("text/css", STYLES) }),
    )
    .route(
        "/docs/assets/start.js",
        web::get().to(|| async { asset("text/javascript", START) }),
    );
}
