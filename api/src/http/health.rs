//! `GET /health` (the process answers) and `GET /ready` (the database answers).

use std::time::Duration;

use actix_web::{web, HttpResponse};

use crate::state::Services;

/// The process is alive.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// The database answers within two seconds and takes writes
/// ([`domain::db::ready`]); 503 otherwise. A lost database, a full disk or a
/// read-only file comes back to 200 on its own when the condition ends: the
/// pool reconnects, and a probe write shows that writes work again.
pub async fn ready(services: web::Data<Services>) -> HttpResponse {
    let ping = tokio::time::timeout(Duration::from_secs(2), domain::db::ready(&services.db)).await;
    if matches!(ping, Ok(true)) {
        HttpResponse::Ok().json(serde_json::json!({ "status": "ready" }))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({ "status": "unavailable", "reason": "database unreachable or not taking writes" }))
    }
}
