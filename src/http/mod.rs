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
        .layer(axum::middleware::map_response(too_large_as_envelope))
        .layer(CatchPanicLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The body limit's 413 (announced by Content-Length) is plain text; clients read the envelope.
async fn too_large_as_envelope<B>(resp: axum::http::Response<B>) -> axum::response::Response
where
    axum::http::Response<B>: IntoResponse,
{
    if resp.status() != StatusCode::PAYLOAD_TOO_LARGE {
        return resp.into_response();
    }
    let envelope = error::Envelope::<()> {
        code: 0,
        msg: Some("请求参数错误: 请求体超过 64 KiB".into()),
        data: None,
    };
    (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(envelope)).into_response()
}
