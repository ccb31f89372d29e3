//! Message signing as Electrum's EPC does it: every PayShap message that has a body carries
//! an `x-jwt-signature` header, an ES256 JWT (ECDSA P-256, the only algorithm allowed) whose
//! `electrum.co.za/content-digest` claim is the SHA-256 of the exact body bytes. The
//! signature is the primary authentication: a verified token proves who sent the message and
//! that not a byte of it changed on the way.
//!
//! We write the digest as standard base64 (with padding). The published page does not show
//! the encoding, so on the way in we accept hex and both base64 alphabets as well: the bytes
//! compared are the same 32 either way (docs/payshap.md, ADR 0006).

use std::path::Path;

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The header that carries the token, on requests and responses alike.
pub const HEADER: &str = "x-jwt-signature";
/// The claim that binds the token to the body.
pub const DIGEST_CLAIM: &str = "electrum.co.za/content-digest";
/// How long our own tokens stay valid (seconds): long enough to cross the network and be
/// checked, short enough that a captured token is soon worthless.
pub const TOKEN_LIFETIME_S: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(
        rename = "electrum.co.za/content-digest",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub content_digest: Option<String>,
}

/// Why a message's signature was refused. Each is counted (`reason` label) and named in the
/// 401's `detail`; none says anything about our keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("x-jwt-signature header missing")]
    Missing,
    #[error("x-jwt-signature is not a JWT")]
    Malformed,
    #[error("only ES256 signatures are accepted")]
    Algorithm,
    #[error("signature does not verify")]
    Signature,
    #[error("token expired")]
    Expired,
    #[error("token issued in the future or too long ago")]
    IssuedAt,
    #[error("token has no electrum.co.za/content-digest claim")]
    NoDigest,
    #[error("content digest does not match the body")]
    Digest,
}

impl Refusal {
    /// The metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Missing => "missing",
            Refusal::Malformed => "malformed",
            Refusal::Algorithm => "algorithm",
            Refusal::Signature => "signature",
            Refusal::Expired => "expired",
            Refusal::IssuedAt => "issued_at",
            Refusal::NoDigest => "no_digest",
            Refusal::Digest => "digest",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read key file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a {expected} PEM key: {source}")]
    Parse {
        path: String,
        expected: &'static str,
        source: jsonwebtoken::errors::Error,
    },
    #[error("cannot sign: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

fn read(path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|source| KeyError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// SHA-256 of `body`, as we write it into the digest claim.
pub fn content_digest(body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body))
}

/// Whether `claimed` is the SHA-256 of `body` in any of the encodings we accept.
fn digest_matches(claimed: &str, body: &[u8]) -> bool {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let claimed = claimed.trim();
    let actual = Sha256::digest(body);
    let decoded = if claimed.len() == 64 && claimed.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&claimed[2 * i..2 * i + 2], 16).ok())
            .collect::<Option<Vec<u8>>>()
    } else {
        [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(claimed).ok())
    };
    decoded.is_some_and(|bytes| bytes.as_slice() == actual.as_slice())
}

/// A private key we sign with, and the `kid` our tokens name it by (if any).
pub struct SigningKey {
    key: EncodingKey,
    issuer: String,
    kid: Option<String>,
}

impl SigningKey {
    /// `pem` is a PKCS#8 P-256 private key (`BEGIN PRIVATE KEY`), as `qrswitch keygen` and
    /// `openssl pkcs8 -topk8` write it.
    pub fn from_pem(pem: &[u8], issuer: &str) -> Result<Self, jsonwebtoken::errors::Error> {
        Ok(Self {
            key: EncodingKey::from_ec_pem(pem)?,
            issuer: issuer.to_owned(),
            kid: None,
        })
    }

    /// Names the key in every token's header (`kid`), so the other side picks the right
    /// one of the keys it holds during a rotation.
    pub fn with_kid(mut self, kid: Option<String>) -> Self {
        self.kid = kid.filter(|k| !k.is_empty());
        self
    }

    pub fn from_file(path: &Path, issuer: &str) -> Result<Self, KeyError> {
        Self::from_pem(&read(path)?, issuer).map_err(|source| KeyError::Parse {
            path: path.display().to_string(),
            expected: "PKCS#8 P-256 private",
            source,
        })
    }

