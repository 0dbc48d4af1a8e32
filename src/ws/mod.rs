//! Socket adapters: the stock page's `/ws/{sid}`, the richer protocol at `/ws/v2/alerts` and
//! its SSE twin at `/ws/v2/sse`. They read the alert log through the alert use cases, listen
//! to the hub, and never write SQL or publish. The handshake checks (`handshake`), the opening
//! both richer protocols share (`replay`: welcome, truncated, replay, live), and the socket
//! loop (`session`) are shared.

pub mod handshake;
pub mod legacy;
pub mod replay;
pub mod rich;
pub mod session;
pub mod sse;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::alerts::service::Alerts;
use crate::alerts::tracker::Tracker;
use crate::auth::Tokens;
use crate::config::Settings;
use crate::hub::Hub;

/// What the socket adapters need (built by `app`). Cheap to clone.
#[derive(Clone)]
pub struct Sockets {
    /// The alert log's use cases (reads for replays, acknowledgements).
    pub alerts: Alerts,
    /// This instance's hub.
    pub hub: Hub,
    /// Records first deliveries.
    pub tracker: Tracker,
    /// Checks merchant tokens.
    pub tokens: Tokens,
    /// Origins, queue bound, replay limit, ping period.
    pub settings: Arc<Settings>,
    /// Cancelled when the server starts shutting down.
    pub shutdown: CancellationToken,
    /// The service's tracker: each socket's task runs on it, so shutdown waits for them.
    pub tasks: TaskTracker,
    /// Slots for connections in handshake (`--max-handshakes`), and the handshake's metrics.
    pub handshakes: Arc<handshake::Handshakes>,
}

/// Socket and stream routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Sockets: FromRef<S>,
{
    Router::new()
        .route("/ws/{sid}", get(legacy::upgrade))
        .route("/ws/v2/alerts", get(rich::upgrade))
        .route("/ws/v2/sse", get(sse::stream))
}

/// The OpenAPI description of the upgrade and stream routes (the frames themselves are in
/// docs/protocol.md: OpenAPI describes the handshake, not a socket's messages).
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    let mut doc = legacy::Doc::openapi();
    doc.merge(rich::Doc::openapi());
    doc.merge(sse::Doc::openapi());
    doc
}

/// Socket buffer sizes: alert frames are small, and tungstenite's defaults (128 KiB read
/// buffer, unbounded write buffer) would dominate the memory of thousands of idle screens.
/// The read buffer (allocated and zero-filled up front for every socket) only has to hold a
/// client's small messages (auth, acks, pongs; a larger one grows it for that frame). Frames
/// are gathered up to 2 KiB before a write, so a backlog goes out in few system calls.
pub fn tune(ws: axum::extract::ws::WebSocketUpgrade) -> axum::extract::ws::WebSocketUpgrade {
    ws.read_buffer_size(512)
        .write_buffer_size(2 * 1024)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(64 * 1024)
        .max_frame_size(64 * 1024)
}
