//! `/ws/v2/alerts`: the richer protocol (docs/protocol.md). The first client message
//! authenticates and names the last sequence seen; the server replays what was missed
//! (bounded, see `replay`), then goes live; the client acknowledges alerts and every screen of
//! the shop hears that they were handled.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request, State};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::Sockets;
use super::handshake::{
    Admitted, Refused, admit, log_unavailable, origin_allowed, refuse, refused_after_upgrade,
};
use super::replay::OpenError;
use super::session::{
    self, BINARY_REFUSED, CLOSE_BAD_MESSAGE, CLOSE_RESTART, CLOSE_SESSION_ENDED,
    CLOSE_UNAUTHORIZED, Reply, Session,
};
use crate::alerts::service::Alerts;
use crate::auth::identity::{
    Merchant, NoMerchant, merchant_from_parts, merchant_from_token, still_current,
};
use crate::hub::ConnKind;

/// Time allowed for the first (auth) message.
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);

/// Upgrades after the origin check; authentication happens in the first message (a browser
/// may instead rely on its session cookie, checked here and used when the message has no token).
#[utoipa::path(
    get,
    path = "/ws/v2/alerts",
    operation_id = "rich_upgrade",
    tag = "sockets",
    responses(
        (status = 101, description = "the richer protocol: auth, welcome, replay from `lastSeq`, live alerts, acks (docs/protocol.md)"),
        (status = 400, description = "not a WebSocket upgrade"),
        (status = 403, description = "an origin that is not allowed"),
    )
)]
pub async fn upgrade(State(s): State<Sockets>, req: Request) -> Response {
    let (mut parts, _body) = req.into_parts();
    if !origin_allowed(&s.settings.allowed_origins, &parts) {
        return Refused::Origin.into_response();
    }
    // The cookie is read now, when the request's headers are at hand; its session is checked
    // again once the socket is registered.
    let cookie_merchant = merchant_from_parts(&s.tokens, &parts).await;
    // The shop is known only from the auth message: the per-shop cap is checked then.
    let admitted = match admit(&s, None) {
        Ok(a) => a,
        Err(reason) => return refuse(reason),
    };
    match WebSocketUpgrade::from_request_parts(&mut parts, &s).await {
        Ok(ws) => {
            // Tracked from the upgrade on, so shutdown also waits for sockets still opening.
            let tasks = s.tasks.clone();
            super::tune(ws).on_upgrade(move |socket| {
                tasks.track_future(serve(s, cookie_merchant, socket, admitted))
            })
        }
        Err(e) => e.into_response(),
    }
}

/// Messages a client may send.
#[derive(Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ClientMsg {
    /// First message: who I am and the last sequence I saw.
    #[serde(rename_all = "camelCase")]
    Auth {
        /// The merchant token (a browser may rely on its session cookie instead).
        token: Option<String>,
        /// The last sequence the client saw; none: no history is replayed.
        last_seq: Option<i64>,
    },
    /// This alert is handled.
    #[serde(rename_all = "camelCase")]
    Ack {
        /// The alert's id.
        alert_id: i64,
    },
    /// Application-level ping; answered with `pong`.
    Ping,
}

/// Reads one client text frame; anything that is not exactly one of [`ClientMsg`] is an error
/// (the socket closes with 4002). Public so the fuzz tests drive the parser directly.
pub fn parse(text: &str) -> Result<ClientMsg, serde_json::Error> {
    serde_json::from_str(text)
}

fn heartbeat() -> String {
    r#"{"event":"ping"}"#.to_string()
}

