//! What ops do to the store-and-forward queue, from the ops API and the console alike:
//! retry now, park, unpark. Each is an event on the payment that names who asked; retry and
//! unpark then make the delivery due now and wake the dispatcher.

use std::sync::Arc;

use aggregates::{Payment, PaymentCommand, PaymentError};
use chrono::Utc;
use cqrs_es::AggregateError;
use projections::runner::Wakeup;
use projections::saf_outbox;

use super::queue;
use crate::commands::{CommandBus, CommandMetadata};
use crate::store::Store;

pub struct SafControl {
    pub store: Store,
    pub payments: Arc<CommandBus<Payment>>,
    pub wakeup: Wakeup,
}

/// An operator's action on one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SafAction {
    Retry,
    Park,
    Unpark,
}

impl SafAction {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "retry" => Some(Self::Retry),
            "park" => Some(Self::Park),
            "unpark" => Some(Self::Unpark),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retry => "retry",
            Self::Park => "park",
            Self::Unpark => "unpark",
        }
    }

    /// The delivery's status once the action is done.
    pub fn status_after(self) -> &'static str {
        match self {
            Self::Park => "PARKED",
            Self::Retry | Self::Unpark => "PENDING",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SafActionError {
    #[error("no such delivery")]
    UnknownDelivery,
    #[error("the delivery is not in a state that allows this")]
    NotInState,
    #[error("{0}")]
    Failed(String),
}

impl SafControl {
    /// Does `action` on `delivery_id` as the party in `metadata`; returns its payment.
    pub async fn act(
        &self,
        delivery_id: &str,
        action: SafAction,
        metadata: &CommandMetadata,
    ) -> Result<String, SafActionError> {
        let tran_id = saf_outbox::find(self.store.views().pool(), delivery_id)
            .await
            .map_err(|e| SafActionError::Failed(format!("reading the SAF outbox: {e}")))?
            .map(|row| row.tran_id)
            .ok_or(SafActionError::UnknownDelivery)?;
        let id = delivery_id.to_owned();
        let at = Utc::now();
        let command = match action {
            SafAction::Retry => PaymentCommand::RetryDelivery {
                delivery_id: id,
                at,
            },
            SafAction::Park => PaymentCommand::ParkDelivery {
                delivery_id: id,
                reason: format!("parked by {}", metadata.party),
                at,
            },
            SafAction::Unpark => PaymentCommand::UnparkDelivery {
                delivery_id: id,
                at,
            },
        };
        match self.payments.execute(&tran_id, command, metadata).await {
            Ok(_) => {}
            Err(AggregateError::UserError(PaymentError::DeliveryNotInState(_))) => {
                return Err(SafActionError::NotInState)
            }
            Err(AggregateError::UserError(PaymentError::UnknownDelivery(_))) => {
                return Err(SafActionError::UnknownDelivery)
            }
            Err(other) => return Err(SafActionError::Failed(format!("ops command: {other}"))),
        }
        if action != SafAction::Park {
            let restart_age = action == SafAction::Unpark;
            queue::due_now(self.store.views(), delivery_id, restart_age)
                .await
                .map_err(|e| SafActionError::Failed(format!("rescheduling: {e}")))?;
            self.wakeup.wake_all();
        }
        Ok(tran_id)
    }
}
