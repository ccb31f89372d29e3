//! How many completions refused for their signature one instance keeps, and how large:
//! an unauthenticated sender must not be able to fill the store.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Largest unverified body kept, in bytes: a completion is a few KiB.
pub const MAX_BYTES: usize = 64 * 1024;
/// Unverified messages kept per minute by one instance; beyond it they are counted and
/// logged, not stored (an unauthenticated sender cannot fill the store).
pub const MAX_PER_MINUTE: u32 = 120;

/// The size and rate bounds of keeping unverified messages.
pub struct Gate {
    window: Mutex<(Instant, u32)>,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            window: Mutex::new((Instant::now(), 0)),
        }
    }
}

impl Gate {
    /// Whether a body of `len` bytes may be kept now; why not otherwise.
    pub fn admit(&self, len: usize) -> Result<(), &'static str> {
        if len > MAX_BYTES {
            return Err("too large");
        }
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        if window.0.elapsed() >= Duration::from_secs(60) {
            *window = (Instant::now(), 0);
        }
        if window.1 >= MAX_PER_MINUTE {
            return Err("rate");
        }
        window.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Gate, MAX_BYTES, MAX_PER_MINUTE};

    #[test]
    fn the_gate_bounds_size_and_rate() {
        let gate = Gate::default();
        assert_eq!(gate.admit(MAX_BYTES + 1), Err("too large"));
        for _ in 0..MAX_PER_MINUTE {
            assert_eq!(gate.admit(1_000), Ok(()));
        }
        assert_eq!(gate.admit(1_000), Err("rate"), "no more this minute");
    }
}