/// What the client's first message said.
enum First {
    /// Authenticate with this token (or the cookie) from this sequence.
    Auth(Option<String>, Option<i64>),
    /// Close with this code and reason.
    Refuse(u16, &'static str),
    /// The client closed (answered) or the connection failed: nothing more to send.
    Gone,
}

/// Waits for the auth message. Pings and pongs are answered and do not end the wait; every
/// other outcome is named for what it is (a binary frame, a broken frame, a timeout, the
/// server shutting down).
async fn first_message(socket: &mut WebSocket, shutdown: &CancellationToken) -> First {
    let deadline = tokio::time::Instant::now() + AUTH_TIMEOUT;
    loop {
        let next = tokio::select! {
            n = tokio::time::timeout_at(deadline, socket.next()) => n,
            _ = shutdown.cancelled() => return First::Refuse(CLOSE_RESTART, "server restarting"),
        };
        let msg = match next {
            Err(_) => return First::Refuse(CLOSE_UNAUTHORIZED, "auth timeout"),
            Ok(None) => return First::Gone,
            Ok(Some(Err(e))) => {
                session::close_after(socket, &e).await;
                return First::Gone;
            }
            Ok(Some(Ok(m))) => m,
        };
        return match msg {
            Message::Text(t) => match parse(&t) {
                Ok(ClientMsg::Auth { token, last_seq }) => First::Auth(token, last_seq),
                _ => First::Refuse(CLOSE_BAD_MESSAGE, "first message must be auth"),
            },
            Message::Binary(_) => First::Refuse(CLOSE_BAD_MESSAGE, BINARY_REFUSED),
            // tungstenite queued the pong; the next read flushes it.
            Message::Ping(_) | Message::Pong(_) => continue,
            Message::Close(_) => {
                session::answer_close(socket).await;
                First::Gone
            }
        };
    }
}

/// Authenticates and opens the socket; its handshake slot is released when this returns
/// (live or refused).
async fn serve(
    s: Sockets,
    cookie_merchant: Result<Merchant, NoMerchant>,
    mut socket: WebSocket,
    _admitted: Admitted,
) {
    let (token, last_seq) = match first_message(&mut socket, &s.shutdown).await {
        First::Auth(token, last_seq) => (token, last_seq),
        First::Refuse(code, reason) => return session::close(&mut socket, code, reason).await,
        First::Gone => return,
    };
    let merchant = match token {
        Some(t) => merchant_from_token(&s.tokens, &t).await,
        None => cookie_merchant,
    };
    let m = match merchant {
        Ok(m) => m,
        Err(NoMerchant::Unauthorized) => {
            return session::close(&mut socket, CLOSE_UNAUTHORIZED, "unauthorized").await;
        }
        Err(NoMerchant::Unavailable) => {
            return session::close(&mut socket, session::CLOSE_RESTART, "try again").await;
        }
    };
    let opening = match super::replay::open(&s, &m, ConnKind::Rich, last_seq).await {
        Ok(o) => o,
        Err(OpenError::Full(full)) => {
            let (code, reason) = refused_after_upgrade(full);
            return session::close(&mut socket, code, reason).await;
        }
        Err(OpenError::Log(e)) => {
            tracing::warn!(error = %e, "opening the alert socket failed");
            let (code, reason) = log_unavailable();
            return session::close(&mut socket, code, reason).await;
        }
    };
    if !still_current(&s.tokens, &m) {
        return session::close(
            &mut socket,
            CLOSE_SESSION_ENDED,
            "session ended: log in again",
        )
        .await;
    }
    let frames = opening.events.into_iter().map(|e| e.frame).collect();
    let session = Session {
        kind: ConnKind::Rich,
        skip_upto: opening.skip_upto,
        replayed_ids: Vec::new(),
        reg: opening.reg,
        tracker: s.tracker.clone(),
        ping_every: s.settings.ping_every,
        shutdown: s.shutdown.clone(),
        ignore_binary: false,
    };
    let alerts = s.alerts.clone();
    session::run(
        &s.tasks,
        socket,
        session,
        frames,
        Some(heartbeat),
        move |text| {
            let alerts = alerts.clone();
            async move { on_message(&alerts, m, &text).await }
        },
    )
    .await;
}

async fn on_message(alerts: &Alerts, m: Merchant, text: &str) -> Reply {
    match parse(text) {
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

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(upgrade))]
pub struct Doc;
