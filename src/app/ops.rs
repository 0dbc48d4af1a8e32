//! Operations endpoints: `/metrics` (Prometheus), `/healthz` (the process answers) and
//! `/readyz` (the database answers and we are not shutting down). They observe the process
//! itself, so they live with its wiring.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use super::state::AppState;

/// `/metrics`, `/healthz`, `/readyz`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "ops_metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition format", content_type = "text/plain", body = String),
    )
)]
async fn metrics(State(app): State<AppState>) -> String {
    app.metrics.render()
}

#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "ops_healthz",
    tag = "operations",
    responses(
        (status = 200, description = "`ok`: the process answers", content_type = "text/plain", body = String),
    )
)]
async fn healthz() -> &'static str {
    "ok"
}

#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "ops_readyz",
    tag = "operations",
    responses(
        (status = 200, description = "`ready`", content_type = "text/plain", body = String),
        (status = 503, description = "`shutting down` or `database unavailable`", content_type = "text/plain", body = String),
    )
)]
async fn readyz(State(app): State<AppState>) -> (StatusCode, &'static str) {
    if app.shutdown.is_cancelled() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    }
    // Bounded: a database that does not answer is red at once, not after the pool's wait.
    let ping = tokio::time::timeout(std::time::Duration::from_secs(1), app.store.ping());
    if ping.await.unwrap_or(false) {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(metrics, healthz, readyz))]
pub struct Doc;
