//! `qrswitch config check FILE`: every problem of a configuration, all at once, before a
//! deploy rather than at start-up one at a time. It reads the file as `serve` would (the
//! environment applied on top), runs the configuration's own checks, then asks each owner of
//! a setting to build its part: the business calendar, the users' password hashes, the
//! console's session key, the PayShap signing keys, the TLS certificate and key, the partner
//! clients. Nothing is started and no store is opened.

use std::path::Path;

use crate::backoffice::calendar::BusinessCalendar;
use crate::config::Config;
use crate::partners::PartnerClients;
use crate::payshap::keys::SchemeKeys;
use crate::security::credentials::Credentials;
use crate::security::session::Sessions;

/// Every problem of the configuration in `path`; none when it would start.
pub fn problems(path: &Path) -> Vec<String> {
    let mut config = match Config::from_file(path) {
        Ok(config) => config,
        // The file does not read: what serde saw first is all there is to say.
        Err(error) => return vec![error.to_string()],
    };
    let mut problems = Vec::new();
    if let Err(error) = config.apply_env(|name| std::env::var(name).ok()) {
        problems.push(error.to_string());
    }
    problems.extend(config.problems());
    problems.extend(owners(&config));
    problems
}

/// What the owners of the settings refuse.
fn owners(config: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(reason) = BusinessCalendar::from_config(&config.backoffice) {
        problems.push(format!("backoffice: {reason}"));
    }
    if let Err(reason) = Credentials::new(&config.users) {
        problems.push(format!("users: {reason}"));
    }
    if let Err(reason) = Sessions::new(&config.security, config.server.tls.is_some()) {
        problems.push(format!("security: {reason}"));
    }
    if let Some(signing) = &config.payshap.signing {
        if let Err(error) = SchemeKeys::load(signing) {
            problems.push(format!("payshap.signing: {error}"));
        }
    }
    if let Some(tls) = &config.server.tls {
        if let Err(error) = crate::security::tls::server_config(tls) {
            problems.push(format!("server.tls: {error:#}"));
        }
    }
    if let Err(error) = PartnerClients::build(&config.partners) {
        problems.push(format!("partners: {error:#}"));
    }
    problems
}

/// What would start but is not what production wants: said, not counted as a problem.
pub fn warnings(path: &Path) -> Vec<String> {
    let Ok(config) = Config::from_file(path) else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    if config.payshap.signing.is_none() {
        warnings.push(
            "payshap.signing is not set: PayShap inbound takes HTTP Basic alone and its \
             answers are not signed, where Electrum signs and checks every message"
                .to_owned(),
        );
    }
    if config.payshap.collection_account.trim().is_empty() {
        warnings.push(
            "payshap.collection_account is empty: positive proxy answers carry no \
             traditionalIdentifier (it is refused once signing or partner-auth is on)"
                .to_owned(),
        );
    }
    warnings
}

/// Prints each warning and problem on a line of its own; true when there is no problem.
pub fn run(path: &Path) -> bool {
    for warning in warnings(path) {
        println!("{}: warning: {warning}", path.display());
    }
    let problems = problems(path);
    if problems.is_empty() {
        println!("{}: the configuration is valid", path.display());
        return true;
    }
    for problem in &problems {
        println!("{}: {problem}", path.display());
    }
    let count = problems.len();
    println!("{count} problem{}", if count == 1 { "" } else { "s" });
    false
}
