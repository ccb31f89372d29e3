//! Liveness, readiness and metrics for load balancers and ops.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::Serialize;

use crate::store::Store;
use crate::store::StoreStatus;
use crate::views::Projectors;

/// The process is up and serving HTTP. Says nothing about the database, on purpose: a load
/// balancer must not restart an instance because PostgreSQL is briefly away.
#[utoipa::path(get, path = "/health", tag = "health", security(()),
    responses((status = 200, description = "The process is up.", body = Liveness)))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Liveness { status: "up" })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Liveness {
    /// Always `up`.
    status: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Readiness {
    status: &'static str,
    store: StoreReadiness,
    projections: BTreeMap<&'static str, ProjectionReadiness>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StoreReadiness {
    ok: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    status: Option<StoreStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProjectionReadiness {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    failures_total: u64,
    events_applied_total: u64,
}

/// Ready to take traffic: store reachable, migrations applied, and no projection failing.
/// 503 otherwise, with the reason for each part.
#[utoipa::path(get, path = "/ready", tag = "health", security(()), responses(
    (status = 200, description = "Ready: store reachable, migrations applied, no projection failing.", body = Readiness),
    (status = 503, description = "Not ready, with the reason for each part.", body = Readiness)))]
pub async fn ready(store: web::Data<Store>, projectors: web::Data<Projectors>) -> HttpResponse {
    let store = store.readiness().await;
    let projections: BTreeMap<_, _> = projectors
        .all()
        .iter()
        .map(|projector| {
            let health = projector.health();
            let error = health.failing();
            let readiness = ProjectionReadiness {
                ok: error.is_none(),
                error,
                failures_total: health.failures_total(),
                events_applied_total: health.events_applied_total(),
            };
            (projector.name(), readiness)
        })
        .collect();
    let store = match store {
        Ok(status) => StoreReadiness {
            ok: true,
            status: Some(status),
            error: None,
        },
        Err(error) => StoreReadiness {
            ok: false,
            status: None,
            error: Some(error),
        },
    };
    let ready = store.ok && projections.values().all(|p| p.ok);
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        store,
        projections,
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Prometheus text exposition, for ops and the back office (it shows volumes).
#[utoipa::path(get, path = "/metrics", tag = "health", responses(
    (status = 200, description = "Prometheus text exposition.", content_type = "text/plain", body = String),
    crate::http::documented::Reads))]
pub async fn metrics(
    recorder: web::Data<PrometheusHandle>,
    party: crate::security::Party,
) -> Result<HttpResponse, crate::http::ApiError> {
    party.require(&[
        crate::security::Role::Ops,
        crate::security::Role::Backoffice,
    ])?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(recorder.render()))
}
