//! How the console's actions are posted: every form carries the caller's CSRF token, and
//! every action is asked twice, first as a confirmation page that says what will happen,
//! then, with `confirmed=yes`, done.

use std::collections::HashMap;

use std::time::Duration;

use actix_web::HttpResponse;
use maud::{html, Markup};

use super::context::notice_cookie;
pub use super::context::{Csrf, Notice, Viewer};
use super::layout::{self, ConsoleError, Section};
use crate::security::session::csrf_matches;
use crate::security::Party;
use crate::views::Projectors;

/// A posted form: its fields by name.
pub type Fields = HashMap<String, String>;

/// Whether the form came from one of our pages for this caller: 403 otherwise, and nothing
/// is done.
pub fn check(csrf: &Csrf, fields: &Fields) -> Result<(), ConsoleError> {
    let submitted = fields.get("csrf").map(String::as_str).unwrap_or_default();
    if csrf_matches(&csrf.0, submitted) {
        Ok(())
    } else {
        Err(ConsoleError::new(
            actix_web::http::StatusCode::FORBIDDEN,
            "This form is not from your console session (or it expired). Reload the page \
             and try again; nothing was changed.",
        ))
    }
}

/// Whether this post is the confirmed one.
pub fn confirmed(fields: &Fields) -> bool {
    fields.get("confirmed").map(String::as_str) == Some("yes")
}

/// A field, trimmed; empty counts as absent.
pub fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// The `page` a listing asks for, from 1; 400 for anything else.
pub fn page_number(fields: &Fields) -> Result<i64, ConsoleError> {
    match field(fields, "page") {
        None => Ok(1),
        Some(text) => text.parse::<i64>().ok().filter(|p| *p >= 1).ok_or_else(|| {
            ConsoleError::bad_request(format!("page {text:?} is not a page number"))
        }),
    }
}

/// What a confirmation page shows and where its button posts.
pub struct Confirmation<'a> {
    pub title: &'a str,
    pub section: Section,
    pub summary: Markup,
    pub action: &'a str,
    pub button: &'a str,
    /// The fields to post again (the CSRF token and `confirmed` are added).
    pub fields: &'a Fields,
    pub cancel: &'a str,
}

/// The confirmation step of an action.
pub fn confirm(party: &Party, csrf: &Csrf, c: Confirmation<'_>) -> HttpResponse {
    let mut names: Vec<&String> = c
        .fields
        .keys()
        .filter(|k| k.as_str() != "csrf" && k.as_str() != "confirmed")
        .collect();
    names.sort();
    let body = html! {
        section.panel.confirm {
            h1 { (c.title) }
            (c.summary)
            form method="post" action=(c.action) {
                input type="hidden" name="csrf" value=(csrf.0);
                input type="hidden" name="confirmed" value="yes";
                @for name in names {
                    input type="hidden" name=(name) value=(c.fields[name]);
                }
                div.actions {
                    button #confirm type="submit" { (c.button) }
                    a.button.secondary href=(c.cancel) { "Cancel" }
                }
            }
        }
    };
    let viewer = Viewer {
        party: party.clone(),
        csrf: csrf.clone(),
        notice: Notice::default(),
    };
    layout::page(c.title, &viewer, c.section, body)
}

/// After an action: back to `to`, with `notice` shown there once.
pub fn done(to: &str, notice: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("location", to))
        .cookie(notice_cookie(notice))
        .finish()
}

/// After an action, brings the view the next page reads past it, so that the page shows
/// what was just done. A view that cannot catch up now only shows it a moment later.
pub async fn catch_up(projectors: &Projectors, name: &str) {
    if let Some(projector) = projectors.get(name) {
        let limit = Duration::from_millis(crate::views::CATCH_UP_LIMIT_MS);
        if let Err(error) = projector.catch_up_to_head(limit).await {
            tracing::warn!(projection = name, %error, "a view is behind after a console action");
        }
    }
}
