//! `GET /health` (the process answers) and `GET /ready` (the database answers).

use std::time::Duration;

use actix_web::{web, HttpResponse};

use crate::state::Services;

/// The process is alive.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// The database answers within two seconds; 503 otherwise. A lost database
/// comes back to 200 on its own when it returns: the pool reconnects.
pub async fn ready(services: web::Data<Services>) -> HttpResponse {
    let ping = tokio::time::timeout(Duration::from_secs(2), domain::db::ping(&services.db)).await;
    if matches!(ping, Ok(true)) {
        HttpResponse::Ok().json(serde_json::json!({ "status": "ready" }))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({ "status": "unavailable", "reason": "database unreachable" }))
    }
}
