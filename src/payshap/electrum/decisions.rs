//! Sends each partner-auth decision to Electrum's
//! `/transactions/inbound/credit-transfer-authorisation-response` with the store-and-forward
//! queue's guarantees: sent as soon as it is recorded, the same message again (same
//! message id) with backoff while no answer comes, and its end recorded on the transfer:
//! acknowledged, refused for good (4xx), or not acknowledged before the scheme's deadline
//! (Electrum then declines the credit itself). Decisions still pending after a restart are
//! read back from the `payshap_authorisations` view and sent again.

use std::sync::Arc;
use std::time::Duration;

use aggregates::payshap_transfer::{DecisionDelivery, PayShapCommand, PayShapTransfer};
use chrono::Utc;
use projections::payshap_authorisations;
use tokio_util::sync::CancellationToken;

use super::client::{Backoff, Delivery, ElectrumClient};
use super::in_flight::InFlight;
use super::status_report;
use crate::commands::CommandBus;
use crate::config::ElectrumConfig;
use crate::payshap::wire::AUTHORISATION_RESPONSE_PATH;
use crate::store::Store;

/// How often the view is read for decisions nobody is sending (after a restart, or an
/// instance that stopped mid-send).
const SCAN_INTERVAL: Duration = Duration::from_secs(1);
/// Pending decisions taken per scan.
const SCAN_LIMIT: i64 = 200;

pub struct DecisionSender {
    pub client: Arc<ElectrumClient>,
    pub config: ElectrumConfig,
    pub transfers: Arc<CommandBus<PayShapTransfer>>,
    pub store: Store,
    /// UETRs being sent by this instance: one sender each.
    in_flight: Arc<InFlight>,
}

impl DecisionSender {
    pub fn new(
        client: Arc<ElectrumClient>,
        config: ElectrumConfig,
        transfers: Arc<CommandBus<PayShapTransfer>>,
        store: Store,
    ) -> Self {
        Self {
            client,
            config,
            transfers,
            store,
            in_flight: Arc::default(),
        }
    }

    /// Starts sending the decision on `uetr` unless this instance is sending it already.
    pub fn send_soon(self: &Arc<Self>, uetr: String) {
        let sender = Arc::clone(self);
        let key = uetr.clone();
        self.in_flight
            .start(key, "partner-auth decision", async move {
                sender.deliver(&uetr).await
            });
    }

    /// Sends until the end is known, then records it on the transfer.
    async fn deliver(&self, uetr: &str) -> anyhow::Result<()> {
        let transfer = self.transfers.load(uetr).await?;
        let (Some(request), Some(decision)) =
            (transfer.authorisation_request(), transfer.decision())
        else {
            return Ok(());
        };
        if !transfer.decision_pending() {
            return Ok(());
        }
        let body = status_report::build(request, decision)?;
        let deadline = request.received_at
            + chrono::Duration::milliseconds(
                i64::try_from(self.config.decision_deadline_ms).unwrap_or(i64::MAX),
            );
        let backoff = Backoff {
            first: Duration::from_millis(self.config.first_backoff_ms),
            max: Duration::from_millis(self.config.max_backoff_ms),
        };
        let past_deadline = |_, pause| {
            chrono::Duration::from_std(pause).map_or(true, |pause| Utc::now() + pause >= deadline)
        };
        let what = ("partner-auth decision", uetr);
        let delivery = match self
            .client
            .deliver(
                AUTHORISATION_RESPONSE_PATH,
                &body,
                backoff,
                what,
                past_deadline,
            )
            .await
        {
            Delivery::Acknowledged { attempts } => DecisionDelivery::Acknowledged { attempts },
            Delivery::Refused {
                status,
                detail,
                attempts,
            } => DecisionDelivery::Undelivered {
                reason: format!("refused by Electrum ({status}): {detail}"),
                attempts,
            },
            Delivery::GaveUp { why, attempts } => DecisionDelivery::Undelivered {
                reason: format!("not acknowledged before the deadline: {why}"),
                attempts,
            },
        };
        let delivered = matches!(delivery, DecisionDelivery::Acknowledged { .. });
        metrics::counter!("qrswitch_payshap_decisions_total",
            "delivery" => if delivered { "acknowledged" } else { "undelivered" })
        .increment(1);
        if !delivered {
            tracing::warn!(
                uetr,
                ?delivery,
                "partner-auth decision did not reach Electrum"
            );
        }
        let command = PayShapCommand::RecordDecisionDelivery {
            delivery,
            at: Utc::now(),
        };
        let metadata = crate::routing::system_metadata();
        self.transfers.execute(uetr, command, &metadata).await?;
        Ok(())
    }
}

/// Picks up decisions nobody is sending, until `cancel`.
pub async fn run(sender: Arc<DecisionSender>, cancel: CancellationToken) {
    loop {
        match payshap_authorisations::pending(sender.store.views().pool(), SCAN_LIMIT).await {
            Ok(rows) => {
                for row in rows {
                    sender.send_soon(row.uetr);
                }
            }
            Err(error) => tracing::warn!(%error, "pending partner-auth decisions unreadable"),
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(SCAN_INTERVAL) => {}
        }
    }
}
