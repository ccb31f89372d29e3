//! Retry delays: exponential from a base up to a cap, with "equal jitter" (half fixed, half
//! random) so that deliveries that failed together do not retry together, while each still
//! waits at least half its step.

use std::time::Duration;

use rand::Rng;

/// The delay before attempt `attempts + 1`, given `attempts` failures so far.
pub fn delay(attempts: u32, base_ms: u64, cap_ms: u64) -> Duration {
    let step = base_ms
        .saturating_mul(1_u64.checked_shl(attempts.min(40)).unwrap_or(u64::MAX))
        .min(cap_ms)
        .max(1);
    let half = step / 2;
    let jitter = rand::rng().random_range(0..=step - half);
    Duration::from_millis(half + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_within_jitter_and_stops_at_the_cap() {
        for attempts in 0..6 {
            let step = 100 * 2_u64.pow(attempts);
            let d = delay(attempts, 100, 10_000).as_millis() as u64;
            assert!((step / 2..=step).contains(&d), "attempt {attempts}: {d} ms");
        }
        for _ in 0..100 {
            let d = delay(30, 100, 10_000).as_millis() as u64;
            assert!((5_000..=10_000).contains(&d));
        }
        assert!(delay(u32::MAX, 100, 10_000) <= Duration::from_millis(10_000));
    }
}
