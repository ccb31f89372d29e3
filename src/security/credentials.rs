//! Users and their passwords. Passwords are stored as argon2 hashes in the configuration.
//! Argon2 is slow on purpose (tens of milliseconds); a POS lane calls many times a minute, so
//! a successful check is remembered as an HMAC of the password under a key that exists only
//! in this process, compared in constant time.

use std::collections::HashMap;
use std::sync::Mutex;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::party::Role;
use crate::config::UserConfig;

type Fingerprint = [u8; 32];

pub struct Credentials {
    users: HashMap<String, (Role, String)>,
    /// user → fingerprint of the password that last verified.
    verified: Mutex<HashMap<String, Fingerprint>>,
    key: [u8; 32],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Valid(Role),
    Invalid,
}

impl Credentials {
    /// The configured users; refuses a password hash that is not an argon2 hash.
    pub fn new(users: &[UserConfig]) -> Result<Self, String> {
        if let Some(user) = users.iter().find(|u| !is_valid_hash(&u.password_hash)) {
            return Err(format!(
                "user {} password_hash is not an argon2 hash (use qrswitch hash-password)",
                user.name
            ));
        }
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Ok(Self {
            users: users
                .iter()
                .map(|u| (u.name.clone(), (u.role, u.password_hash.clone())))
                .collect(),
            verified: Mutex::new(HashMap::new()),
            key,
        })
    }

    /// The role of a configured user: a console session is only as good as its user's
    /// entry in the configuration now.
    pub fn role_of(&self, user: &str) -> Option<Role> {
        self.users.get(user).map(|(role, _)| *role)
    }

    /// No users configured: the switch runs open (only allowed on a loopback address).
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    pub fn verify(&self, user: &str, password: &str) -> Verdict {
        let Some((role, hash)) = self.users.get(user) else {
            // Spend the same time as a real check, so timing does not reveal user names.
            let _ = verify_hash(dummy_hash(), password);
            return Verdict::Invalid;
        };
        let fingerprint = self.fingerprint(user, password);
        let remembered = self
            .verified
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(user)
            .copied();
        if remembered.is_some_and(|known| bool::from(known.ct_eq(&fingerprint))) {
            return Verdict::Valid(*role);
        }
        if verify_hash(hash, password) {
            self.verified
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(user.to_owned(), fingerprint);
            Verdict::Valid(*role)
        } else {
            Verdict::Invalid
        }
    }

    fn fingerprint(&self, user: &str, password: &str) -> Fingerprint {
        // HMAC accepts a key of any length; this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(user.as_bytes());
        mac.update(&[0]);
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// A real hash of a random password, checked for unknown users so that they cost as much
/// time as known ones.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut secret = [0u8; 16];
        rand::rng().fill_bytes(&mut secret);
        hash_password(&format!("{secret:?}")).unwrap_or_default()
    })
}

fn verify_hash(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// An argon2id hash of `password` with a random salt, for the configuration file.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `hash` is a hash we can check.
fn is_valid_hash(hash: &str) -> bool {
    PasswordHash::new(hash).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> Vec<UserConfig> {
        vec![UserConfig {
            name: "shop".into(),
            role: Role::Retailer,
            password_hash: hash_password("right").unwrap(),
        }]
    }

    #[test]
    fn right_password_passes_and_is_remembered_wrong_one_fails() {
        let credentials = Credentials::new(&users()).unwrap();
        assert_eq!(
            credentials.verify("shop", "right"),
            Verdict::Valid(Role::Retailer)
        );
        assert_eq!(
            credentials.verify("shop", "right"),
            Verdict::Valid(Role::Retailer)
        );
        assert_eq!(credentials.verify("shop", "wrong"), Verdict::Invalid);
        assert_eq!(credentials.verify("nobody", "right"), Verdict::Invalid);
    }

    #[test]
    fn hashes_are_argon2id_and_salted() {
        let a = hash_password("pw").unwrap();
        let b = hash_password("pw").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b);
        assert!(is_valid_hash(&a));
        assert!(!is_valid_hash("plain-text"));
        assert!(is_valid_hash(dummy_hash()));
    }

    #[test]
    fn a_user_whose_hash_is_no_argon2_hash_is_refused() {
        let mut users = users();
        users[0].password_hash = "plain-text".into();
        let refused = Credentials::new(&users).err().unwrap();
        assert!(refused.contains("user shop password_hash"), "{refused}");
    }
}
