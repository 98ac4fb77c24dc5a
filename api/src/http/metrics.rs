//! Prometheus text exposition at `/metrics` (off unless `RAPPORT_METRICS`).
//!
//! One recorder per process, installed on first use. Labels have bounded
//! cardinality: routes are matched patterns (never raw paths, which carry
//! invitation tokens), and GraphQL operation names fold into `other` past
//! [`MAX_OPERATION_NAMES`] distinct names or [`MAX_OPERATION_NAME_LEN`] bytes.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{http::header, web, Error, HttpResponse};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::Services;

/// Longest operation name kept as a label.
pub const MAX_OPERATION_NAME_LEN: usize = 64;
/// Distinct operation names kept as labels; later ones become `other`.
pub const MAX_OPERATION_NAMES: usize = 100;

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder once; later calls return the same
/// handle. `None` when another recorder was installed first.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), LATENCY_BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

/// Counts every request by route pattern, method and status, and times it.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let outcome = next.call(req).await;
    let status = match &outcome {
        Ok(response) => response.status().as_u16(),
        Err(error) => error.as_response_error().status_code().as_u16(),
    };
    let labels = [
        ("route", route),
        ("method", method),
        ("status", status.to_string()),
    ];
    metrics::counter!("rapport_http_requests_total", &labels).increment(1);
    metrics::histogram!("rapport_http_request_duration_seconds", &labels[..2])
        .record(start.elapsed().as_secs_f64());
    outcome
}

/// Counts one GraphQL operation by (bounded) name and outcome code (`OK`
/// when it had no errors).
pub fn record_operation(name: Option<&str>, outcome: &str) {
    let name = operation_label(name);
    metrics::counter!(
        "rapport_graphql_operations_total",
        "operation" => name,
        "outcome" => outcome.to_owned()
    )
    .increment(1);
}

/// The first error's code, or `OK`.
pub fn outcome_of(errors: &[async_graphql::ServerError]) -> String {
    errors
        .first()
        .map(|error| {
            error
                .extensions
                .as_ref()
                .and_then(|e| e.get("code"))
                .and_then(|code| match code {
                    async_graphql::Value::String(code) => Some(code.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| crate::graphql::error::code::INTERNAL.to_owned())
        })
        .unwrap_or_else(|| "OK".to_owned())
}

fn operation_label(name: Option<&str>) -> String {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return "anonymous".to_owned();
    };
    if name.len() > MAX_OPERATION_NAME_LEN {
        return "other".to_owned();
    }
    let mut seen = match SEEN.get_or_init(Mutex::default).lock() {
        Ok(seen) => seen,
        Err(poisoned) => poisoned.into_inner(),
    };
    if seen.contains(name) {
        return name.to_owned();
    }
    if seen.len() >= MAX_OPERATION_NAMES {
        return "other".to_owned();
    }
    seen.insert(name.to_owned());
    name.to_owned()
}

/// `GET /metrics`: pool gauges read now, then the whole exposition.
pub async fn scrape(services: web::Data<Services>) -> HttpResponse {
    let Some(handle) = install() else {
        return HttpResponse::NotFound().finish();
    };
    let (size, idle) = pool_figures(&services.db);
    metrics::gauge!("rapport_db_pool_connections").set(f64::from(size));
    metrics::gauge!("rapport_db_pool_in_use_connections").set(f64::from(size.saturating_sub(idle)));
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain; version=0.0.4"))
        .body(handle.render())
}

fn pool_figures(db: &sea_orm::DatabaseConnection) -> (u32, u32) {
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        }
        _ => {
            let pool = db.get_postgres_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_bounded() {
        assert_eq!(operation_label(None), "anonymous");
        assert_eq!(operation_label(Some("")), "anonymous");
        assert_eq!(operation_label(Some(&"a".repeat(65))), "other");
        assert_eq!(operation_label(Some("Kept")), "Kept");
        for i in 0..MAX_OPERATION_NAMES {
            operation_label(Some(&format!("Op{i}")));
        }
        assert_eq!(operation_label(Some("Kept")), "Kept");
        assert_eq!(operation_label(Some("Latecomer")), "other");
    }
}
