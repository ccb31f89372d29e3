//! What a console request carries: its reader ([`Viewer`]: a party that may read the books),
//! the CSRF token its forms must return, and the notice the previous action left for it.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};

use super::error::ConsoleError;
use crate::security::session::{Login, Sessions, COOKIE_PATH};
use crate::security::{Party, Role};

/// Who may open any console page: the roles that read the books.
pub const READERS: &[Role] = Role::READS_BOOKS;

/// The reader of a page: a party that may read the books (403 otherwise), its CSRF token
/// and the notice left for it.
pub struct Viewer {
    pub party: Party,
    pub csrf: Csrf,
    pub notice: Notice,
}

impl FromRequest for Viewer {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let viewer = (|| {
            let party = request
                .extensions()
                .get::<Party>()
                .cloned()
                .ok_or_else(|| actix_web::error::ErrorUnauthorized("no console login"))?;
            party.require(READERS).map_err(ConsoleError::from)?;
            let csrf = Csrf::from_request(request, payload).into_inner()?;
            let notice = Notice::from_request(request, payload).into_inner()?;
            Ok(Viewer {
                party,
                csrf,
                notice,
            })
        })();
        std::future::ready(viewer)
    }
}

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

/// A connection to the views a page reads; a 500 page (with `what` in the log) if the
/// store gives none.
pub async fn views(
    store: &crate::store::Store,
    what: &str,
) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, ConsoleError> {
    store
        .views()
        .pool()
        .acquire()
        .await
        .map_err(|e| ConsoleError::internal(what, &e))
}
