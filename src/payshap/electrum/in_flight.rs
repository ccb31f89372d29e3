//! What this instance is sending now, by key: a second start of the same send while the
//! first runs is skipped, so a scan of the view and a fresh request never send one thing
//! twice at once.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct InFlight(Mutex<HashSet<String>>);

impl InFlight {
    fn keys(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `send` in the background for `key` unless one runs already; a failure is
    /// logged as `what` (the next scan tries again).
    pub fn start<F>(self: &Arc<Self>, key: String, what: &'static str, send: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        if !self.keys().insert(key.clone()) {
            return;
        }
        let in_flight = Arc::clone(self);
        tokio::spawn(async move {
            if let Err(error) = send.await {
                tracing::warn!(key, %error, "{what} not sent yet; retried");
            }
            in_flight.keys().remove(&key);
        });
    }
}
