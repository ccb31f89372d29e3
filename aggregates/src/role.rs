//! The roles a user of the switch can have. Configuration names them for each user and the
//! HTTP surfaces check them, so the type lives here, below both.

use serde::Deserialize;

/// What a user may do. The user name is the party's id: a retailer's `client.id`, a
/// partner's `partner.id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A retailer's POS: QR codes, payments, advices, on its own transactions.
    Retailer,
    /// A QR partner: scan notifications, as itself.
    Partner,
    /// The PayShap scheme side (sponsor bank): PayShap inbound endpoints.
    Scheme,
    /// Finance: reads reports and queues.
    Backoffice,
    /// Operations: administers queues and read models.
    Ops,
    /// Audit: reads every event, report and queue; changes nothing.
    Auditor,
    /// Four eyes: approves or rejects what another user asked to do with money.
    Approver,
}

impl Role {
    /// Who may read the books: reports, extracts, queues, the proxy registry and the
    /// events. Writes name their own roles, never the auditor.
    pub const READS_BOOKS: &'static [Role] = &[Role::Backoffice, Role::Ops, Role::Auditor];
}
