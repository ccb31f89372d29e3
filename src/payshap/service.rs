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

#[derive(Clone)]
pub struct PayShapService {
    pub config: Arc<Config>,
    pub store: Store,
    pub payments: Arc<CommandBus<Payment>>,
    /// Inbound credit transfers by UETR.
    pub transfers: Arc<CommandBus<PayShapTransfer>>,
    pub resolutions: Arc<CommandBus<Resolution>>,
    /// Where the scheme's calls (resolutions, partner-auth) read the proxy registry and
    /// resolutions record their answers: connections of their own on PostgreSQL.
    pub resolution_store: Store,
    /// The runtime resolutions run on, ahead of the QR traffic (`super::priority`); none
    /// on SQLite.
    pub resolution_runtime: Option<tokio::runtime::Handle>,
    pub held_messages: Arc<CommandBus<HeldMessage>>,
    /// Bounds on keeping completions whose signature failed (one per instance).
    pub unverified_gate: Arc<super::gate::Gate>,
    /// Partner-auth decisions waiting to be sent to Electrum (none without partner-auth).
    pub decisions: Option<Arc<super::electrum::decisions::DecisionSender>>,
    /// Four eyes on money-moving steps.
    pub approvals: Arc<CommandBus<aggregates::approval::Approval>>,
    /// Held money going back to payers.
    pub refunds: Arc<CommandBus<aggregates::refund::Refund>>,
    /// Sends refunds to Electrum (none without `[payshap.electrum]`).
    pub refund_sender: Option<Arc<super::electrum::refunds::RefundSender>>,
    /// Fee terms, changed through four eyes.
    pub fee_schedules: Arc<CommandBus<aggregates::fee_schedule::FeeSchedule>>,
    /// Each day's recon with Electrum's files.
    pub recons: Arc<CommandBus<aggregates::electrum_recon::ElectrumRecon>>,
    /// The views, brought current before recon reads them.
    pub projectors: Arc<crate::views::Projectors>,
}
