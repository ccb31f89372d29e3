//! The frame every console page shares: the stylesheet, the navigation bar (only the
//! sections the caller's role may open), who is signed in, a notice after an action; and the
//! console's one error type, answered as a page.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use maud::{html, Markup, DOCTYPE};

use super::context::{Csrf, Notice};
use crate::http::ApiError;
use crate::security::party::Forbidden;
use crate::security::{Party, Role};

pub const STYLESHEET: &str = include_str!("console.css");
pub const STYLESHEET_PATH: &str = "/backoffice/static/console.css";

/// The sections of the navigation bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Dashboard,
    Payments,
    Transfers,
    Queue,
    Proxies,
    Files,
    Extracts,
}

impl Section {
    const ALL: [Section; 7] = [
        Section::Dashboard,
        Section::Payments,
        Section::Transfers,
        Section::Queue,
        Section::Proxies,
        Section::Files,
        Section::Extracts,
    ];

    fn label(self) -> &'static str {
        match self {
            Section::Dashboard => "Dashboard",
            Section::Payments => "Payments",
            Section::Transfers => "PayShap",
            Section::Queue => "SAF queue",
            Section::Proxies => "Proxies",
            Section::Files => "Partner files",
            Section::Extracts => "Extracts",
        }
    }

    fn href(self) -> &'static str {
        match self {
            Section::Dashboard => "/backoffice/",
            Section::Payments => "/backoffice/payments",
            Section::Transfers => "/backoffice/transfers",
            Section::Queue => "/backoffice/queue",
            Section::Proxies => "/backoffice/proxies",
            Section::Files => "/backoffice/files",
            Section::Extracts => "/backoffice/extracts",
        }
    }
}

/// Who may open any console page: the roles that read the books.
pub const READERS: &[Role] = Role::READS_BOOKS;

/// A whole page: `body` inside the frame.
pub fn page(
    title: &str,
    party: &Party,
    csrf: &Csrf,
    active: Section,
    notice: &Notice,
    body: Markup,
) -> HttpResponse {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — qrswitch" }
                link rel="stylesheet" href=(STYLESHEET_PATH);
            }
            body {
                (nav(party, csrf, active))
                main {
                    @if let Some(notice) = notice.0.as_deref().filter(|n| !n.is_empty()) {
                        p.notice role="status" { (notice) }
                    }
                    (body)
                }
            }
        }
    };
    let mut response = html_response(StatusCode::OK, markup);
    notice.shown(&mut response);
    response
}

fn nav(party: &Party, csrf: &Csrf, active: Section) -> Markup {
    html! {
        nav.top aria-label="Console" {
            span.brand { "qrswitch" }
            @for section in Section::ALL {
                @if section == active {
                    a href=(section.href()) aria-current="page" { (section.label()) }
                } @else {
                    a href=(section.href()) { (section.label()) }
                }
            }
            span.who {
                @match party {
                    Party::Authenticated { user, role } => {
                        span #signed-in { (user) " (" (role_name(*role)) ")" }
                        form.inline method="post" action="/backoffice/logout" {
                            input type="hidden" name="csrf" value=(csrf.0);
                            button type="submit" { "Sign out" }
                        }
                    }
                    Party::Open => span #signed-in { "open (no users configured)" },
                }
            }
        }
    }
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Retailer => "retailer",
        Role::Partner => "partner",
        Role::Scheme => "scheme",
        Role::Backoffice => "finance",
        Role::Ops => "ops",
        Role::Auditor => "auditor",
    }
}

/// Whether the caller may do what `roles` may (an open switch may do everything).
pub fn may(party: &Party, roles: &[Role]) -> bool {
    party.require(roles).is_ok()
}

fn html_response(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .insert_header(("x-frame-options", "DENY"))
        .insert_header(("referrer-policy", "same-origin"))
        .body(markup.into_string())
}

/// What went wrong, as a page with the status: 400 for bad input (nothing was changed),
/// 403 for a role that may not, 404, 409 for an action the state does not allow.
#[derive(Debug)]
pub struct ConsoleError {
    status: StatusCode,
    message: String,
}

impl ConsoleError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "There is nothing here.")
    }

    pub fn internal(context: &str, cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "{context}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on our side; the server log has the details.",
        )
    }
}

impl std::fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl From<Forbidden> for ConsoleError {
    fn from(_: Forbidden) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Your role may not open this page or do this.",
        )
    }
}

impl From<ApiError> for ConsoleError {
    fn from(error: ApiError) -> Self {
        Self::new(error.status_code(), error.message().to_owned())
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let title = self.status.canonical_reason().unwrap_or("Error").to_owned();
        let markup = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " — qrswitch" }
                    link rel="stylesheet" href=(STYLESHEET_PATH);
                }
                body {
                    main {
                        h1 { (self.status.as_u16()) " " (title) }
                        p.error role="alert" { (self.message) }
                        p { a href="/backoffice/" { "Back to the console" } }
                    }
                }
            }
        };
        html_response(self.status, markup)
    }
}

/// A money cell: right-aligned, in rand.
pub fn money_cell(minor: Option<i64>) -> Markup {
    html! {
        td.n { @if let Some(minor) = minor { (crate::backoffice::extract::money(minor)) } }
    }
}

/// A status badge.
pub fn badge(text: &str) -> Markup {
    html! { span class={ "badge " (text) } { (text) } }
}
