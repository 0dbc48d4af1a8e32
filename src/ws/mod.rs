//! Sockets and event streams: the stock page's `/ws/{sid}`, the richer protocol at
//! `/ws/v2/alerts` and its SSE twin at `/ws/v2/sse`. This layer reads the alert log through
//! the alerts use cases and never writes SQL or publishes.

pub mod handshake;
pub mod legacy;
pub mod rich;
pub mod session;
pub mod sse;

use axum::Router;
use axum::routing::get;

use crate::app::AppState;

/// Socket and stream routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ws/{sid}", get(legacy::upgrade))
        .route("/ws/v2/alerts", get(rich::upgrade))
        .route("/ws/v2/sse", get(sse::stream))
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
