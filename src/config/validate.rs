//! What serde cannot check: template tags, lengths the contract caps, limits that must be
//! positive or bounded, names that must be unique. The types other modules own (the
//! business calendar, password hashes) are checked by those modules at start-up.

use std::collections::HashSet;

use super::database::{MAX_APPEND_BATCH_COMMANDS, MAX_APPEND_WRITERS};
use super::payments::PartnerConfig;
use super::{Config, ConfigError};
use crate::emv::payload::{GUID_MAX_CHARS, MERCHANT_ACCOUNT_TAGS};

fn invalid<T>(reason: String) -> Result<T, ConfigError> {
    Err(ConfigError::Invalid(reason))
}

impl Config {
    /// Every check, in the order of the file's sections; the first problem is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut tags_in_use = self.validate_qr()?;
        self.validate_limits()?;
        self.validate_users()?;
        if self.payshap.qr_enabled
            && (!MERCHANT_ACCOUNT_TAGS.contains(&self.payshap.qr_template_tag)
                || !tags_in_use.insert(self.payshap.qr_template_tag))
        {
            return invalid("payshap.qr_template_tag must be unique and within 26-51".to_owned());
        }
        self.validate_backoffice()?;
        let mut ids = HashSet::new();
        for partner in &self.partners {
            if !ids.insert(partner.id.as_str()) {
                return invalid(format!("partner {} is configured twice", partner.id));
            }
            validate_partner(partner, &mut tags_in_use)?;
        }
        Ok(())
    }

    /// The QR's own template tag and GUID; returns the tags in use so far.
    fn validate_qr(&self) -> Result<HashSet<u8>, ConfigError> {
        if !MERCHANT_ACCOUNT_TAGS.contains(&self.qr.template_tag) {
            return invalid(format!(
                "qr.template_tag {} is not within 26-51",
                self.qr.template_tag
            ));
        }
        if self.qr.guid.is_empty() || self.qr.guid.len() > GUID_MAX_CHARS {
            return invalid("qr.guid must be 1 to 32 characters".to_owned());
        }
        Ok(HashSet::from([self.qr.template_tag]))
    }

    fn validate_limits(&self) -> Result<(), ConfigError> {
        if self.server.max_in_flight_requests == 0 {
            return invalid("server.max_in_flight_requests must be positive".to_owned());
        }
        if self.server.body_read_timeout_ms == 0 {
            return invalid("server.body_read_timeout_ms must be positive".to_owned());
        }
        if self.saf.max_in_flight_per_partner == 0 || self.saf.backoff_base_ms == 0 {
            return invalid(
                "saf.max_in_flight_per_partner and backoff_base_ms must be positive".to_owned(),
            );
        }
        let database = &self.database;
        if !(1..=MAX_APPEND_WRITERS).contains(&database.append_writers)
            || !(1..=MAX_APPEND_BATCH_COMMANDS).contains(&database.append_batch_commands)
        {
            return invalid(format!(
                "database.append_writers must be 1 to {MAX_APPEND_WRITERS} and \
                 database.append_batch_commands 1 to {MAX_APPEND_BATCH_COMMANDS}"
            ));
        }
        if self.payments.pay_timeout_ms == 0 || self.qr.expiry_ms == 0 {
            return invalid("payments.pay_timeout_ms and qr.expiry_ms must be positive".to_owned());
        }
        Ok(())
    }

    fn validate_users(&self) -> Result<(), ConfigError> {
        let mut names = HashSet::new();
        for user in &self.users {
            if !names.insert(user.name.as_str()) || user.name.contains(':') || user.name.is_empty()
            {
                return invalid(format!(
                    "user {:?} is empty, repeated or contains ':'",
                    user.name
                ));
            }
        }
        Ok(())
    }

    fn validate_backoffice(&self) -> Result<(), ConfigError> {
        let mut partners = HashSet::new();
        for fee in &self.backoffice.fees {
            if !partners.insert(fee.partner_id.as_str()) {
                return invalid(format!("fees for {} are configured twice", fee.partner_id));
            }
            if aggregates::values::PartyId::parse(&fee.partner_id).is_err() {
                return invalid(format!("fees: {:?} is not a party id", fee.partner_id));
            }
            if let Err(reason) = fee.terms().check() {
                return invalid(format!("fees for {}: {reason}", fee.partner_id));
            }
        }
        Ok(())
    }
}

/// One partner's settings; its template tag joins `tags_in_use`.
fn validate_partner(
    partner: &PartnerConfig,
    tags_in_use: &mut HashSet<u8>,
) -> Result<(), ConfigError> {
    let id = &partner.id;
    if aggregates::values::PartyId::parse(id).is_err() {
        return invalid(format!("partner id {id:?} is not a valid party id"));
    }
    if partner.name.chars().count() > 40 {
        return invalid(format!("partner {id} name is over 40 characters"));
    }
    if !MERCHANT_ACCOUNT_TAGS.contains(&partner.template_tag)
        || !tags_in_use.insert(partner.template_tag)
    {
        return invalid(format!(
            "partner {id} template_tag {} must be unique and within 26-51",
            partner.template_tag
        ));
    }
    if partner.qr_guid.is_empty() || partner.qr_guid.len() > GUID_MAX_CHARS {
        return invalid(format!("partner {id} qr_guid must be 1 to 32 characters"));
    }
    if !(partner.base_url.starts_with("http://") || partner.base_url.starts_with("https://")) {
        return invalid(format!("partner {id} base_url must be http(s)://"));
    }
    if partner.timeout_ms == 0 {
        return invalid(format!("partner {id} timeout_ms must be positive"));
    }
    Ok(())
}
