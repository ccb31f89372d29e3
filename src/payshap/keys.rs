//! The keys of PayShap message signing, from `[payshap.signing]`: our signing key (named by
//! `key_id` in every token) and every scheme key we accept, the current one and those in
//! `scheme_public_keys_dir` (`KID.pub.pem` each). A [`KeyRing`] holds them and reloads them
//! from their files without a restart (on SIGHUP), so either side's key rotates without a
//! window of refusals: add the new key, switch, retire the old (docs/operations.md).

use std::path::Path;
use std::sync::{Arc, RwLock};

use super::signing::{Claims, KeyError, Refusal, SigningKey, VerifyingKey};
use crate::config::SigningConfig;

/// Our signing key and the scheme's verifying keys, as loaded at one moment.
pub struct SchemeKeys {
    pub signer: SigningKey,
    /// The scheme keys we accept; a token's `kid` picks one, else each is tried in turn.
    pub verifiers: Vec<VerifyingKey>,
    pub scheme_party: String,
}

impl SchemeKeys {
    pub fn load(config: &SigningConfig) -> Result<Arc<Self>, KeyError> {
        let (skew, age) = (config.clock_skew_ms, config.max_token_age_ms);
        let mut verifiers = vec![VerifyingKey::from_file(
            &config.scheme_public_key,
            skew,
            age,
        )?];
        if let Some(folder) = &config.scheme_public_keys_dir {
            verifiers.extend(keys_in(folder, skew, age)?);
        }
        Ok(Arc::new(Self {
            signer: SigningKey::from_file(&config.private_key, &config.issuer)?
                .with_kid(config.key_id.clone()),
            verifiers,
            scheme_party: config.scheme_party.clone(),
        }))
    }

    /// Checks a scheme message's token: with the key its `kid` names, or else with each key
    /// in turn; the first key's refusal when none verifies.
    pub fn verify(&self, token: Option<&str>, body: &[u8], now: i64) -> Result<Claims, Refusal> {
        let named = VerifyingKey::kid_of(token);
        let chosen = named.as_deref().and_then(|kid| {
            self.verifiers
                .iter()
                .find(|v| v.kid.as_deref() == Some(kid))
        });
        if let Some(key) = chosen {
            return key.verify(token, body, now);
        }
        let mut first = None;
        for key in &self.verifiers {
            match key.verify(token, body, now) {
                Ok(claims) => return Ok(claims),
                Err(refusal) => {
                    first.get_or_insert(refusal);
                }
            }
        }
        Err(first.unwrap_or(Refusal::Signature))
    }
}

/// The scheme keys in `folder`: every `KID.pub.pem`, named by its `KID`, in name order.
fn keys_in(folder: &Path, skew: u64, age: u64) -> Result<Vec<VerifyingKey>, KeyError> {
    let read = |source| KeyError::Read {
        path: folder.display().to_string(),
        source,
    };
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .map_err(read)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.to_string_lossy().ends_with(".pub.pem"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            let kid = name.and_then(|n| n.strip_suffix(".pub.pem").map(str::to_owned));
            let mut key = VerifyingKey::from_file(&path, skew, age)?;
            key.kid = kid;
            Ok(key)
        })
        .collect()
}

/// The keys in force, replaced whole by a reload: a message is checked and answered with
/// one consistent set.
pub struct KeyRing {
    config: SigningConfig,
    keys: RwLock<Arc<SchemeKeys>>,
}

impl KeyRing {
    pub fn load(config: &SigningConfig) -> Result<Arc<Self>, KeyError> {
        Ok(Arc::new(Self {
            config: config.clone(),
            keys: RwLock::new(SchemeKeys::load(config)?),
        }))
    }

    /// Whether signed messages need HTTP Basic too (configuration, not a key: no reload).
    pub fn require_basic(&self) -> bool {
        self.config.require_basic
    }

    /// The keys in force now.
    pub fn current(&self) -> Arc<SchemeKeys> {
        Arc::clone(&self.keys.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Reads every key file again; on any error the keys in force stay as they were.
    /// The number of scheme keys now accepted.
    pub fn reload(&self) -> Result<usize, KeyError> {
        let fresh = SchemeKeys::load(&self.config)?;
        let accepted = fresh.verifiers.len();
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        tracing::info!(accepted, "PayShap signing keys reloaded");
        Ok(accepted)
    }
}
