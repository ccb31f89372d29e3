//! Reading and writing a batch's view rows by key, a few statements per batch instead of one
//! or two per event: a view folds a batch of events onto its rows in memory and writes each
//! changed row once. Works on both stores (`ON CONFLICT … DO UPDATE` is common to
//! PostgreSQL and SQLite).
//!
//! The statements vary with the number of rows, so they are not kept prepared
//! (`persistent(false)`): each runs once per batch, and a cache of every length would
//! only push the per-event statements out.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, FromRow};

/// Bound values per statement at most: under SQLite's limit of 32,766 and PostgreSQL's of
/// 65,535.
const MAX_BOUND_VALUES: usize = 16_000;

pub type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// A view table written by whole rows: its name, its key column and every column in the
/// order the row binder binds them (the key first).
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [&'static str],
}

impl Table {
    fn key(&self) -> &'static str {
        self.columns[0]
    }
}

/// The rows of `table` whose key is among `keys`, by key.
pub async fn fetch_by_keys<R>(
    conn: &mut AnyConnection,
    table: &Table,
    keys: &[&str],
    key_of: fn(&R) -> &str,
) -> Result<HashMap<String, R>, sqlx::Error>
where
    R: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    let mut found = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(MAX_BOUND_VALUES) {
        let sql = format!(
            "SELECT * FROM {} WHERE {} IN ({})",
            table.name,
            table.key(),
            placeholders(1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, R>(&sql).persistent(false);
        for key in chunk {
            query = query.bind(*key);
        }
        for row in query.fetch_all(&mut *conn).await? {
            found.insert(key_of(&row).to_owned(), row);
        }
    }
    Ok(found)
}

/// Writes `rows` whole: inserted, or replacing the stored row with the same key.
pub async fn upsert<R>(
    conn: &mut AnyConnection,
    table: &Table,
    rows: &[&R],
    bind: for<'q> fn(AnyQuery<'q>, &'q R) -> AnyQuery<'q>,
) -> Result<(), sqlx::Error> {
    let width = table.columns.len();
    let per_statement = (MAX_BOUND_VALUES / width).max(1);
    let updates: Vec<String> = table.columns[1..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    for chunk in rows.chunks(per_statement) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", placeholders(i * width + 1, width)))
            .collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {} ON CONFLICT ({}) DO UPDATE SET {}",
            table.name,
            table.columns.join(", "),
            values.join(", "),
            table.key(),
            updates.join(", ")
        );
        let mut query = sqlx::query(&sql).persistent(false);
        for row in chunk {
            query = bind(query, row);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// `$from, $from+1, …` (`count` of them).
fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows of `rows` whose keys are in `changed`, in key order (a stable write order).
pub fn changed<R, K: AsRef<str>>(
    rows: &HashMap<String, R>,
    changed: impl IntoIterator<Item = K>,
) -> Vec<&R> {
    let mut keys: Vec<K> = changed.into_iter().collect();
    keys.sort_unstable_by(|a, b| a.as_ref().cmp(b.as_ref()));
    keys.iter().filter_map(|k| rows.get(k.as_ref())).collect()
}

/// The distinct keys of a batch, in first-seen order.
pub fn distinct<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = std::collections::HashSet::new();
    keys.into_iter().filter(|k| seen.insert(*k)).collect()
}

/// The distinct aggregates of a batch, in first-seen order, that may already have a row:
/// those whose first event in the batch is not their first event ever (`sequence` 1). An
/// aggregate whose stream starts in this batch had nothing folded before it (the rows and
/// the checkpoint commit together), so reading its row is a lookup that finds nothing:
/// about half of a busy pass's payments. `events` are `(aggregate id, sequence)` in feed
/// order.
pub fn stored_before<'a>(events: impl IntoIterator<Item = (&'a str, i64)>) -> Vec<&'a str> {
    let mut seen = std::collections::HashSet::new();
    events
        .into_iter()
        .filter(|(key, _)| seen.insert(*key))
        .filter(|(_, sequence)| *sequence > 1)
        .map(|(key, _)| key)
        .collect()
}

/// The rows of `table` (a view whose rows wait on people: approvals, refunds) of one
/// `status`, or all, newest `requested_at` first, at most `limit`.
pub async fn newest_requested<R>(
    pool: &AnyPool,
    table: &'static str,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<R>, sqlx::Error>
where
    R: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    let sql = format!(
        "SELECT * FROM {table} WHERE ($1 IS NULL OR status = $1)
          ORDER BY requested_at DESC LIMIT $2"
    );
    sqlx::query_as(&sql)
        .bind(status)
        .bind(limit)
        .fetch_all(pool)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_from_where_they_are_told() {
        assert_eq!(placeholders(1, 3), "$1, $2, $3");
        assert_eq!(placeholders(17, 2), "$17, $18");
    }

    /// Given a batch where one stream starts and others continue, when the rows to read are
    /// chosen, then only the continuing streams are read, each once, whatever follows.
    #[test]
    fn a_stream_that_starts_in_the_batch_has_no_row_to_read() {
        let batch = [("new", 1), ("old", 4), ("new", 2), ("old", 5), ("later", 2)];
        assert_eq!(stored_before(batch), vec!["old", "later"]);
        assert!(stored_before([("a", 1), ("a", 2)]).is_empty());
    }

    #[test]
    fn distinct_keeps_first_seen_order() {
        assert_eq!(distinct(["b", "a", "b", "c", "a"]), vec!["b", "a", "c"]);
    }
}
