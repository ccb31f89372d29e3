//! What the bench measures while it runs: each step's latencies, the payments accepted and
//! the errors seen (the first one kept to show).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Latencies of one step, in milliseconds.
#[derive(Default)]
pub struct Samples(Mutex<Vec<f64>>);

impl Samples {
    pub fn add(&self, since: Instant) {
        self.add_duration(since.elapsed());
    }

    pub fn add_duration(&self, took: std::time::Duration) {
        let ms = took.as_secs_f64() * 1000.0;
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(ms);
    }

    pub fn summary(&self) -> (usize, f64, f64, f64) {
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        all.sort_by(f64::total_cmp);
        let at = |q: f64| {
            if all.is_empty() {
                0.0
            } else {
                all[((all.len() - 1) as f64 * q).round() as usize]
            }
        };
        (all.len(), at(0.50), at(0.95), at(0.99))
    }
}

#[derive(Default)]
pub struct Measurements {
    pub create_qr: Samples,
    pub scan: Samples,
    pub pay: Samples,
    pub confirm: Samples,
    pub resolve: Samples,
    pub errors: AtomicU64,
    pub payments: AtomicU64,
    pub first_error: Mutex<Option<String>>,
}

impl Measurements {
    pub fn error(&self, what: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_error.lock().unwrap_or_else(|p| p.into_inner());
        if first.is_none() {
            *first = Some(what);
        }
    }
}
