//! Who the bench plays, and how they prove it: bench-only users for HTTP Basic and key pairs
//! made for the run for PayShap message signing, as a production set-up has them.

use crate::scheme_sim::SchemeClient;

/// Bench-only parties, authenticated as in production (HTTP Basic; the switch remembers a
/// verified password, so argon2 is paid once per user).
pub const RETAILER: (&str, &str) = ("bench-retailer", "bench-retailer-pw");
pub const PARTNER: (&str, &str) = ("bench-partner", "bench-partner-pw");
pub const OPS: (&str, &str) = ("bench-ops", "bench-ops-pw");

/// `[[users]]` entries for the bench parties.
pub fn users_toml() -> anyhow::Result<String> {
    let mut toml = String::new();
    for ((name, password), role) in [(RETAILER, "retailer"), (PARTNER, "partner"), (OPS, "ops")] {
        let hash = crate::security::credentials::hash_password(password)
            .map_err(|e| anyhow::anyhow!("hashing a bench password: {e}"))?;
        toml.push_str(&format!(
            "[[users]]\nname = \"{name}\"\nrole = \"{role}\"\npassword_hash = \"{hash}\"\n\n"
        ));
    }
    Ok(toml)
}

/// Key pairs made for one run: the switch verifies the simulated scheme's signatures and
/// signs its answers, as in production.
pub struct BenchKeys {
    scheme_private: String,
    pub scheme_public: std::path::PathBuf,
    pub switch_private: std::path::PathBuf,
    switch_public: String,
}

impl BenchKeys {
    pub fn make(dir: &std::path::Path) -> anyhow::Result<Self> {
        use crate::payshap::signing::generate_pair;
        let (scheme_private, scheme_public) = generate_pair()?;
        let (switch_private, switch_public) = generate_pair()?;
        let keys = Self {
            scheme_private,
            scheme_public: dir.join("scheme.pub.pem"),
            switch_private: dir.join("switch.pem"),
            switch_public,
        };
        std::fs::write(&keys.scheme_public, scheme_public)?;
        std::fs::write(&keys.switch_private, switch_private)?;
        Ok(keys)
    }

    pub fn client(&self, base_url: &str) -> anyhow::Result<SchemeClient> {
        use crate::payshap::signing::{SigningKey, VerifyingKey};
        let signer = SigningKey::from_pem(self.scheme_private.as_bytes(), "bench-scheme")?;
        let verifier = VerifyingKey::from_pem(self.switch_public.as_bytes(), 60_000, 300_000)?;
        Ok(SchemeClient::new(base_url, Some(signer), Some(verifier)))
    }
}
