//! The OIDC bearer token some sponsor banks require on calls to Electrum: obtained with
//! the client-credentials grant from the bank's authorisation server, cached, and renewed
//! once half its lifetime has passed (Electrum's security page), or at once after a 401.

use std::time::{Duration, Instant};

use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
use tokio::sync::Mutex;

use crate::config::OAuthConfig;

/// Lifetime assumed when the server does not say (`expires_in` absent).
const ASSUMED_LIFETIME: Duration = Duration::from_secs(300);

struct Cached {
    token: String,
    renew_at: Instant,
}

pub struct TokenSource {
    config: OAuthConfig,
    secret: String,
    http: reqwest::Client,
    cached: Mutex<Option<Cached>>,
}

impl TokenSource {
    pub fn new(config: &OAuthConfig, timeout: Duration) -> anyhow::Result<Self> {
        let secret = std::fs::read_to_string(&config.client_secret_file)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", config.client_secret_file.display()))?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .build()?;
        Ok(Self {
            config: config.clone(),
            secret: secret.trim().to_owned(),
            http,
            cached: Mutex::new(None),
        })
    }

    /// A token fit to send now: the cached one until its half-life, else a fresh one.
    pub async fn bearer(&self) -> anyhow::Result<String> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref().filter(|c| Instant::now() < c.renew_at) {
            return Ok(token.token.clone());
        }
        let fresh = self.fetch().await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// Forgets the cached token (Electrum refused it): the next call fetches another.
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    async fn fetch(&self) -> anyhow::Result<Cached> {
        let client = BasicClient::new(ClientId::new(self.config.client_id.clone()))
            .set_client_secret(ClientSecret::new(self.secret.clone()))
            .set_token_uri(TokenUrl::new(self.config.token_url.clone())?);
        let asked_at = Instant::now();
        let response = client
            .exchange_client_credentials()
            .add_scopes(self.config.scopes.iter().cloned().map(Scope::new))
            .request_async(&self.http)
            .await
            .map_err(|e| anyhow::anyhow!("client-credentials token refused: {e}"))?;
        metrics::counter!("qrswitch_electrum_tokens_fetched_total").increment(1);
        let lifetime = response.expires_in().unwrap_or(ASSUMED_LIFETIME);
        tracing::info!(
            lifetime_s = lifetime.as_secs(),
            "Electrum bearer token obtained"
        );
        Ok(Cached {
            token: response.access_token().secret().clone(),
            renew_at: asked_at + lifetime / 2,
        })
    }
}
