//! Signing in and out of the console. The form checks the same users and passwords as HTTP
//! Basic, counts failures against the same per-address limit, and on success sets the login
//! cookie ([`crate::security::session`]).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;
use serde::Deserialize;

use super::error::ConsoleError;
use super::forms::{self, Csrf, Fields};
use super::html;
use crate::security::credentials::{Credentials, Verdict};
use crate::security::limiter::FailureLimiter;
use crate::security::session::Sessions;

#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Where to go after signing in: only a console page of ours, never another site.
fn next_page(next: Option<&str>) -> &str {
    next.filter(|n| n.starts_with("/backoffice") && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or("/backoffice/")
}

fn form(status: StatusCode, next: &str, failed: bool) -> HttpResponse {
    let body = html! {
        main {
            section.panel.confirm {
                h1 { "Sign in to the qrswitch console" }
                @if failed {
                    p.error role="alert" { "That user name and password do not match." }
                }
                form method="post" action="/backoffice/login" {
                    input type="hidden" name="next" value=(next);
                    p { label { "User name" input #username type="text" name="username"
                        autocomplete="username" required; } }
                    p { label { "Password" input #password type="password" name="password"
                        autocomplete="current-password" required; } }
                    button #sign-in type="submit" { "Sign in" }
                }
            }
        }
    };
    html::respond(status, html::document("Sign in", body))
}

pub async fn show(query: web::Query<Next>) -> HttpResponse {
    form(StatusCode::OK, next_page(query.next.as_deref()), false)
}

pub async fn sign_in(
    request: HttpRequest,
    credentials: web::Data<Credentials>,
    failures: web::Data<FailureLimiter>,
    sessions: web::Data<Sessions>,
    fields: web::Form<Fields>,
) -> Result<HttpResponse, ConsoleError> {
    let next = next_page(fields.get("next").map(String::as_str)).to_owned();
    let source = request.peer_addr().map(|a| a.ip());
    if source.is_some_and(|s| failures.blocked(s)) {
        return Err(ConsoleError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed sign-ins from this address; wait a minute and try again.",
        ));
    }
    let user = forms::field(&fields, "username").unwrap_or_default();
    let password = fields
        .get("password")
        .map(String::as_str)
        .unwrap_or_default();
    match credentials.verify(user, password) {
        Verdict::Valid(_) => Ok(HttpResponse::SeeOther()
            .cookie(sessions.issue(user))
            .insert_header(("location", next))
            .finish()),
        Verdict::Invalid => {
            if let Some(source) = source {
                failures.record_failure(source);
            }
            tracing::warn!("console sign-in failed");
            Ok(form(StatusCode::UNAUTHORIZED, &next, true))
        }
    }
}

pub async fn sign_out(
    sessions: web::Data<Sessions>,
    csrf: Csrf,
    fields: web::Form<Fields>,
) -> Result<HttpResponse, ConsoleError> {
    forms::check(&csrf, &fields)?;
    Ok(HttpResponse::SeeOther()
        .cookie(sessions.clear())
        .insert_header(("location", "/backoffice/login"))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::next_page;

    #[test]
    fn only_console_pages_are_followed_after_sign_in() {
        assert_eq!(next_page(Some("/backoffice/queue")), "/backoffice/queue");
        assert_eq!(next_page(Some("https://evil.example/")), "/backoffice/");
        assert_eq!(next_page(Some("//evil.example/")), "/backoffice/");
        assert_eq!(next_page(None), "/backoffice/");
    }
}
