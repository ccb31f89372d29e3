//! The authenticated caller, and the checks handlers make against it.

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
}

impl Role {
    /// Who may read the books: reports, extracts, queues, the proxy registry and the
    /// events. Writes name their own roles, never the auditor.
    pub const READS_BOOKS: &'static [Role] = &[Role::Backoffice, Role::Ops, Role::Auditor];
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Party {
    Authenticated {
        user: String,
        role: Role,
    },
    /// No users are configured (development on a loopback address): every check passes and
    /// identities come from the messages.
    Open,
}

/// Why a party may not do something: 403, without saying whether anything exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forbidden;

impl Party {
    /// Passes if the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), Forbidden> {
        match self {
            Party::Open => Ok(()),
            Party::Authenticated { role, .. } if roles.contains(role) => Ok(()),
            Party::Authenticated { .. } => Err(Forbidden),
        }
    }

    /// Passes if the caller has `role` and is the party `claimed_id` the message names.
    pub fn require_as(&self, role: Role, claimed_id: &str) -> Result<(), Forbidden> {
        self.require(&[role])?;
        match self {
            Party::Authenticated { user, .. } if user != claimed_id => Err(Forbidden),
            _ => Ok(()),
        }
    }

    /// The user name, if authenticated.
    pub fn user(&self) -> Option<&str> {
        match self {
            Party::Authenticated { user, .. } => Some(user),
            Party::Open => None,
        }
    }

    /// Recorded on events as who caused them.
    pub fn label<'a>(&'a self, claimed: &'a str) -> &'a str {
        self.user().unwrap_or(claimed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_identities_are_checked() {
        let shop = Party::Authenticated {
            user: "shop".into(),
            role: Role::Retailer,
        };
        assert_eq!(shop.require(&[Role::Retailer]), Ok(()));
        assert_eq!(shop.require(&[Role::Ops]), Err(Forbidden));
        assert_eq!(shop.require_as(Role::Retailer, "shop"), Ok(()));
        assert_eq!(shop.require_as(Role::Retailer, "other"), Err(Forbidden));
        assert_eq!(Party::Open.require_as(Role::Ops, "anyone"), Ok(()));
    }
}
