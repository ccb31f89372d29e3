//! The keys of PayShap message signing, loaded once at start from `[payshap.signing]`.

use std::sync::Arc;

use super::signing::{KeyError, SigningKey, VerifyingKey};
use crate::config::SigningConfig;

/// Our signing key and the scheme's verifying key, loaded once at start.
pub struct SchemeKeys {
    pub signer: SigningKey,
    pub verifier: VerifyingKey,
    pub scheme_party: String,
    pub require_basic: bool,
}

impl SchemeKeys {
    pub fn load(config: &SigningConfig) -> Result<Arc<Self>, KeyError> {
        Ok(Arc::new(Self {
            signer: SigningKey::from_file(&config.private_key, &config.issuer)?,
            verifier: VerifyingKey::from_file(
                &config.scheme_public_key,
                config.clock_skew_ms,
                config.max_token_age_ms,
            )?,
            scheme_party: config.scheme_party.clone(),
            require_basic: config.require_basic,
        }))
    }
}
