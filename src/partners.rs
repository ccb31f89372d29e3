//! One HTTP client per configured partner, each with that partner's CA and our client
//! certificate: shared by the authorisation routing and the store-and-forward dispatcher.

use std::collections::HashMap;

use crate::config::PartnerConfig;

pub struct PartnerClients {
    clients: HashMap<String, reqwest::Client>,
}

impl PartnerClients {
    /// A client for every partner in `partners` (enabled or not: deliveries are still owed
    /// to a disabled one).
    pub fn build(partners: &[PartnerConfig]) -> anyhow::Result<Self> {
        let clients = partners
            .iter()
            .map(|p| Ok((p.id.clone(), crate::security::tls::partner_client(p)?)))
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { clients })
    }

    /// The client for calls to `partner_id` (configured partners only).
    pub fn get(&self, partner_id: &str) -> Option<&reqwest::Client> {
        self.clients.get(partner_id)
    }
}
