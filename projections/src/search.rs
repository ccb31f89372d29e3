//! Finding payments and PayShap transfers for the operator console: every filter is an
//! equality or a range on an indexed column, pages are `LIMIT`/`OFFSET` over an indexed
//! order, and a page asks for one row more than it shows instead of counting, so that a
//! search over a million payments reads a page's worth of index (docs/benchmarks.md).

use sqlx::any::AnyArguments;
use sqlx::{AnyConnection, Arguments};

use crate::payshap_transfers::TransferRow;
use crate::recon::ReconPaymentRow;

/// The most rows one page may show.
pub const MAX_PAGE_ROWS: i64 = 200;
/// The deepest offset a page may start at: deeper pages are a narrower search.
pub const MAX_OFFSET_ROWS: i64 = 10_000;

/// What a payment search may be ordered by: each has an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PaymentOrder {
    #[default]
    RequestedAt,
    Amount,
    TranId,
}

impl PaymentOrder {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "requestedAt" => Some(Self::RequestedAt),
            "amount" => Some(Self::Amount),
            "tranId" => Some(Self::TranId),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RequestedAt => "requestedAt",
            Self::Amount => "amount",
            Self::TranId => "tranId",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Self::RequestedAt => "requested_at",
            Self::Amount => "amount_minor",
            Self::TranId => "tran_id",
        }
    }
}

/// A payment's outcome as the search offers it; `Pending` has none yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeFilter {
    Authorised,
    Declined,
    TimedOut,
    Pending,
}

impl OutcomeFilter {
    pub const ALL: [Self; 4] = [
        Self::Authorised,
        Self::Declined,
        Self::TimedOut,
        Self::Pending,
    ];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authorised => "AUTHORISED",
            Self::Declined => "DECLINED",
            Self::TimedOut => "TIMED_OUT",
            Self::Pending => "PENDING",
        }
    }
}

/// A payment search. Empty fields do not filter; times are view text (`time::to_view_text`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentQuery {
    pub tran_id: Option<String>,
    pub pos_reference: Option<String>,
    pub retailer_id: Option<String>,
    pub store_id: Option<String>,
    pub lane_id: Option<String>,
    pub partner_id: Option<String>,
    pub min_minor: Option<i64>,
    pub max_minor: Option<i64>,
    pub outcome: Option<OutcomeFilter>,
    /// Requested in `[from, to)`: a business day, or any span.
    pub requested_from: Option<String>,
    pub requested_to: Option<String>,
    pub order: PaymentOrder,
    pub descending: bool,
    pub offset: i64,
    pub limit: i64,
}

/// One page of a search, and whether another follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<R> {
    pub rows: Vec<R>,
    pub more: bool,
}

/// A `WHERE` clause with its arguments, numbered as it grows.
struct Where<'q> {
    sql: String,
    args: AnyArguments<'q>,
    count: usize,
}

impl<'q> Where<'q> {
    fn new() -> Self {
        Self {
            sql: String::from(" WHERE 1 = 1"),
            args: AnyArguments::default(),
            count: 0,
        }
    }

    /// Adds `condition`, in which `?` stands for the next argument.
    fn add<T>(&mut self, condition: &str, value: T)
    where
        T: 'q + sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        self.count += 1;
        let numbered = condition.replace('?', &format!("${}", self.count));
        self.sql.push_str(" AND ");
        self.sql.push_str(&numbered);
        // Adding an argument fails only for a type the driver cannot encode at all.
        let _ = self.args.add(value);
    }

    fn text(&mut self, column: &str, value: &Option<String>) {
        if let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            self.add(&format!("{column} = ?"), value.to_owned());
        }
    }
}

fn page_bounds(offset: i64, limit: i64) -> (i64, i64) {
    (
        offset.clamp(0, MAX_OFFSET_ROWS),
        limit.clamp(1, MAX_PAGE_ROWS),
    )
}

/// The payments `query` asks for, one page of them.
pub async fn payments(
    conn: &mut AnyConnection,
    query: &PaymentQuery,
) -> Result<Page<ReconPaymentRow>, sqlx::Error> {
    let mut filter = Where::new();
    filter.text("tran_id", &query.tran_id);
    filter.text("pos_reference", &query.pos_reference);
    filter.text("retailer_id", &query.retailer_id);
    filter.text("store_id", &query.store_id);
    filter.text("lane_id", &query.lane_id);
    filter.text("partner_id", &query.partner_id);
    if let Some(min) = query.min_minor {
        filter.add("amount_minor >= ?", min);
    }
    if let Some(max) = query.max_minor {
        filter.add("amount_minor <= ?", max);
    }
    match query.outcome {
        Some(OutcomeFilter::Pending) => filter.sql.push_str(" AND outcome IS NULL"),
        Some(outcome) => filter.add("outcome = ?", outcome.as_str().to_owned()),
        None => {}
    }
    if let Some(from) = &query.requested_from {
        filter.add("requested_at >= ?", from.clone());
    }
    if let Some(to) = &query.requested_to {
        filter.add("requested_at < ?", to.clone());
    }
    // A QR that no POS asked to be paid has no amount or time to sort by; it is found by
    // its tranId alone.
    if query.tran_id.is_none() {
        filter.sql.push_str(" AND requested_at IS NOT NULL");
    }
    let direction = if query.descending { "DESC" } else { "ASC" };
    let column = query.order.column();
    let order = format!("{column} {direction}, tran_id {direction}");
    fetch_page(
        conn,
        "recon_payments",
        filter,
        &order,
        query.offset,
        query.limit,
    )
    .await
}

/// A PayShap transfer search: by UETR, end-to-end id or proxy (the registry key, or the
/// value a registered proxy has), newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransferQuery {
    pub uetr: Option<String>,
    pub end_to_end_id: Option<String>,
    pub proxy: Option<String>,
    pub offset: i64,
    pub limit: i64,
}

pub async fn transfers(
    conn: &mut AnyConnection,
    query: &TransferQuery,
) -> Result<Page<TransferRow>, sqlx::Error> {
    let mut filter = Where::new();
    filter.text("uetr", &query.uetr);
    filter.text("end_to_end_id", &query.end_to_end_id);
    if let Some(proxy) = query
        .proxy
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        filter.count += 1;
        let n = filter.count;
        filter.sql.push_str(&format!(
            " AND (proxy_id = ${n} OR proxy_id IN \
               (SELECT proxy_id FROM proxy_registry WHERE value = ${n}))"
        ));
        let _ = filter.args.add(proxy.to_owned());
    }
    let order = "first_received_at DESC, uetr DESC";
    fetch_page(
        conn,
        "payshap_transfers",
        filter,
        order,
        query.offset,
        query.limit,
    )
    .await
}

/// One page of `table`'s rows that `filter` keeps, in `order`: one row more than the page
/// is read, to know whether another page follows.
async fn fetch_page<R>(
    conn: &mut AnyConnection,
    table: &str,
    filter: Where<'_>,
    order: &str,
    offset: i64,
    limit: i64,
) -> Result<Page<R>, sqlx::Error>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let (offset, limit) = page_bounds(offset, limit);
    let sql = format!(
        "SELECT * FROM {table}{} ORDER BY {order} LIMIT {} OFFSET {offset}",
        filter.sql,
        limit + 1
    );
    let rows = sqlx::query_as_with(&sql, filter.args)
        .fetch_all(&mut *conn)
        .await?;
    Ok(page_of(rows, limit))
}

fn page_of<R>(mut rows: Vec<R>, limit: i64) -> Page<R> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    Page { rows, more }
}
