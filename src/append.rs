//! Appending a command's events in one statement: one round trip and one commit, where
//! postgres-es and sqlite-es open a transaction and insert event by event (2 + n round
//! trips). A multi-row `INSERT` is atomic on its own, so a command's events still commit all
//! together or not at all, and a duplicate `(aggregate_type, aggregate_id, sequence)` still
//! fails the whole append: another writer was first (optimistic concurrency).

use cqrs_es::persist::{PersistenceError, SerializedEvent};
use sqlx::{PgPool, SqlitePool};

/// PostgreSQL: the events as arrays, unnested into rows by the server.
const POSTGRES_APPEND: &str = "
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                    payload, metadata)
SELECT $1, $2, e.sequence, e.event_type, e.event_version, e.payload::json, e.metadata::json
  FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])
       AS e(sequence, event_type, event_version, payload, metadata)";

/// The columns of one event as the store keeps them.
struct Row {
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: String,
    metadata: String,
}

fn rows(events: &[SerializedEvent]) -> Result<Vec<Row>, PersistenceError> {
    events
        .iter()
        .map(|event| {
            Ok(Row {
                sequence: i64::try_from(event.sequence)
                    .map_err(|e| PersistenceError::UnknownError(Box::new(e)))?,
                event_type: event.event_type.clone(),
                event_version: event.event_version.clone(),
                payload: serde_json::to_string(&event.payload)?,
                metadata: serde_json::to_string(&event.metadata)?,
            })
        })
        .collect()
}

/// A unique violation on the event key means another writer appended first.
fn classify(error: sqlx::Error) -> PersistenceError {
    if let sqlx::Error::Database(db) = &error {
        if db.is_unique_violation() {
            return PersistenceError::OptimisticLockError;
        }
    }
    PersistenceError::ConnectionError(Box::new(error))
}

/// The stream the events belong to (a command appends to one), and their rows.
fn prepare(events: &[SerializedEvent]) -> Result<Option<(&str, Vec<Row>)>, PersistenceError> {
    match events.first() {
        Some(first) => Ok(Some((first.aggregate_id.as_str(), rows(events)?))),
        None => Ok(None),
    }
}

pub async fn postgres(
    pool: &PgPool,
    aggregate_type: &str,
    events: &[SerializedEvent],
) -> Result<(), PersistenceError> {
    let Some((aggregate_id, rows)) = prepare(events)? else {
        return Ok(());
    };
    sqlx::query(POSTGRES_APPEND)
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(rows.iter().map(|r| r.sequence).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.event_type.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.event_version.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.payload.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.metadata.as_str()).collect::<Vec<_>>())
        .execute(pool)
        .await
        .map_err(classify)?;
    Ok(())
}

pub async fn sqlite(
    pool: &SqlitePool,
    aggregate_type: &str,
    events: &[SerializedEvent],
) -> Result<(), PersistenceError> {
    let Some((aggregate_id, rows)) = prepare(events)? else {
        return Ok(());
    };
    let mut builder = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
         payload, metadata) ",
    );
    builder.push_values(&rows, |mut values, row| {
        values
            .push_bind(aggregate_type)
            .push_bind(aggregate_id)
            .push_bind(row.sequence)
            .push_bind(&row.event_type)
            .push_bind(&row.event_version)
            .push_bind(&row.payload)
            .push_bind(&row.metadata);
    });
    builder.build().execute(pool).await.map_err(classify)?;
    Ok(())
}
