//! TLS with rustls (ring as the one crypto provider): our listener, optionally verifying
//! client certificates against a configured CA, and our calls to partners, with their CA
//! and our client certificate.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::{PartnerConfig, TlsConfig};

/// Installs ring as the process's rustls provider. Harmless if one is installed already;
/// done explicitly so no dependency's choice decides it.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certificates(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    CertificateDer::pem_file_iter(path)
        .with_context(|| format!("reading certificates from {}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing certificates in {}", path.display()))
}

/// The listener's TLS: TLS 1.2 and 1.3 only (rustls's safe defaults).
pub fn server_config(tls: &TlsConfig) -> anyhow::Result<ServerConfig> {
    let chain = certificates(&tls.cert_path)?;
    let key = PrivateKeyDer::from_pem_file(&tls.key_path)
        .with_context(|| format!("reading the private key {}", tls.key_path.display()))?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?;
    let builder = match &tls.client_ca_path {
        Some(ca_path) => {
            let mut roots = RootCertStore::empty();
            for certificate in certificates(ca_path)? {
                roots.add(certificate).context("adding the client CA")?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
            let verifier = if tls.require_client_cert {
                verifier.build()
            } else {
                verifier.allow_unauthenticated().build()
            }
            .context("building the client certificate verifier")?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    builder
        .with_single_cert(chain, key)
        .context("certificate and key do not match")
}

/// Connections per partner host kept open between calls, so busy lanes skip handshakes.
const PARTNER_IDLE_CONNECTIONS: usize = 32;
/// Time to open a connection to a partner. Short: one that cannot accept a connection in
/// 5 s is down, and the POS should hear so well inside its 60 s.
const PARTNER_CONNECT_TIMEOUT_MS: u64 = 5_000;

/// The HTTP client for one partner: its CA (if not a public one) and our certificate.
pub fn partner_client(partner: &PartnerConfig) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(std::time::Duration::from_millis(PARTNER_CONNECT_TIMEOUT_MS))
        .pool_max_idle_per_host(PARTNER_IDLE_CONNECTIONS);
    if let Some(ca_path) = &partner.ca_path {
        let pem = std::fs::read(ca_path)
            .with_context(|| format!("reading partner {} CA {}", partner.id, ca_path.display()))?;
        for certificate in reqwest::Certificate::from_pem_bundle(&pem)
            .with_context(|| format!("parsing partner {} CA", partner.id))?
        {
            builder = builder.add_root_certificate(certificate);
        }
    }
    if let (Some(cert), Some(key)) = (&partner.client_cert_path, &partner.client_key_path) {
        let mut pem = std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?;
        pem.extend(std::fs::read(key).with_context(|| format!("reading {}", key.display()))?);
        builder = builder.identity(
            reqwest::Identity::from_pem(&pem)
                .with_context(|| format!("partner {} client certificate", partner.id))?,
        );
    }
    builder.build().context("building a partner HTTP client")
}
