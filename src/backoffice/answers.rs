//! The finance API's answers and parameters, as the API document describes them.

/// The parameters every day's report and extract reads from `Params` (`super::as_of::Params`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(non_snake_case, dead_code)]
pub struct ReportParams {
    /// `json` (default) or `csv`.
    format: Option<String>,
    /// RFC 3339: judge the day as at this moment (overdue advices, open exceptions).
    asOf: Option<String>,
    /// `COMMITTX-POSITION` from an earlier answer's `X-Qrswitch-Feed-Position`: the report
    /// reproduced exactly as it was.
    asOfPosition: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionsAnswer {
    pub business_day: String,
    pub as_of: String,
    pub exceptions: Vec<super::exceptions::Exception>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarkoffAnswer {
    pub business_day: String,
    pub credits: Vec<projections::payshap_transfers::TransferRow>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeeTermsAnswer {
    pub fee_terms: Vec<projections::recon::FeeTermsRow>,
}
