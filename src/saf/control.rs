//! The parts of the state ops use to act on the store-and-forward queue: the queue itself,
//! the payments whose deliveries they park or unpark, and the dispatcher's wake-up.

use std::sync::Arc;

use aggregates::Payment;
use projections::runner::Wakeup;

use crate::commands::CommandBus;
use crate::store::Store;

pub struct SafControl {
    pub store: Store,
    pub payments: Arc<CommandBus<Payment>>,
    pub wakeup: Wakeup,
}
