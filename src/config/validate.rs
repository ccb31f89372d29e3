//! What serde cannot check: template tags, lengths the contract caps, limits that must be
//! positive or bounded, names that must be unique. The types other modules own (the
//! business calendar, password hashes, keys) are checked by those modules; `qrswitch config
//! check` asks them too (`crate::config_check`).

use std::collections::HashSet;

use super::database::{MAX_APPEND_BATCH_COMMANDS, MAX_APPEND_WRITERS};
use super::payments::PartnerConfig;
use super::{Config, ConfigError};
use crate::emv::payload::{GUID_MAX_CHARS, MERCHANT_ACCOUNT_TAGS};

impl Config {
    /// Every check; all the problems found, joined, or none.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(problems.join("; ")))
        }
    }

    /// Every problem of the configuration this module can see, in the order of the file's
    /// sections.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut tags_in_use = self.check_qr(&mut problems);
        self.check_limits(&mut problems);
        self.check_users(&mut problems);
        if self.payshap.qr_enabled
            && (!MERCHANT_ACCOUNT_TAGS.contains(&self.payshap.qr_template_tag)
                || !tags_in_use.insert(self.payshap.qr_template_tag))
        {
            problems.push("payshap.qr_template_tag must be unique and within 26-51".to_owned());
        }
        self.check_partner_auth(&mut problems);
        if let Some(Err(problem)) = self.payshap.recon.as_ref().map(|r| r.daily_at()) {
            problems.push(problem);
        }
        let in_use = self.payshap.signing.is_some() || self.payshap.partner_auth.is_enabled();
        if in_use && self.payshap.collection_account.trim().is_empty() {
            problems.push(
                "payshap.collection_account must be set: a positive proxy answer carries it \
                 as traditionalIdentifier"
                    .to_owned(),
            );
        }
        self.check_backoffice(&mut problems);
        problems.extend(self.tracing.problems());
        let mut ids = HashSet::new();
        for partner in &self.partners {
            if !ids.insert(partner.id.as_str()) {
                problems.push(format!("partner {} is configured twice", partner.id));
            }
            check_partner(partner, &mut tags_in_use, &mut problems);
        }
        problems
    }

    /// Partner-auth needs our client of Electrum's API, and it signs with our PayShap key.
    fn check_partner_auth(&self, problems: &mut Vec<String>) {
        let payshap = &self.payshap;
        if payshap.partner_auth.is_enabled() && payshap.electrum.is_none() {
            problems.push(
                "payshap.partner_auth needs [payshap.electrum]: decisions are sent to Electrum"
                    .to_owned(),
            );
        }
        let Some(electrum) = &payshap.electrum else {
            return;
        };
        if payshap.signing.is_none() {
            problems.push(
                "payshap.electrum needs [payshap.signing]: every request to Electrum is signed"
                    .to_owned(),
            );
        }
        if !(electrum.base_url.starts_with("http://") || electrum.base_url.starts_with("https://"))
        {
            problems.push("payshap.electrum.base_url must be http(s)://".to_owned());
        }
        if electrum.timeout_ms == 0 || electrum.decision_deadline_ms == 0 {
            problems.push(
                "payshap.electrum.timeout_ms and decision_deadline_ms must be positive".to_owned(),
            );
        }
        if payshap
            .partner_auth
            .max_amount_cents
            .is_some_and(|cents| cents <= 0)
        {
            problems.push("payshap.partner_auth.max_amount_cents must be positive".to_owned());
        }
    }

    /// The QR's own template tag and GUID; returns the tags in use so far.
    fn check_qr(&self, problems: &mut Vec<String>) -> HashSet<u8> {
        if !MERCHANT_ACCOUNT_TAGS.contains(&self.qr.template_tag) {
            problems.push(format!(
                "qr.template_tag {} is not within 26-51",
                self.qr.template_tag
            ));
        }
        if self.qr.guid.is_empty() || self.qr.guid.len() > GUID_MAX_CHARS {
            problems.push("qr.guid must be 1 to 32 characters".to_owned());
        }
        if !(6..=20).contains(&self.qr.short_code_digits) {
            problems.push("qr.short_code_digits must be 6 to 20".to_owned());
        }
        for merchant in &self.qr.merchants {
            let checked = merchant
                .network_objects()
                .and_then(|_| merchant.unreserved().map(|_| ()));
            if let Err(why) = checked {
                problems.push(format!("qr.merchants {}: {why}", merchant.client_id));
            }
        }
        HashSet::from([self.qr.template_tag])
    }

    fn check_limits(&self, problems: &mut Vec<String>) {
        let mut positive = |value: u64, name: &str| {
            if value == 0 {
                problems.push(format!("{name} must be positive"));
            }
        };
        positive(
            self.server.max_in_flight_requests as u64,
            "server.max_in_flight_requests",
        );
        positive(
            self.server.body_read_timeout_ms,
            "server.body_read_timeout_ms",
        );
        positive(
            self.saf.max_in_flight_per_partner as u64,
            "saf.max_in_flight_per_partner",
        );
        positive(self.saf.backoff_base_ms, "saf.backoff_base_ms");
        positive(self.payments.pay_timeout_ms, "payments.pay_timeout_ms");
        positive(self.qr.expiry_ms, "qr.expiry_ms");
        positive(
            self.security.console_session_ms,
            "security.console_session_ms",
        );
        let database = &self.database;
        if !(1..=MAX_APPEND_WRITERS).contains(&database.append_writers) {
            problems.push(format!(
                "database.append_writers must be 1 to {MAX_APPEND_WRITERS}"
            ));
        }
        if !(1..=MAX_APPEND_BATCH_COMMANDS).contains(&database.append_batch_commands) {
            problems.push(format!(
                "database.append_batch_commands must be 1 to {MAX_APPEND_BATCH_COMMANDS}"
            ));
        }
    }

    fn check_users(&self, problems: &mut Vec<String>) {
        let mut names = HashSet::new();
        for user in &self.users {
            if !names.insert(user.name.as_str()) || user.name.contains(':') || user.name.is_empty()
            {
                problems.push(format!(
                    "user {:?} is empty, repeated or contains ':'",
                    user.name
                ));
            }
        }
    }

    fn check_backoffice(&self, problems: &mut Vec<String>) {
        let mut partners = HashSet::new();
        for fee in &self.backoffice.fees {
            if !partners.insert(fee.partner_id.as_str()) {
                problems.push(format!("fees for {} are configured twice", fee.partner_id));
            }
            if aggregates::values::PartyId::parse(&fee.partner_id).is_err() {
                problems.push(format!("fees: {:?} is not a party id", fee.partner_id));
            }
            if let Err(reason) = fee.terms().check() {
                problems.push(format!("fees for {}: {reason}", fee.partner_id));
            }
        }
    }
}

