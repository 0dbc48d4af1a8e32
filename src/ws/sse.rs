//! `/ws/v2/sse`: the richer protocol's events as server-sent events, for networks that block
//! WebSockets: the same opening (`replay`), each event's `data:` the richer protocol's frame,
//! `event:` its name and, for alerts, `id:` its sequence. `Last-Event-ID` (the last sequence
//! seen) drives the replay; acknowledgements go through `POST /admin/alerts/{id}/ack`. A
//! stream that cannot keep up ends; the browser's EventSource reconnects with its
//! Last-Event-ID and replays.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use tokio_util::sync::CancellationToken;

use super::Sockets;
use super::handshake::{admit, authenticate, refuse};
use super::replay::{OpenError, Opened};
use crate::alerts::tracker::Tracker;
use crate::auth::identity::still_current;
use crate::hub::delivery::Delivery;
use crate::hub::{ConnKind, Registration};

/// Opens the stream after the origin and session checks.
#[utoipa::path(
    get,
    path = "/ws/v2/sse",
    operation_id = "sse_stream",
    tag = "sockets",
    responses(
        (status = 200, description = "the same events as `/ws/v2/alerts` as server-sent events (docs/protocol.md)", content_type = "text/event-stream", body = String),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
pub async fn stream(State(s): State<Sockets>, req: Request) -> Response {
    let (parts, _body) = req.into_parts();
    let m = match authenticate(&s.settings.allowed_origins, &s.tokens, &parts).await {
        Ok(m) => m,
        Err(refused) => return refused.into_response(),
    };
    // Held until the stream is built; the stream then counts in the hub's caps.
    let _admitted = match admit(&s, Some(m.shop_id.get())) {
        Ok(a) => a,
        Err(reason) => return refuse(reason),
    };
    let last_seq = parts
        .headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|v| *v >= 0);
    let opening = match super::replay::open(&s, &m, ConnKind::Sse, last_seq).await {
        Ok(o) => o,
        Err(OpenError::Full(full)) => return refuse(full.reason()),
        Err(OpenError::Log(e)) => {
            tracing::warn!(error = %e, "opening the alert stream failed");
            return refuse("database");
        }
    };
    if !still_current(&s.tokens, &m) {
        return axum::http::StatusCode::UNAUTHORIZED.into_response();
    }
    let state = StreamState {
        first: opening.events.iter().map(opened_event).collect(),
        skip_upto: opening.skip_upto,
        reg: opening.reg,
        tracker: s.tracker.clone(),
        stop: s.shutdown.clone(),
    };
    Sse::new(events(state))
        .keep_alive(KeepAlive::new().interval(s.settings.ping_every))
        .into_response()
}

struct StreamState {
    first: VecDeque<SseEvent>,
    skip_upto: i64,
    reg: Registration,
    tracker: Tracker,
    stop: CancellationToken,
}

fn opened_event(e: &Opened) -> SseEvent {
    let event = SseEvent::default().event(e.event);
    let event = match e.seq {
        Some(seq) => event.id(seq.to_string()),
        None => event,
    };
    event.data(e.frame.as_str())
}

fn to_event(d: &Arc<Delivery>) -> SseEvent {
    match d.seq {
        Some(seq) => SseEvent::default()
            .event("alert")
            .id(seq.to_string())
            .data(d.rich.as_str()),
        None => SseEvent::default().event("handled").data(d.rich.as_str()),
    }
}

fn events(state: StreamState) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    stream::unfold(state, |mut st| async move {
        if let Some(e) = st.first.pop_front() {
            return Some((Ok(e), st));
        }
        loop {
            let d = tokio::select! {
                d = st.reg.rx.recv() => d?,
                _ = st.reg.shared.kill.notified() => return None,
                _ = st.stop.cancelled() => return None,
            };
            if d.seq.is_some_and(|s| s <= st.skip_upto) {
                continue;
            }
            // SSE bodies are written by hyper as the stream yields; counting the yield as the
            // delivery is the closest this layer sees.
            st.tracker.written(&d);
            return Some((Ok(to_event(&d)), st));
        }
    })
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(stream))]
pub struct Doc;
