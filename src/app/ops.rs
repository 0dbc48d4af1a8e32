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

async fn metrics(State(app): State<AppState>) -> String {
    app.metrics.render()
}

async fn healthz() -> &'static str {
    "ok"
}

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
