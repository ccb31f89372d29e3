//! Console logins: after a form login, the browser holds one cookie, encrypted and
//! authenticated with the sessions key (the `cookie` crate's private jar, AES-256-GCM),
//! that names the user, when the login ends, and the login's CSRF token. Nothing is kept
//! on the server, so any instance that shares the key serves any login.
//!
//! Every form the console posts carries a CSRF token: the login's own, or, for a caller
//! that sent HTTP Basic credentials instead, an HMAC of its user name under the same key.

use actix_web::cookie::{time, Cookie, CookieJar, Key, SameSite};
use base64::Engine;
use chrono::Utc;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::party::Party;
use crate::config::SecurityConfig;

/// The cookie's name.
pub const COOKIE: &str = "qrswitch_console";
/// The cookie is sent only to the console's pages.
pub const COOKIE_PATH: &str = "/backoffice";
/// The shortest key file accepted: `Key::derive_from` needs 32 bytes; 64 is what it is made
/// for.
const MIN_KEY_BYTES: usize = 64;
/// The name sealed values are made under (it is part of what is authenticated).
const SEALED: &str = "qrswitch_sealed";

/// What the cookie carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    #[serde(rename = "u")]
    pub user: String,
    /// Unix seconds at which the login ends.
    #[serde(rename = "e")]
    pub expires: i64,
    #[serde(rename = "c")]
    pub csrf: String,
}

pub struct Sessions {
    key: Key,
    lifetime_s: i64,
    /// Marks the cookie `Secure`: set when we serve TLS.
    secure: bool,
}

impl Sessions {
    pub fn new(config: &SecurityConfig, secure: bool) -> Result<Self, String> {
        let key = match &config.console_session_key_path {
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|e| {
                    format!(
                        "cannot read console_session_key_path {}: {e}",
                        path.display()
                    )
                })?;
                if bytes.len() < MIN_KEY_BYTES {
                    return Err(format!(
                        "console_session_key_path {} holds {} bytes; give at least \
                         {MIN_KEY_BYTES} random bytes",
                        path.display(),
                        bytes.len()
                    ));
                }
                Key::derive_from(&bytes)
            }
            None => Key::generate(),
        };
        let lifetime_s = i64::try_from(config.console_session_ms / 1_000).unwrap_or(i64::MAX);
        Ok(Self {
            key,
            lifetime_s,
            secure,
        })
    }

    /// A new login for `user`, as the cookie to set.
    pub fn issue(&self, user: &str) -> Cookie<'static> {
        let mut csrf = [0u8; 24];
        rand::rng().fill_bytes(&mut csrf);
        let login = Login {
            user: user.to_owned(),
            expires: Utc::now().timestamp() + self.lifetime_s,
            csrf: encode(&csrf),
        };
        let value = serde_json::to_string(&login).unwrap_or_default();
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key)
            .add(self.shape(Cookie::new(COOKIE, value)));
        let mut cookie = jar
            .get(COOKIE)
            .cloned()
            .unwrap_or_else(|| Cookie::new(COOKIE, ""));
        cookie.set_max_age(time::Duration::seconds(self.lifetime_s));
        cookie
    }

    /// The login a cookie value stands for, if it was made with our key and has not ended.
    pub fn read(&self, cookie: Cookie<'static>) -> Option<Login> {
        let mut jar = CookieJar::new();
        jar.add_original(cookie);
        let value = jar.private(&self.key).get(COOKIE)?;
        let login: Login = serde_json::from_str(value.value()).ok()?;
        (login.expires > Utc::now().timestamp()).then_some(login)
    }

    /// The cookie that ends a login in the browser.
    pub fn clear(&self) -> Cookie<'static> {
        let mut cookie = self.shape(Cookie::new(COOKIE, ""));
        cookie.make_removal();
        cookie
    }

    /// The CSRF token of a caller without a login cookie (HTTP Basic, or the open mode of a
    /// switch without users): stable per user, unguessable without the key.
    pub fn csrf_without_login(&self, party: &Party) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.signing())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"console-csrf\0");
        mac.update(party.user().unwrap_or("").as_bytes());
        encode(&mac.finalize().into_bytes())
    }

    /// `text` sealed (encrypted and authenticated) under the key, for a page to carry an
    /// identifier it must not show, such as a proxy that holds an MSISDN.
    pub fn seal(&self, text: &str) -> String {
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key)
            .add(Cookie::new(SEALED, text.to_owned()));
        jar.get(SEALED)
            .map(|c| c.value().to_owned())
            .unwrap_or_default()
    }

    /// What [`Self::seal`] sealed, if `sealed` came from it.
    pub fn unseal(&self, sealed: &str) -> Option<String> {
        let mut jar = CookieJar::new();
        jar.add_original(Cookie::new(SEALED, sealed.to_owned()));
        jar.private(&self.key)
            .get(SEALED)
            .map(|c| c.value().to_owned())
    }

    fn shape(&self, mut cookie: Cookie<'static>) -> Cookie<'static> {
        cookie.set_path(COOKIE_PATH);
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Strict);
        cookie.set_secure(self.secure);
        cookie
    }
}

