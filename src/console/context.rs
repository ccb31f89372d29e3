//! What a console request carries besides its party: the CSRF token its forms must
//! return, and the notice the previous action left for it.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};

use crate::security::session::{Login, Sessions, COOKIE_PATH};
use crate::security::Party;

/// The CSRF token the caller's forms must carry.
#[derive(Debug, Clone)]
pub struct Csrf(pub String);

impl FromRequest for Csrf {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let token = match request.extensions().get::<Login>() {
            Some(login) => Some(login.csrf.clone()),
            None => {
                let party = request.extensions().get::<Party>().cloned();
                request
                    .app_data::<web::Data<Sessions>>()
                    .zip(party)
                    .map(|(sessions, party)| sessions.csrf_without_login(&party))
            }
        };
        std::future::ready(
            token
                .map(Csrf)
                .ok_or_else(|| actix_web::error::ErrorUnauthorized("no console login")),
        )
    }
}

/// The cookie that carries what was just done to the next page (a cookie rather than the
/// address, so that no link from elsewhere can make the console say something).
pub(super) const NOTICE_COOKIE: &str = "qrswitch_notice";

/// What the previous action left to say, if anything.
#[derive(Debug, Clone, Default)]
pub struct Notice(pub Option<String>);

impl FromRequest for Notice {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let text = request.cookie(NOTICE_COOKIE).and_then(|cookie| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(cookie.value())
                .ok()
                .and_then(|pairs| pairs.into_iter().next().map(|(_, text)| text))
        });
        std::future::ready(Ok(Notice(text)))
    }
}

impl Notice {
    /// Shown once: the response that shows it removes the cookie.
    pub fn shown(&self, response: &mut HttpResponse) {
        if self.0.is_some() {
            let mut removal = Cookie::build(NOTICE_COOKIE, "").path(COOKIE_PATH).finish();
            removal.make_removal();
            let _ = response.add_cookie(&removal);
        }
    }
}

/// The cookie that makes `notice` show on the next page.
pub(super) fn notice_cookie(notice: &str) -> Cookie<'static> {
    let value = serde_urlencoded::to_string([("n", notice)]).unwrap_or_default();
    Cookie::build(NOTICE_COOKIE, value)
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish()
}
