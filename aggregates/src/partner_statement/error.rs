#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartnerStatementError {
    #[error("line {line_number} repeats tranId {tran_id}")]
    RepeatedTranId { tran_id: String, line_number: u32 },
    #[error("line {line_number} is in another currency than the first line")]
    MixedCurrencies { line_number: u32 },
}