/// Whether a submitted token is the expected one, in constant time.
pub fn csrf_matches(expected: &str, submitted: &str) -> bool {
    expected.len() == submitted.len() && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
}

fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> Sessions {
        Sessions::new(&SecurityConfig::default(), false).unwrap()
    }

    #[test]
    fn a_login_reads_back_with_its_key_and_not_with_another() {
        let sessions = fresh();
        let cookie = sessions.issue("finance");
        assert!(cookie.http_only().unwrap_or(false));
        assert_eq!(cookie.same_site(), Some(SameSite::Strict));
        assert!(
            !cookie.value().contains("finance"),
            "the value is encrypted"
        );
        let login = sessions.read(cookie.clone()).expect("reads back");
        assert_eq!(login.user, "finance");
        assert!(fresh().read(cookie).is_none(), "another key cannot read it");
    }

    #[test]
    fn a_changed_or_ended_login_is_refused() {
        let sessions = fresh();
        let cookie = sessions.issue("finance");
        let mut value = cookie.value().to_owned();
        let last = value.pop().unwrap();
        value.push(if last == 'A' { 'B' } else { 'A' });
        assert!(sessions.read(Cookie::new(COOKIE, value)).is_none());
        let ended = Sessions {
            lifetime_s: -1,
            ..sessions
        };
        assert!(ended.read(ended.issue("finance")).is_none());
    }

    #[test]
    fn csrf_tokens_differ_per_user_and_compare_exactly() {
        let sessions = fresh();
        let a = sessions.csrf_without_login(&Party::Authenticated {
            user: "a".into(),
            role: crate::security::Role::Ops,
        });
        let b = sessions.csrf_without_login(&Party::Open);
        assert_ne!(a, b);
        assert!(csrf_matches(&a, &a.clone()));
        assert!(!csrf_matches(&a, &b));
        assert!(!csrf_matches(&a, ""));
    }

    #[test]
    fn a_sealed_value_hides_its_text_and_opens_only_with_the_key() {
        let sessions = fresh();
        let sealed = sessions.seal("MOBILE|ns|27821234567");
        assert!(!sealed.contains("2782123"));
        assert_eq!(
            sessions.unseal(&sealed).as_deref(),
            Some("MOBILE|ns|27821234567")
        );
        assert_eq!(fresh().unseal(&sealed), None);
        assert_eq!(sessions.unseal("garbage"), None);
    }

    #[test]
    fn a_short_key_file_is_refused() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), [7u8; 10]).unwrap();
        let config = SecurityConfig {
            console_session_key_path: Some(file.path().to_owned()),
            ..SecurityConfig::default()
        };
        let refused = Sessions::new(&config, false).err().unwrap();
        assert!(refused.contains("at least 64"), "{refused}");
    }
}
