//! Identifier determination as a service: what the registry (or, for a QR's proxy, the
//! pending payment) says about a proxy, and the record of each answer.

use std::sync::Arc;

use aggregates::proxy::reason_for;
use aggregates::resolution::{ResolutionCommand, ResolutionError};
use aggregates::values::ProxyKey;
use aggregates::Stage;
use chrono::Utc;
use cqrs_es::AggregateError;
use projections::proxy_registry;

use super::priority;
use super::service::PayShapService;
use crate::commands::CommandMetadata;

/// What the lookup found.
pub enum Lookup {
    Positive {
        known_as_name: String,
        legal_name: String,
        /// When the account was opened, as an RFC 3339 date-time.
        creation_date: String,
        /// Strings we add to the answer's `supplementaryData` (a QR's tranId and amount).
        supplementary: Vec<(&'static str, String)>,
        /// What a QR payment asks for, when it names an amount.
        amount_due: Option<aggregates::values::Amount>,
    },
    Negative {
        reason_code: &'static str,
        description: &'static str,
    },
}

impl Lookup {
    pub fn reason_code(&self) -> Option<&'static str> {
        match self {
            Lookup::Positive { .. } => None,
            Lookup::Negative { reason_code, .. } => Some(reason_code),
        }
    }
}

pub fn negative(reason_code: &'static str, description: &'static str) -> Lookup {
    Lookup::Negative {
        reason_code,
        description,
    }
}

/// FF10: our store failed while resolving or recording ("error at client" in the ops guide).
fn receiving_party_error() -> Lookup {
    negative("FF10", "error at the receiving party")
}

fn describe(reason_code: &str) -> &'static str {
    match reason_code {
        "AC06" => "account blocked",
        "AC04" => "account closed",
        "AC16" => "account in sequestration",
        "AC17" => "account in liquidation",
        "MD07" => "account holder deceased",
        "NOCM" => "account not compliant",
        "AG01" => "account cannot receive payments",
        "AG03" => "not allowed for this account",
        _ => "proxy unknown or invalid",
    }
}

/// The identifiers of one resolution, as recorded.
pub struct Resolved {
    pub uetr: String,
    pub message_id: String,
    pub verification_id: String,
    pub proxy_id: String,
}

impl PayShapService {
    /// Looks `key` up (`None`: not in a form its schema allows) and records the answer,
    /// on the resolutions' own runtime where there is one. An answer that could not be
    /// recorded is not given: FF10 instead.
    pub async fn determine(
        self: Arc<Self>,
        key: Option<ProxyKey>,
        resolved: Resolved,
        metadata: CommandMetadata,
    ) -> Lookup {
        let runtime = self.resolution_runtime.clone();
        let service = self;
        let work = async move {
            let lookup = match &key {
                Some(key) => service.look_up(key).await,
                // PX04: the proxy is not in a form its schema allows (ops guide, codes).
                None => negative("PX04", "proxy format invalid"),
            };
            let recorded = service
                .record_resolution(resolved, lookup.reason_code(), &metadata)
                .await;
            match recorded {
                Ok(()) => lookup,
                Err(error) => {
                    tracing::error!(%error, "could not record a resolution; answering FF10");
                    receiving_party_error()
                }
            }
        };
        priority::run(runtime.as_ref(), work)
            .await
            .unwrap_or_else(receiving_party_error)
    }

    pub async fn look_up(&self, key: &ProxyKey) -> Lookup {
        if let ProxyKey::Custom { namespace, value } = key {
            if namespace == &self.config.payshap.qr_namespace {
                return self.look_up_qr(value).await;
            }
        }
        match proxy_registry::find(self.resolution_store.views().pool(), &key.id()).await {
            Ok(Some(row)) if row.retired == 0 => {
                let Some(status) = row.account_status() else {
                    return receiving_party_error();
                };
                match reason_for(status, row.resolution_allowed != 0) {
                    Some(code) => negative(code, describe(code)),
                    None => Lookup::Positive {
                        known_as_name: row.known_as_name,
                        legal_name: row.legal_name,
                        // The registry keeps the day the account was opened; midnight UTC.
                        creation_date: format!("{}T00:00:00Z", row.account_created_on),
                        supplementary: Vec::new(),
                        amount_due: None,
                    },
                }
            }
            Ok(_) => negative("BE23", "proxy unknown or invalid"),
            Err(error) => {
                tracing::error!(%error, "proxy registry unreadable");
                receiving_party_error()
            }
        }
    }

    /// A QR's proxy resolves while its payment can still be paid.
    async fn look_up_qr(&self, tran_id: &str) -> Lookup {
        let payment = match self.payments.load(tran_id).await {
            Ok(payment) => payment,
            Err(error) => {
                tracing::error!(%error, "payment unreadable for a QR resolution");
                return receiving_party_error();
            }
        };
        let Some(qr) = payment.qr() else {
            return negative("BE23", "proxy unknown or invalid");
        };
        let open = matches!(payment.stage(), Stage::Open) && payment.payshap_credit().is_none();
        if !open || Utc::now() >= qr.expires_at {
            return negative("BE23", "QR expired or already paid");
        }
        let amount = qr.amount.or(payment.request().map(|r| r.amount));
        let mut supplementary = vec![("tranId", tran_id.to_owned())];
        if let Some(amount) = amount {
            supplementary.push(("amountDue", crate::emv::payload::format_amount(amount)));
            supplementary.push(("currency", "ZAR".to_owned()));
        }
        Lookup::Positive {
            known_as_name: qr
                .merchant_name
                .clone()
                .unwrap_or_else(|| self.config.qr.default_merchant_name.clone()),
            legal_name: self.config.payshap.legal_name.clone(),
            creation_date: qr
                .issued_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            supplementary,
            amount_due: amount,
        }
    }

    /// Records the answer to a resolution under its UETR, before it is sent. The same
    /// request again was recorded the first time.
    pub async fn record_resolution(
        &self,
        asked: Resolved,
        reason_code: Option<&str>,
        metadata: &CommandMetadata,
    ) -> Result<(), AggregateError<ResolutionError>> {
        let command = ResolutionCommand::Record {
            uetr: asked.uetr.clone(),
            message_id: asked.message_id,
            verification_id: asked.verification_id,
            proxy_id: asked.proxy_id,
            reason_code: reason_code.map(str::to_owned),
            at: Utc::now(),
        };
        match self
            .resolutions
            .execute_new(&asked.uetr, command, metadata)
            .await
        {
            Ok(_) | Err(AggregateError::UserError(ResolutionError::AlreadyRecorded)) => Ok(()),
            Err(other) => Err(other),
        }
    }
}
