//! `/ws/v2/alerts`: the richer protocol (docs/protocol.md). The first client message
//! authenticates and names the last sequence seen; the server replays what was missed
//! (bounded), then goes live; the client acknowledges alerts and every screen of the shop
//! hears that they were handled.

use std::time::Duration;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request, State};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;

use super::handshake::{Refused, origin_allowed};
use super::session::{self, CLOSE_BAD_MESSAGE, CLOSE_UNAUTHORIZED, Reply, Session};
use crate::app::AppState;
use crate::auth::Role;
use crate::domain::frames::rich_alert_frame;
use crate::http::extract::{Merchant, merchant_from_parts};
use crate::hub::ConnKind;

/// Time allowed for the first (auth) message.
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);

/// Upgrades after the origin check; authentication happens in the first message (a browser
/// may instead rely on its session cookie, checked here and used when the message has no token).
pub async fn upgrade(State(app): State<AppState>, req: Request) -> Response {
    let (mut parts, _body) = req.into_parts();
    if !origin_allowed(&app, &parts) {
        return Refused::Origin.into_response();
    }
    let cookie_merchant = merchant_from_parts(&app, &parts);
    match WebSocketUpgrade::from_request_parts(&mut parts, &app).await {
        Ok(ws) => super::tune(ws).on_upgrade(move |socket| serve(app, cookie_merchant, socket)),
        Err(e) => e.into_response(),
    }
}

/// Messages a client may send.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
enum ClientMsg {
    /// First message: who I am and the last sequence I saw.
    #[serde(rename_all = "camelCase")]
    Auth {
        token: Option<String>,
        last_seq: Option<i64>,
    },
    /// This alert is handled.
    #[serde(rename_all = "camelCase")]
    Ack { alert_id: i64 },
    /// Application-level ping; answered with `pong`.
    Ping,
}

fn heartbeat() -> String {
    r#"{"event":"ping"}"#.to_string()
}

async fn serve(app: AppState, cookie_merchant: Option<Merchant>, mut socket: WebSocket) {
    let first = tokio::time::timeout(AUTH_TIMEOUT, socket.next()).await;
    let (token, last_seq) = match first {
        Ok(Some(Ok(Message::Text(t)))) => match serde_json::from_str::<ClientMsg>(&t) {
            Ok(ClientMsg::Auth { token, last_seq }) => (token, last_seq),
            _ => {
                return session::close(
                    &mut socket,
                    CLOSE_BAD_MESSAGE,
                    "first message must be auth",
                )
                .await;
            }
        },
        _ => return session::close(&mut socket, CLOSE_UNAUTHORIZED, "auth timeout").await,
    };
    let merchant = match token {
        Some(t) => app.tokens.check(&t, Role::Merchant).map(|c| Merchant {
            employee_id: c.uid,
            shop_id: c.shop,
        }),
        None => cookie_merchant,
    };
    let Some(m) = merchant else {
        return session::close(&mut socket, CLOSE_UNAUTHORIZED, "unauthorized").await;
    };
    let Ok(db_seq) = app.alerts.max_seq(m.shop_id).await else {
        return;
    };
    // A last sequence beyond the log's (a client of a database since reset) is ignored, or
    // it would mute every live alert up to it.
    let last_seq = last_seq.filter(|l| *l <= db_seq);
    let reg = app
        .hub
        .register(m.shop_id, ConnKind::Rich, app.settings.socket_queue, db_seq);
    let Ok(unhandled) = app.alerts.unhandled_ids(m.shop_id, 200).await else {
        return;
    };
    let mut frames: Vec<Utf8Bytes> =
        vec![json!({"event": "welcome", "shopId": m.shop_id, "seq": reg.live_after, "unhandled": unhandled}).to_string().into()];
    if let Some(last) = last_seq {
        match replay_frames(&app, m.shop_id, last.max(0), reg.live_after).await {
            Ok(mut f) => frames.append(&mut f),
            Err(e) => {
                tracing::warn!(error = %e, "replay failed");
                return;
            }
        }
    }
    let s = Session {
        kind: ConnKind::Rich,
        skip_upto: reg.live_after.max(last_seq.unwrap_or(0)),
        replayed_ids: Vec::new(),
        reg,
        tracker: app.tracker.clone(),
        ping_every: app.settings.ping_every,
        shutdown: app.shutdown.clone(),
    };
    let alerts = app.alerts.clone();
    session::run(socket, s, frames, Some(heartbeat), move |text| {
        let alerts = alerts.clone();
        async move { on_message(&alerts, m, &text).await }
    })
    .await;
}

/// Frames replaying `(last, upto]`, at most the replay limit (the newest ones), preceded by
/// a `truncated` notice naming the range the client must fetch over REST.
async fn replay_frames(
    app: &AppState,
    shop_id: i64,
    last: i64,
    upto: i64,
) -> Result<Vec<Utf8Bytes>, crate::store::StoreError> {
    let mut frames = Vec::new();
    if upto <= last {
        return Ok(frames);
    }
    let limit = app.settings.replay_limit;
    // Sequences are gapless, so the missed count is plain arithmetic.
    let from = if upto - last > limit {
        let from = upto - limit;
        frames.push(json!({"event": "truncated", "fromSeq": last + 1, "toSeq": from, "rest": "/admin/alerts?beforeSeq="}).to_string().into());
        from
    } else {
        last
    };
    let rows = app.alerts.since(shop_id, from, upto, limit).await?;
    metrics::counter!("sky_replays_total", "kind" => "rich").increment(1);
    metrics::counter!("sky_replayed_alerts_total", "kind" => "rich").increment(rows.len() as u64);
    frames.extend(
        rows.iter()
            .map(|(a, handled)| Utf8Bytes::from(rich_alert_frame(a, *handled))),
    );
    frames.push(json!({"event": "live", "seq": upto}).to_string().into());
    Ok(frames)
}

async fn on_message(alerts: &crate::alerts::service::Alerts, m: Merchant, text: &str) -> Reply {
    match serde_json::from_str::<ClientMsg>(text) {
        Ok(ClientMsg::Ack { alert_id }) => {
            match alerts.acknowledge(m.shop_id, alert_id, m.employee_id).await {
                Ok(Some(_)) => Reply::Nothing,
                Ok(None) => Reply::Frame(
                    json!({"event": "error", "message": "unknown alert", "alertId": alert_id})
                        .to_string(),
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "acknowledge failed");
                    Reply::Frame(json!({"event": "error", "message": "acknowledge failed, retry", "alertId": alert_id}).to_string())
                }
            }
        }
        Ok(ClientMsg::Ping) => Reply::Frame(r#"{"event":"pong"}"#.to_string()),
        Ok(ClientMsg::Auth { .. }) => {
            Reply::Frame(json!({"event": "error", "message": "already authenticated"}).to_string())
        }
        Err(_) => Reply::Close(CLOSE_BAD_MESSAGE, "not a protocol message"),
    }
}
