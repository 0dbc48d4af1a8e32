//! `/ws/{sid}`: the stock admin page's socket. Authenticated by the session cookie the login
//! set (or a header), origin-checked, and sent only the original frames of its own shop:
//! first, oldest first, the alerts no screen has received yet, then live ones.

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::response::{IntoResponse, Response};

use super::Sockets;
use super::handshake::{
    Admitted, LogNeed, Refused, admit, authenticate, log_unavailable, origin_allowed, refuse,
    refused_after_upgrade,
};
use super::session::{self, CLOSE_SESSION_ENDED, Reply, Session};
use crate::auth::identity::{Merchant, still_current};
use crate::domain::alert::AlertRecord;
use crate::domain::frames::legacy_frame;
use crate::hub::ConnKind;
use crate::hub::memo::Recall;

/// Upgrades after the origin and session checks. `sid` is the page's random id: any value,
/// and a repeated one never evicts another live socket.
#[utoipa::path(
    get,
    path = "/ws/{sid}",
    operation_id = "legacy_upgrade",
    tag = "sockets",
    params(("sid" = String, Path)),
    responses(
        (status = 101, description = "the stock page's socket: one JSON text frame `{type, orderId, content}` per alert (docs/protocol.md)"),
        (status = 400, description = "not a WebSocket upgrade"),
        (status = 403, description = "an origin that is not allowed"),
    )
)]
pub async fn upgrade(State(s): State<Sockets>, Path(sid): Path<String>, req: Request) -> Response {
    let (mut parts, _body) = req.into_parts();
    let origins = &s.settings.allowed_origins;
    let (merchant, shop_id) = match authenticate(origins, &s.tokens, &parts).await {
        Ok(m) => (Some(m), m.shop_id.get()),
        Err(Refused::Unauthorized)
            if s.settings.allow_anonymous_ws && origin_allowed(origins, &parts) =>
        {
            (None, 1)
        }
        Err(refused) => return refused.into_response(),
    };
    let admitted = match admit(&s, Some(shop_id)) {
        Ok(a) => a,
        Err(reason) => return refuse(reason),
    };
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &s).await {
        Ok(ws) => ws,
        Err(e) => return e.into_response(),
    };
    tracing::debug!(
        sid = sid.chars().take(64).collect::<String>(),
        shop_id,
        "legacy socket"
    );
    // Tracked from the upgrade on, so shutdown also waits for sockets still opening.
    let tasks = s.tasks.clone();
    super::tune(ws)
        .on_upgrade(move |socket| tasks.track_future(serve(s, merchant, shop_id, socket, admitted)))
}

/// Opens the socket; its handshake slot is released when this returns (it is live).
async fn serve(
    s: Sockets,
    merchant: Option<Merchant>,
    shop_id: i64,
    mut socket: WebSocket,
    _admitted: Admitted,
) {
    let upgraded_at = s.alerts.now_ms();
    let db_seq = match super::replay::start_seq(&s, shop_id, None).await {
        Ok(seq) => seq,
        Err(e) => {
            tracing::warn!(error = %e, "opening the legacy socket failed");
            let (code, reason) = log_unavailable();
            return session::close(&mut socket, code, reason).await;
        }
    };
    let queue = s.settings.socket_queue;
    let session = merchant.map(|m| (m.employee_id, m.session));
    let reg = match s
        .hub
        .try_register(shop_id, session, ConnKind::Legacy, queue, db_seq)
    {
        Ok(reg) => reg,
        Err(full) => {
            let (code, reason) = refused_after_upgrade(full);
            return session::close(&mut socket, code, reason).await;
        }
    };
    // A session ended between the handshake and the registration was missed by the hub.
    if merchant.is_some_and(|m| !still_current(&s.tokens, &m)) {
        return session::close(
            &mut socket,
            CLOSE_SESSION_ENDED,
            "session ended: log in again",
        )
        .await;
    }
    let backlog = match backlog(&s, shop_id, reg.live_after, upgraded_at).await {
        Ok(rows) => rows,
        Err(e) => {
            // Going live without the backlog would lose it for this page: close instead, so
            // the page shows its error and the reload reads the backlog again.
            tracing::warn!(error = %e, "reading undelivered alerts failed");
            let (code, reason) = log_unavailable();
            return session::close(&mut socket, code, reason).await;
        }
    };
    if !backlog.is_empty() {
        metrics::counter!("sky_replays_total", "kind" => "legacy").increment(1);
        metrics::counter!("sky_replayed_alerts_total", "kind" => "legacy")
            .increment(backlog.len() as u64);
    }
    let frames = backlog.iter().map(|a| legacy_frame(a).into()).collect();
    let session = Session {
        kind: ConnKind::Legacy,
        skip_upto: reg.live_after,
        replayed_ids: backlog.iter().map(|a| a.id).collect(),
        reg,
        tracker: s.tracker.clone(),
        ping_every: s.settings.ping_every,
        shutdown: s.shutdown.clone(),
        ignore_binary: true,
    };
    // The stock page sends nothing that matters (the test page may send text): ignore it.
    session::run(&s.tasks, socket, session, frames, None, |_| async {
        Reply::Nothing
    })
    .await;
}

/// The page's backlog up to `upto`: the alerts no screen of the shop has received, and those
/// raised since the page's upgrade (`upgraded_at`, ms). None without a database round trip
/// when the feed remembers it empty (no event since it was read, `hub::memo`).
async fn backlog(
    s: &Sockets,
    shop_id: i64,
    upto: i64,
    upgraded_at: i64,
) -> anyhow::Result<Vec<AlertRecord>> {
    // An alert raised after the page's upgrade, while its opening waited for the log, may have
    // reached another screen first: it is in the backlog all the same (the page counts as open
    // since its upgrade). A little earlier than the upgrade, for the alert's own transaction.
    let since = upgraded_at - BACKLOG_SLACK_MS;
    let token = match s.hub.recall_backlog_empty(shop_id, since) {
        Recall::Known(()) => {
            s.handshakes.count_log_read(LogNeed::Backlog, true);
            return Ok(Vec::new());
        }
        Recall::Read(token) => token,
    };
    s.handshakes.count_log_read(LogNeed::Backlog, false);
    let rows = s
        .alerts
        .undelivered(shop_id, upto, since, s.settings.replay_limit)
        .await?;
    if rows.is_empty() {
        s.hub.remember_backlog_empty(shop_id, token, since);
    }
    Ok(rows)
}

/// How much earlier than a page's upgrade its backlog takes alerts received elsewhere: an
/// alert's time is taken inside its transaction, a few milliseconds before it commits.
const BACKLOG_SLACK_MS: i64 = 100;

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(upgrade))]
pub struct Doc;
