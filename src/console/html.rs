//! The HTML every console answer shares: the document around a page's body (the one
//! stylesheet, the viewport for phones) and the headers of every page (never cached, never
//! framed).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use maud::{html, Markup, DOCTYPE};

pub const STYLESHEET: &str = include_str!("console.css");
pub const STYLESHEET_PATH: &str = "/backoffice/static/console.css";

/// A whole document titled `title` around `body`.
pub fn document(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — qrswitch" }
                link rel="stylesheet" href=(STYLESHEET_PATH);
            }
            body { (body) }
        }
    }
}

pub fn respond(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .insert_header(("x-frame-options", "DENY"))
        .insert_header(("referrer-policy", "same-origin"))
        .body(markup.into_string())
}
