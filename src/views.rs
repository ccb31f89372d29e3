//! The read models of one instance: each projection's projector, for handlers that must
//! read their own writes and for `/ready`.

use std::sync::Arc;
use std::time::Duration;

use projections::fresh_deliveries::FreshDeliveries;
use projections::payment_status::PaymentStatusProjection;
use projections::saf_outbox::SafOutboxProjection;
use projections::{Projection, ProjectionError, Projector};

/// Longest an explicit catch-up waits for other transactions to clear the feed horizon.
pub const CATCH_UP_LIMIT_MS: u64 = 10_000;

/// Every read model; the outbox hands the deliveries it writes to `fresh`.
pub fn all_projections(fresh: &FreshDeliveries) -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(PaymentStatusProjection),
        Arc::new(SafOutboxProjection {
            fresh: fresh.clone(),
        }),
        Arc::new(projections::proxy_registry::ProxyRegistryProjection),
        Arc::new(projections::payshap_transfers::PayShapTransfersProjection),
        Arc::new(projections::recon::ReconProjection),
    ]
}

pub struct Projectors {
    all: Vec<Arc<Projector>>,
}

impl Projectors {
    pub fn new(all: Vec<Arc<Projector>>) -> Self {
        Self { all }
    }

    pub fn all(&self) -> &[Arc<Projector>] {
        &self.all
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Projector>> {
        self.all.iter().find(|p| p.name() == name)
    }

    /// Brings every projection past every event committed before this call, waiting at
    /// most [`CATCH_UP_LIMIT_MS`] for each.
    pub async fn catch_up_all(&self) -> Result<(), ProjectionError> {
        for projector in &self.all {
            projector
                .catch_up_to_head(Duration::from_millis(CATCH_UP_LIMIT_MS))
                .await?;
        }
        Ok(())
    }
}
