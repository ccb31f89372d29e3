//! Times out payments whose POS stopped waiting without an answer being recorded (the
//! instance holding the connection died). The partner may have approved, so a payment caught
//! while authorising gets its timeout reversal queued like any other.

use std::sync::Arc;
use std::time::Duration;

use aggregates::{Payment, PaymentCommand, PaymentError};
use chrono::Utc;
use cqrs_es::AggregateError;
use projections::payment_status;
use projections::time::to_view_text;
use tokio_util::sync::CancellationToken;

use crate::commands::CommandBus;
use crate::config::PaymentsConfig;
use crate::routing::system_metadata;
use crate::store::Store;

/// Payments timed out per sweep; the rest wait for the next one.
const SWEEP_BATCH: i64 = 200;

/// What the sweeper reads and changes: the status view, and the payments it times out.
pub struct Sweeper {
    pub settings: PaymentsConfig,
    pub store: Store,
    pub payments: Arc<CommandBus<Payment>>,
}

pub async fn run(sweeper: Sweeper, cancel: CancellationToken) {
    let interval = Duration::from_millis(sweeper.settings.sweep_interval_ms.max(10));
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        if let Err(error) = sweep(&sweeper).await {
            tracing::warn!(%error, "deadline sweep failed; retrying next interval");
        }
    }
}

/// Times out every overdue payment found now. Returns how many it timed out.
pub async fn sweep(sweeper: &Sweeper) -> Result<usize, sqlx::Error> {
    let grace = chrono::Duration::milliseconds(sweeper.settings.sweep_grace_ms as i64);
    let cutoff = to_view_text(Utc::now() - grace);
    let views = sweeper.store.views().pool();
    let overdue = payment_status::overdue(views, &cutoff, SWEEP_BATCH).await?;
    let mut timed_out = 0;
    for tran_id in overdue {
        let command = PaymentCommand::TimeOut { at: Utc::now() };
        match sweeper
            .payments
            .execute(&tran_id, command, &system_metadata())
            .await
        {
            Ok(_) => {
                timed_out += 1;
                tracing::warn!(tran_id, "payment timed out by the deadline sweeper");
            }
            Err(AggregateError::UserError(
                PaymentError::AlreadyFinal | PaymentError::NothingWaiting,
            )) => {}
            Err(error) => tracing::warn!(tran_id, %error, "could not time out payment"),
        }
    }
    Ok(timed_out)
}