    /// A token for `body`, issued now.
    pub fn sign(&self, body: &[u8]) -> Result<String, KeyError> {
        self.sign_at(body, chrono::Utc::now().timestamp())
    }

    /// A token for `body` issued at `iat` (Unix seconds): simulators use it to send stale
    /// tokens on purpose.
    pub fn sign_at(&self, body: &[u8], iat: i64) -> Result<String, KeyError> {
        let claims = Claims {
            iss: Some(self.issuer.clone()),
            iat: Some(iat),
            exp: Some(iat + TOKEN_LIFETIME_S),
            jti: Some(uuid::Uuid::new_v4().to_string()),
            content_digest: Some(content_digest(body)),
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = self.kid.clone();
        Ok(jsonwebtoken::encode(&header, &claims, &self.key)?)
    }
}

/// A public key we check the other side's messages with, the `kid` it goes by (if any),
/// and how much clock difference and token age we tolerate.
pub struct VerifyingKey {
    key: DecodingKey,
    clock_skew_s: u64,
    max_age_s: i64,
    pub kid: Option<String>,
}

impl VerifyingKey {
    /// `pem` is the other side's P-256 public key (`BEGIN PUBLIC KEY`).
    pub fn from_pem(
        pem: &[u8],
        clock_skew_ms: u64,
        max_age_ms: u64,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        Ok(Self {
            key: DecodingKey::from_ec_pem(pem)?,
            clock_skew_s: clock_skew_ms.div_ceil(1000),
            max_age_s: i64::try_from(max_age_ms / 1000).unwrap_or(i64::MAX),
            kid: None,
        })
    }

    pub fn from_file(path: &Path, clock_skew_ms: u64, max_age_ms: u64) -> Result<Self, KeyError> {
        Self::from_pem(&read(path)?, clock_skew_ms, max_age_ms).map_err(|source| KeyError::Parse {
            path: path.display().to_string(),
            expected: "P-256 public",
            source,
        })
    }

    /// The `kid` a token names in its header, if it can be read.
    pub fn kid_of(token: Option<&str>) -> Option<String> {
        jsonwebtoken::decode_header(token?.trim()).ok()?.kid
    }

    /// Checks `token` against `body` at `now` (Unix seconds): ES256 signature, expiry and
    /// issue time within the skew, token age, and the body digest.
    pub fn verify(&self, token: Option<&str>, body: &[u8], now: i64) -> Result<Claims, Refusal> {
        use jsonwebtoken::errors::ErrorKind;
        let token = token.map(str::trim).filter(|t| !t.is_empty());
        let token = token.ok_or(Refusal::Missing)?;
        let header = jsonwebtoken::decode_header(token).map_err(|_| Refusal::Malformed)?;
        if header.alg != Algorithm::ES256 {
            return Err(Refusal::Algorithm);
        }
        let mut validation = Validation::new(Algorithm::ES256);
        validation.leeway = self.clock_skew_s;
        validation.required_spec_claims.clear();
        // Expiry is checked below against `now`, not the clock: a message kept unverified
        // is checked later as of when it came.
        validation.validate_exp = false;
        validation.validate_aud = false;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => Refusal::Expired,
                ErrorKind::InvalidSignature | ErrorKind::InvalidEcdsaKey => Refusal::Signature,
                ErrorKind::InvalidAlgorithm => Refusal::Algorithm,
                _ => Refusal::Malformed,
            })?
            .claims;
        // Without an issue time a token would be replayable for ever.
        let skew = i64::try_from(self.clock_skew_s).unwrap_or(i64::MAX);
        if claims.exp.is_some_and(|exp| now > exp.saturating_add(skew)) {
            return Err(Refusal::Expired);
        }
        let iat = claims.iat.ok_or(Refusal::IssuedAt)?;
        if iat > now.saturating_add(skew) || now.saturating_sub(iat) > self.max_age_s + skew {
            return Err(Refusal::IssuedAt);
        }
        let digest = claims.content_digest.as_deref().ok_or(Refusal::NoDigest)?;
        if !digest_matches(digest, body) {
            return Err(Refusal::Digest);
        }
        Ok(claims)
    }
}

/// A fresh P-256 key pair: (PKCS#8 private PEM, SPKI public PEM).
pub fn generate_pair() -> Result<(String, String), rcgen::Error> {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    Ok((pair.serialize_pem(), pair.public_key_pem()))
}

#[cfg(test)]
mod tests;
