/// Completions are always accepted (must-deliver); nothing is refused at this level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayShapError {}
