//! Sends each refund to Electrum's `/transactions/outbound/credit-transfer` with the
//! store-and-forward queue's guarantees: the same payload again with backoff while no answer
//! comes, its end recorded on the refund (accepted, refused for good, or parked after the
//! tries allowed, for ops to send again). Refunds still to be sent after a restart are read
//! back from the `refunds` view. A refusal fails the refund and holds the money again.

use std::sync::Arc;
use std::time::Duration;

use aggregates::payshap_transfer::PayShapTransfer;
use aggregates::refund::{Refund, RefundCommand, RefundStatus, SendOutcome};
use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::client::{Backoff, Delivery, ElectrumClient};
use super::in_flight::InFlight;
use super::outbound;
use crate::commands::CommandBus;
use crate::config::Config;
use crate::payshap::refund_case;
use crate::payshap::wire::OUTBOUND_TRANSFER_PATH;
use crate::store::Store;

/// How often the view is read for refunds nobody is sending.
const SCAN_INTERVAL: Duration = Duration::from_secs(1);
const SCAN_LIMIT: i64 = 200;

pub struct RefundSender {
    pub client: Arc<ElectrumClient>,
    pub config: Arc<Config>,
    pub refunds: Arc<CommandBus<Refund>>,
    pub transfers: Arc<CommandBus<PayShapTransfer>>,
    pub store: Store,
    in_flight: Arc<InFlight>,
}

impl RefundSender {
    pub fn new(
        client: Arc<ElectrumClient>,
        config: Arc<Config>,
        refunds: Arc<CommandBus<Refund>>,
        transfers: Arc<CommandBus<PayShapTransfer>>,
        store: Store,
    ) -> Self {
        Self {
            client,
            config,
            refunds,
            transfers,
            store,
            in_flight: Arc::default(),
        }
    }

    /// Starts sending refund `uetr` unless this instance is sending it already.
    pub fn send_soon(self: &Arc<Self>, uetr: String) {
        let sender = Arc::clone(self);
        let key = uetr.clone();
        self.in_flight
            .start(key, "refund", async move { sender.deliver(&uetr).await });
    }

    async fn deliver(&self, uetr: &str) -> anyhow::Result<()> {
        let refund = self.refunds.load(uetr).await?;
        let (Some(order), RefundStatus::Requested) = (refund.order(), refund.status()) else {
            return Ok(());
        };
        let body = outbound::credit_transfer(order, &self.config.payshap)?;
        let electrum = self.config.payshap.electrum.as_ref();
        let (first, max, tries) = electrum.map_or((100, 1_000, 8), |e| {
            (e.first_backoff_ms, e.max_backoff_ms, e.refund_max_attempts)
        });
        let backoff = Backoff {
            first: Duration::from_millis(first),
            max: Duration::from_millis(max),
        };
        let outcome = match self
            .client
            .deliver(
                OUTBOUND_TRANSFER_PATH,
                &body,
                backoff,
                ("refund", uetr),
                |attempts, _| attempts >= tries,
            )
            .await
        {
            Delivery::Acknowledged { attempts } => SendOutcome::Accepted { attempts },
            Delivery::Refused {
                status,
                detail,
                attempts,
            } => SendOutcome::Refused {
                reason: format!("{status}: {detail}"),
                attempts,
            },
            Delivery::GaveUp { why, attempts } => SendOutcome::Parked {
                reason: why,
                attempts,
            },
        };
        metrics::counter!("qrswitch_refunds_sent_total", "outcome" => match outcome {
            SendOutcome::Accepted { .. } => "accepted",
            SendOutcome::Refused { .. } => "refused",
            SendOutcome::Parked { .. } => "parked",
        })
        .increment(1);
        let reason = match &outcome {
            SendOutcome::Refused { reason, .. } => reason.clone(),
            _ => String::new(),
        };
        let metadata = crate::routing::system_metadata();
        let command = RefundCommand::RecordSend {
            outcome,
            at: Utc::now(),
        };
        let refund = self.refunds.execute(uetr, command, &metadata).await?;
        refund_case::settle(&self.transfers, &refund, &reason, &metadata).await
    }
}

/// Picks up refunds nobody is sending, until `cancel`.
pub async fn run(sender: Arc<RefundSender>, cancel: CancellationToken) {
    loop {
        let pool = sender.store.views().pool();
        match projections::refunds::list(pool, Some("REQUESTED"), SCAN_LIMIT).await {
            Ok(rows) => rows
                .into_iter()
                .for_each(|row| sender.send_soon(row.refund_uetr)),
            Err(error) => tracing::warn!(%error, "refunds to send unreadable"),
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(SCAN_INTERVAL) => {}
        }
    }
}
