//! The PayShap proxy registry as resolutions read it: one row per proxy, from the `Proxy`
//! events.

use aggregates::proxy::{AccountStatus, Proxy, ProxyEvent};
use async_trait::async_trait;
use cqrs_es::Aggregate;
use serde::Serialize;
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::feed::StoredEvent;
use crate::projection::{Projection, ProjectionError};
use crate::time::to_view_text;

pub const NAME: &str = "proxy_registry";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProxyRow {
    pub proxy_id: String,
    pub schema: String,
    pub context: String,
    pub value: String,
    pub known_as_name: String,
    pub legal_name: String,
    pub account_created_on: String,
    pub status: String,
    pub resolution_allowed: i64,
    pub retired: i64,
    pub updated_at: String,
    pub last_sequence: i64,
}

impl ProxyRow {
    pub fn account_status(&self) -> Option<AccountStatus> {
        AccountStatus::parse(&self.status)
    }
}

pub struct ProxyRegistryProjection;

#[async_trait]
impl Projection for ProxyRegistryProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["proxy_registry"]
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        if event.aggregate_type != Proxy::TYPE {
            return Ok(());
        }
        let proxy_id = event.aggregate_id.as_str();
        let sequence = event.sequence;
        match event.decode::<ProxyEvent>()? {
            registered @ ProxyEvent::ProxyRegistered { .. } => {
                upsert_registered(conn, proxy_id, sequence, registered).await?;
            }
            ProxyEvent::ProxyChanged { change, changed_at } => {
                sqlx::query(
                    "UPDATE proxy_registry SET
                         known_as_name = COALESCE($2, known_as_name),
                         legal_name = COALESCE($3, legal_name),
                         status = COALESCE($4, status),
                         resolution_allowed = COALESCE($5, resolution_allowed),
                         updated_at = $6, last_sequence = $7
                      WHERE proxy_id = $1 AND last_sequence < $7",
                )
                .bind(proxy_id)
                .bind(change.known_as_name)
                .bind(change.legal_name)
                .bind(change.status.map(AccountStatus::as_str))
                .bind(change.resolution_allowed.map(i64::from))
                .bind(to_view_text(changed_at))
                .bind(sequence)
                .execute(&mut *conn)
                .await?;
            }
            ProxyEvent::ProxyRetired { retired_at } => {
                sqlx::query(
                    "UPDATE proxy_registry SET retired = 1, updated_at = $2, last_sequence = $3
                      WHERE proxy_id = $1 AND last_sequence < $3",
                )
                .bind(proxy_id)
                .bind(to_view_text(retired_at))
                .bind(sequence)
                .execute(&mut *conn)
                .await?;
            }
        }
        Ok(())
    }
}

/// A registration (or a registration again after retirement) written to the view.
async fn upsert_registered(
    conn: &mut AnyConnection,
    proxy_id: &str,
    sequence: i64,
    event: ProxyEvent,
) -> Result<(), ProjectionError> {
    let ProxyEvent::ProxyRegistered {
        key,
        known_as_name,
        legal_name,
        account_created_on,
        status,
        resolution_allowed,
        registered_at,
    } = event
    else {
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO proxy_registry (proxy_id, schema, context, value, known_as_name,
                 legal_name, account_created_on, status, resolution_allowed, retired,
                 updated_at, last_sequence)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11)
             ON CONFLICT (proxy_id) DO UPDATE SET
                 known_as_name = excluded.known_as_name, legal_name = excluded.legal_name,
                 account_created_on = excluded.account_created_on,
                 status = excluded.status, resolution_allowed = excluded.resolution_allowed,
                 retired = 0, updated_at = excluded.updated_at,
                 last_sequence = excluded.last_sequence",
    )
    .bind(proxy_id)
    .bind(key.schema())
    .bind(key.context())
    .bind(key.value())
    .bind(known_as_name)
    .bind(legal_name)
    .bind(account_created_on.to_string())
    .bind(status.as_str())
    .bind(i64::from(resolution_allowed))
    .bind(to_view_text(registered_at))
    .bind(sequence)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn find(pool: &AnyPool, proxy_id: &str) -> Result<Option<ProxyRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM proxy_registry WHERE proxy_id = $1")
        .bind(proxy_id)
        .fetch_optional(pool)
        .await
}

/// Registered proxies, most recently changed first: a page of at most `limit` from `offset`.
pub async fn list(pool: &AnyPool, offset: i64, limit: i64) -> Result<Vec<ProxyRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM proxy_registry ORDER BY updated_at DESC, proxy_id LIMIT $1 OFFSET $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
}
