//! The frame every console page shares: the navigation bar, who is signed in, the notice
//! after an action; and the small pieces of the pages' tables.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use maud::{html, Markup};

use super::context::{Csrf, Viewer};
pub use super::error::ConsoleError;
use super::html;
use crate::security::{Party, Role};

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
    Qr,
}

impl Section {
    const ALL: [Section; 8] = [
        Section::Dashboard,
        Section::Payments,
        Section::Transfers,
        Section::Queue,
        Section::Proxies,
        Section::Files,
        Section::Extracts,
        Section::Qr,
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
            Section::Qr => "QR inspector",
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
            Section::Qr => "/backoffice/qr",
        }
    }
}

pub use super::context::READERS;

/// A whole page for `viewer`: `body` inside the frame, with the notice the previous action
/// left (shown once).
pub fn page(title: &str, viewer: &Viewer, active: Section, body: Markup) -> HttpResponse {
    let body = html! {
        (nav(&viewer.party, &viewer.csrf, active))
        main {
            @if let Some(notice) = viewer.notice.0.as_deref().filter(|n| !n.is_empty()) {
                p.notice role="status" { (notice) }
            }
            (body)
        }
    };
    let mut response = html::respond(StatusCode::OK, html::document(title, body));
    viewer.notice.shown(&mut response);
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
        Role::Approver => "approver",
    }
}

/// Whether the caller may do what `roles` may (an open switch may do everything).
pub fn may(party: &Party, roles: &[Role]) -> bool {
    party.require(roles).is_ok()
}

/// A money cell: right-aligned, in rand.
pub fn money_cell(minor: Option<i64>) -> Markup {
    html! {
        td.n { @if let Some(minor) = minor { (crate::backoffice::extract::money(minor)) } }
    }
}

/// A view time (`2026-12-03T10:24:32.070838Z`) as people read it: `2026-12-03 10:24:32`.
pub fn when(at: Option<&str>) -> String {
    at.map(|t| t.split('.').next().unwrap_or(t).replacen('T', " ", 1))
        .unwrap_or_default()
}

/// A long identifier's first twelve characters, for a table cell (the link and its title
/// carry the whole).
pub fn short(id: &str) -> String {
    match id.char_indices().nth(12) {
        Some((at, _)) => format!("{}…", &id[..at]),
        None => id.to_owned(),
    }
}

/// A status badge.
pub fn badge(text: &str) -> Markup {
    html! { span class={ "badge " (text) } { (text) } }
}
