//! The authenticated caller, and the checks handlers make against it.

pub use aggregates::role::Role;

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
