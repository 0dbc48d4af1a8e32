//! The whole HTTP surface assembled: REST (`http`), sockets and SSE (`ws`), the dashboard
//! (`http::web`), the stored images and the operations endpoints (`ops`), under the body
//! limit (the upload route has its own), the envelope for its 413, panic catching and request
//! tracing.

use std::net::IpAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use tower::Layer;
use tower::util::{MapRequestLayer, MapResponseLayer};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::normalize_path::{NormalizePath, NormalizePathLayer};
use tower_http::trace::TraceLayer;

use super::listener::Peer;
use super::state::AppState;
use super::{docs, ops};
use crate::auth::client::{ClientIp, client_ip};
use crate::http::error::{BODY_LIMIT, too_large_as_envelope};
use crate::{http, ws};

/// What the server serves: [`router`] behind a trailing-slash trim, which runs before routing
/// (Spring matches `/user/addressBook/` as `/user/addressBook`, and the mini-program deletes an
/// address at the former).
pub fn service(state: AppState) -> NormalizePath<Router> {
    NormalizePathLayer::trim_trailing_slash().layer(router(state))
}

/// Every route, with the state they share.
pub fn router(state: AppState) -> Router {
    let trusted = Arc::new(state.settings.login.trusted_proxies.clone());
    Router::new()
        .merge(http::user::router())
        .merge(http::admin::router())
        .merge(http::notify::router())
        .merge(ops::router())
        .merge(docs::router())
        .merge(ws::router())
        .merge(http::web::router())
        .merge(http::images::router())
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        // After the layer, so the global limit does not cover it: it has its own (2 MiB).
        .merge(http::admin::upload_router())
        .fallback(|| async { StatusCode::NOT_FOUND.into_response() })
        // Plain tower maps, not axum's `map_response` / `from_fn`: those box a future (and
        // clone the boxed inner service) for every request, a handshake or a payment alike.
        .layer(MapResponseLayer::new(too_large_as_envelope))
        .layer(MapRequestLayer::new(move |req| {
            with_client_address(&trusted, req)
        }))
        .layer(CatchPanicLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Inserts the request's [`ClientIp`] (the peer, or what a trusted proxy forwarded), which
/// the login throttle keys on.
fn with_client_address(trusted: &[IpAddr], mut req: Request) -> Request {
    if let Some(ConnectInfo(Peer(peer))) = req.extensions().get::<ConnectInfo<Peer>>().copied() {
        let ip = client_ip(peer.ip(), req.headers(), trusted);
        req.extensions_mut().insert(ClientIp(ip));
    }
    req
}
