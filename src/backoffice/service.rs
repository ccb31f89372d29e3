//! The parts of the state the back office reads and changes, handed to its handlers as one:
//! the settings, the recon views and their projectors, the business calendar, and the
//! partner statements it imports.

use std::sync::Arc;

use aggregates::partner_statement::PartnerStatement;

use super::calendar::BusinessCalendar;
use crate::commands::CommandBus;
use crate::config::Config;
use crate::store::Store;
use crate::views::Projectors;

pub struct BackOfficeService {
    pub config: Arc<Config>,
    pub store: Store,
    pub calendar: Arc<BusinessCalendar>,
    pub projectors: Arc<Projectors>,
    pub statements: Arc<CommandBus<PartnerStatement>>,
}
