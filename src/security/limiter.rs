//! Failed authentications counted per source address, so that a source guessing
//! credentials is refused for a while before its credentials are even looked at.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Sources tracked at once; past this, expired entries are dropped first, then everything
/// (an attacker spraying addresses must not grow our memory).
const MAX_TRACKED_SOURCES: usize = 10_000;

/// Counts failed authentications per source address.
pub struct FailureLimiter {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl FailureLimiter {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn blocked(&self, source: IpAddr) -> bool {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.get(&source).is_some_and(|(count, since)| {
            *count >= self.max_failures && since.elapsed() < self.window
        })
    }

    pub(crate) fn record_failure(&self, source: IpAddr) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= MAX_TRACKED_SOURCES {
            failures.retain(|_, (_, since)| since.elapsed() < self.window);
            if failures.len() >= MAX_TRACKED_SOURCES {
                failures.clear();
            }
        }
        let entry = failures.entry(source).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= self.window {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_is_blocked_after_its_limit_until_the_window_passes() {
        let limiter = FailureLimiter::new(2, Duration::from_millis(50));
        let source: IpAddr = "127.0.0.9".parse().unwrap();
        limiter.record_failure(source);
        assert!(!limiter.blocked(source));
        limiter.record_failure(source);
        assert!(limiter.blocked(source));
        assert!(!limiter.blocked("127.0.0.8".parse().unwrap()));
        std::thread::sleep(Duration::from_millis(60));
        assert!(!limiter.blocked(source));
    }
}
