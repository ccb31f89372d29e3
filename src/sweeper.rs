//! Times out payments whose POS stopped waiting without an answer being recorded (the
//! instance holding the connection died). The partner may have approved, so a payment caught
//! while authorising gets its timeout reversal queued like any other.

use std::sync::Arc;
use std::time::Duration;

use aggregates::{PaymentCommand, PaymentError};
use chrono::Utc;
use cqrs_es::AggregateError;
use projections::payment_status;
use projections::time::to_view_text;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::routing::system_metadata;

/// Payments timed out per sweep; the rest wait for the next one.
const SWEEP_BATCH: i64 = 200;

pub async fn run(app: Arc<App>, cancel: CancellationToken) {
    let interval = Duration::from_millis(app.config.payments.sweep_interval_ms.max(10));
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        if let Err(error) = sweep(&app).await {
            tracing::warn!(%error, "deadline sweep failed; retrying next interval");
        }
    }
}

/// Times out every overdue payment found now. Returns how many it timed out.
pub async fn sweep(app: &App) -> Result<usize, sqlx::Error> {
    let grace = chrono::Duration::milliseconds(app.config.payments.sweep_grace_ms as i64);
    let cutoff = to_view_text(Utc::now() - grace);
    let overdue = payment_status::overdue(app.store.views().pool(), &cutoff, SWEEP_BATCH).await?;
    let mut timed_out = 0;
    for tran_id in overdue {
        let command = PaymentCommand::TimeOut { at: Utc::now() };
        match app
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
