//! `/ws/v2/sse`: the richer protocol's alerts as server-sent events, for networks that block
//! WebSockets. `Last-Event-ID` (the last sequence seen) drives the replay; acknowledgements go
//! through `POST /admin/alerts/{id}/ack`. A stream that cannot keep up ends; the browser's
//! EventSource reconnects with its Last-Event-ID and replays.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use serde_json::json;

use super::handshake::authenticate;
use crate::alerts::tracker::Tracker;
use crate::app::AppState;
use crate::domain::frames::rich_alert_frame;
use crate::hub::delivery::Delivery;
use crate::hub::{ConnKind, Registration};

/// Opens the stream after the origin and session checks.
pub async fn stream(State(app): State<AppState>, req: Request) -> Response {
    let (parts, _body) = req.into_parts();
    let m = match authenticate(&app, &parts) {
        Ok(m) => m,
        Err(refused) => return refused.into_response(),
    };
    let last_seq = parts
        .headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|v| *v >= 0);
    let Ok(db_seq) = app.alerts.max_seq(m.shop_id).await else {
        return internal();
    };
    // A last sequence beyond the log's (a client of a database since reset) is ignored, or
    // it would mute every live alert up to it.
    let last_seq = last_seq.filter(|l| *l <= db_seq);
    let reg = app
        .hub
        .register(m.shop_id, ConnKind::Sse, app.settings.socket_queue, db_seq);
    let Ok(unhandled) = app.alerts.unhandled_ids(m.shop_id, 200).await else {
        return internal();
    };
    let mut first: VecDeque<SseEvent> = VecDeque::new();
    first.push_back(SseEvent::default().event("welcome").data(
        json!({"shopId": m.shop_id, "seq": reg.live_after, "unhandled": unhandled}).to_string(),
    ));
    if let Some(last) = last_seq.filter(|l| *l < reg.live_after) {
        let from = if reg.live_after - last > app.settings.replay_limit {
            let from = reg.live_after - app.settings.replay_limit;
            first.push_back(
                SseEvent::default()
                    .event("truncated")
                    .data(json!({"fromSeq": last + 1, "toSeq": from}).to_string()),
            );
            from
        } else {
            last
        };
        let Ok(rows) = app
            .alerts
            .since(m.shop_id, from, reg.live_after, app.settings.replay_limit)
            .await
        else {
            return internal();
        };
        metrics::counter!("sky_replays_total", "kind" => "sse").increment(1);
        for (a, handled) in rows {
            first.push_back(
                SseEvent::default()
                    .event("alert")
                    .id(a.seq.to_string())
                    .data(rich_alert_frame(&a, handled)),
            );
        }
    }
    let state = StreamState {
        first,
        skip_upto: reg.live_after.max(last_seq.unwrap_or(0)),
        reg,
        tracker: app.tracker.clone(),
        stop: app.shutdown.clone(),
    };
    Sse::new(events(state))
        .keep_alive(KeepAlive::new().interval(app.settings.ping_every))
        .into_response()
}

fn internal() -> Response {
    axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

struct StreamState {
    first: VecDeque<SseEvent>,
    skip_upto: i64,
    reg: Registration,
    tracker: Tracker,
    stop: tokio_util::sync::CancellationToken,
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
