//! The parts of the state PayShap inbound works on, handed to its handlers as one: the
//! settings, the store's views, and the aggregates a resolution or a credit changes.

use std::sync::Arc;

use aggregates::held_message::HeldMessage;
use aggregates::payshap_transfer::PayShapTransfer;
use aggregates::resolution::Resolution;
use aggregates::Payment;

use crate::commands::CommandBus;
use crate::config::Config;
use crate::store::Store;

pub struct PayShapService {
    pub config: Arc<Config>,
    pub store: Store,
    pub payments: Arc<CommandBus<Payment>>,
    /// Inbound credit transfers by UETR.
    pub transfers: Arc<CommandBus<PayShapTransfer>>,
    pub resolutions: Arc<CommandBus<Resolution>>,
    pub held_messages: Arc<CommandBus<HeldMessage>>,
}
