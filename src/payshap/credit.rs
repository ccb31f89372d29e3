//! Applying an inbound credit as a service: whether its creditor proxy is ours (a QR's, or
//! one in the registry), and paying the QR payment it names.

use aggregates::payshap_transfer::PayShapCommand;
use aggregates::values::{PartyId, ProxyKey};
use aggregates::PaymentCommand;
use chrono::Utc;
use cqrs_es::AggregateError;
use projections::proxy_registry;

use super::service::PayShapService;
use super::wire::FailureResponse;
use crate::commands::CommandMetadata;

/// What the switch knows of a credit's creditor.
pub struct CreditorFacts {
    /// A live proxy of ours (or a QR payment).
    pub known: bool,
    /// Credits to it are ours to authorise (partner-auth).
    pub partner_auth: bool,
}

impl PayShapService {
    /// The tranId a credit to one of our QR proxies names.
    pub fn qr_tran_id(&self, creditor: Option<&ProxyKey>) -> Option<String> {
        match creditor {
            Some(ProxyKey::Custom { namespace, value })
                if namespace == &self.config.payshap.qr_namespace =>
            {
                Some(value.clone())
            }
            _ => None,
        }
    }

    /// Whether a credit's proxy is ours, and whether we authorise credits to it
    /// (partner-auth: by its namespace, or a QR payment's merchant).
    pub async fn creditor(
        &self,
        creditor: Option<&ProxyKey>,
        tran_id: Option<&str>,
    ) -> Result<CreditorFacts, FailureResponse> {
        let partner_auth = &self.config.payshap.partner_auth;
        let namespace = creditor.map(ProxyKey::context);
        let (known, merchant) = match (creditor, tran_id) {
            (_, Some(tran_id)) => {
                let payment = self
                    .payments
                    .load(tran_id)
                    .await
                    .map_err(|e| FailureResponse::unavailable("loading a QR payment", &e))?;
                let merchant = payment.qr().map(|qr| qr.client_id.to_string());
                (merchant.is_some(), merchant)
            }
            (Some(key), None) => {
                let row = proxy_registry::find(self.store.views().pool(), &key.id())
                    .await
                    .map_err(|e| FailureResponse::unavailable("reading the proxy registry", &e))?;
                (row.is_some_and(|row| row.retired == 0), None)
            }
            (None, None) => (false, None),
        };
        Ok(CreditorFacts {
            known,
            partner_auth: partner_auth.covers(namespace, merchant.as_deref()),
        })
    }

    /// Pays the QR payment; `Some(reason)` when the payment refused the credit (a refund is
    /// then owed, recorded on the transfer).
    pub async fn apply_to_payment(
        &self,
        uetr: &str,
        tran_id: &str,
        amount: aggregates::values::Amount,
        metadata: &CommandMetadata,
    ) -> Result<Option<String>, FailureResponse> {
        let partner_id = PartyId::parse(&self.config.payshap.partner_id)
            .map_err(|e| FailureResponse::unavailable("self.partner_id is not a party id", &e))?;
        let command = PaymentCommand::ReceivePayShapCredit {
            uetr: uetr.to_owned(),
            partner_id,
            amount,
            at: Utc::now(),
        };
        match self.payments.execute(tran_id, command, metadata).await {
            Ok(_) => Ok(None),
            Err(AggregateError::UserError(refusal)) => {
                tracing::warn!(uetr, tran_id, %refusal, "PayShap credit cannot pay its QR payment: refund required");
                let command = PayShapCommand::MarkUnapplied {
                    reason: refusal.to_string(),
                    at: Utc::now(),
                };
                self.transfers
                    .execute(uetr, command, metadata)
                    .await
                    .map_err(|e| {
                        FailureResponse::unavailable("recording an unapplied credit", &e)
                    })?;
                Ok(Some(format!("credit not applied to {tran_id}: {refusal}")))
            }
            Err(other) => Err(FailureResponse::unavailable(
                "applying a PayShap credit",
                &other,
            )),
        }
    }
}