/// One partner's settings; its template tag joins `tags_in_use`.
fn check_partner(
    partner: &PartnerConfig,
    tags_in_use: &mut HashSet<u8>,
    problems: &mut Vec<String>,
) {
    let id = &partner.id;
    let mut problem = |text: String| problems.push(format!("partner {id}: {text}"));
    if aggregates::values::PartyId::parse(id).is_err() {
        problem("the id is not a valid party id".to_owned());
    }
    if partner.name.chars().count() > 40 {
        problem("name is over 40 characters".to_owned());
    }
    if !MERCHANT_ACCOUNT_TAGS.contains(&partner.template_tag)
        || !tags_in_use.insert(partner.template_tag)
    {
        problem(format!(
            "template_tag {} must be unique and within 26-51",
            partner.template_tag
        ));
    }
    if partner.qr_guid.is_empty() || partner.qr_guid.len() > GUID_MAX_CHARS {
        problem("qr_guid must be 1 to 32 characters".to_owned());
    }
    if let Err(why) = super::qr::data_objects(&partner.qr_fields, 2..=99) {
        problem(format!("qr_fields: {why}"));
    }
    if !(partner.base_url.starts_with("http://") || partner.base_url.starts_with("https://")) {
        problem("base_url must be http(s)://".to_owned());
    }
    if partner.timeout_ms == 0 {
        problem("timeout_ms must be positive".to_owned());
    }
}
