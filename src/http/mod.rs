//! HTTP: one module per resource group, the reply envelope and error mapping, extractors.

pub mod admin;
pub mod error;
pub mod extract;
pub mod notify;
pub mod ops;
pub mod user;
pub mod views;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;

/// The whole HTTP surface: REST, sockets, SSE, dashboard, operations.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(user::router())
        .merge(admin::router())
        .merge(notify::router())
        .merge(ops::router())
        .merge(crate::ws::router())
        .merge(crate::web::router())
        .fallback(|| async { StatusCode::NOT_FOUND.into_response() })
        .layer(RequestBodyLimitLayer::new(64 * 1024))
        .layer(CatchPanicLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
