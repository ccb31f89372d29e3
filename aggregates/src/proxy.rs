//! The `Proxy` aggregate: one entry of the PayShap proxy registry (a mobile number or custom
//! alias in a namespace, or a bank account at an agent), with the account owner's names, the
//! account's creation date and its status. Its id is [`ProxyKey::id`].
//!
//! Resolution is read from the registry view, not from here; [`reason_for`] is the one rule
//! that turns an entry's state into the scheme's reason code.

mod command;
mod error;
mod event;
mod status;

use chrono::NaiveDate;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use command::{ProxyChange, ProxyCommand};
pub use error::ProxyError;
pub use event::ProxyEvent;
pub use status::{reason_for, AccountStatus};

use crate::values::ProxyKey;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Proxy {
    key: Option<ProxyKey>,
    retired: bool,
    known_as_name: String,
    legal_name: String,
    account_created_on: Option<NaiveDate>,
    status: Option<AccountStatus>,
    resolution_allowed: bool,
}

/// Longest owner name the scheme displays; longer ones are refused at registration so the
/// payer sees exactly what was registered.
pub const OWNER_NAME_MAX_CHARS: usize = 140;

fn check_name(name: &str) -> Result<(), ProxyError> {
    let chars = name.trim().chars().count();
    if chars == 0 || chars > OWNER_NAME_MAX_CHARS {
        return Err(ProxyError::InvalidName);
    }
    Ok(())
}

impl Proxy {
    fn decide(&self, command: ProxyCommand) -> Result<Vec<ProxyEvent>, ProxyError> {
        match command {
            ProxyCommand::Register {
                key,
                known_as_name,
                legal_name,
                account_created_on,
                status,
                resolution_allowed,
                at,
            } => {
                if self.key.is_some() && !self.retired {
                    return Err(ProxyError::AlreadyRegistered);
                }
                check_name(&known_as_name)?;
                check_name(&legal_name)?;
                Ok(vec![ProxyEvent::ProxyRegistered {
                    key,
                    known_as_name,
                    legal_name,
                    account_created_on,
                    status,
                    resolution_allowed,
                    registered_at: at,
                }])
            }
            ProxyCommand::Change { change, at } => {
                self.live()?;
                if let Some(name) = change
                    .known_as_name
                    .as_deref()
                    .or(change.legal_name.as_deref())
                {
                    check_name(name)?;
                }
                let changes_something = change
                    .known_as_name
                    .as_ref()
                    .is_some_and(|n| n != &self.known_as_name)
                    || change
                        .legal_name
                        .as_ref()
                        .is_some_and(|n| n != &self.legal_name)
                    || change.status.is_some_and(|s| Some(s) != self.status)
                    || change
                        .resolution_allowed
                        .is_some_and(|r| r != self.resolution_allowed);
                if !changes_something {
                    return Err(ProxyError::NothingToChange);
                }
                Ok(vec![ProxyEvent::ProxyChanged {
                    change,
                    changed_at: at,
                }])
            }
            ProxyCommand::Retire { at } => {
                self.live()?;
                Ok(vec![ProxyEvent::ProxyRetired { retired_at: at }])
            }
        }
    }

    fn live(&self) -> Result<(), ProxyError> {
        match (&self.key, self.retired) {
            (None, _) => Err(ProxyError::NotRegistered),
            (Some(_), true) => Err(ProxyError::Retired),
            (Some(_), false) => Ok(()),
        }
    }
}

impl Aggregate for Proxy {
    const TYPE: &'static str = "Proxy";
    type Command = ProxyCommand;
    type Event = ProxyEvent;
    type Error = ProxyError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            ProxyEvent::ProxyRegistered {
                key,
                known_as_name,
                legal_name,
                account_created_on,
                status,
                resolution_allowed,
                ..
            } => {
                *self = Proxy {
                    key: Some(key),
                    retired: false,
                    known_as_name,
                    legal_name,
                    account_created_on: Some(account_created_on),
                    status: Some(status),
                    resolution_allowed,
                };
            }
            ProxyEvent::ProxyChanged { change, .. } => {
                if let Some(name) = change.known_as_name {
                    self.known_as_name = name;
                }
                if let Some(name) = change.legal_name {
                    self.legal_name = name;
                }
                if let Some(status) = change.status {
                    self.status = Some(status);
                }
                if let Some(allowed) = change.resolution_allowed {
                    self.resolution_allowed = allowed;
                }
            }
            ProxyEvent::ProxyRetired { .. } => self.retired = true,
        }
    }
}

#[cfg(test)]
mod tests;
