//! The socket loop shared by both WebSocket protocols: replay first, then live deliveries
//! from the hub (pending frames written together), pings, dead-peer detection, and the
//! documented close codes. Generic over the socket so it can be driven by channels in tests.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio_util::sync::CancellationToken;

use crate::alerts::hub::{ConnKind, KILL_SLOW, Registration};
use crate::alerts::model::Delivery;
use crate::alerts::tracker::Tracker;

/// Close code: the server is restarting or shutting down; reconnect (elsewhere).
pub const CLOSE_RESTART: u16 = 1012;
/// Close code: authentication failed or was not sent in time; log in again.
pub const CLOSE_UNAUTHORIZED: u16 = 4001;
/// Close code: the client sent something that is not the protocol.
pub const CLOSE_BAD_MESSAGE: u16 = 4002;
/// Close code: the socket could not keep up; reconnect and replay from the last sequence.
pub const CLOSE_SLOW: u16 = 4008;

/// Most frames written before one flush.
const MAX_BATCH: usize = 64;
/// A write that takes longer than this means a dead or stuck peer.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the loop needs besides the socket.
pub struct Session {
    /// Which frames to write.
    pub kind: ConnKind,
    /// Membership in the shop's feed.
    pub reg: Registration,
    /// Records first deliveries.
    pub tracker: Tracker,
    /// Ping period; a peer silent for 2.5 periods is dropped.
    pub ping_every: Duration,
    /// Shutdown of the whole server.
    pub shutdown: CancellationToken,
    /// Deliveries with a sequence at or below this are skipped (the client has them).
    pub skip_upto: i64,
    /// Alerts in the replay, recorded as received once the replay is flushed.
    pub replayed_ids: Vec<i64>,
}

/// What a text message from the client asks for.
pub enum Reply {
    /// Nothing to send back.
    Nothing,
    /// Send this frame.
    Frame(String),
    /// Close with this code and reason.
    Close(u16, &'static str),
}

/// Sends `frames` (the replay) and then live deliveries until the socket ends. `on_text`
/// handles text messages (the richer protocol's acks); `heartbeat`, if given, is a text frame
/// sent with each ping, for browsers, which cannot see ping frames.
pub async fn run<S, E, F, Fut>(
    mut socket: S,
    mut s: Session,
    replay: Vec<Utf8Bytes>,
    heartbeat: Option<fn() -> String>,
    mut on_text: F,
) where
    S: Sink<Message, Error = E> + Stream<Item = Result<Message, E>> + Unpin,
    F: FnMut(Utf8Bytes) -> Fut,
    Fut: std::future::Future<Output = Reply>,
{
    for frame in replay {
        if socket.feed(Message::Text(frame)).await.is_err() {
            return;
        }
    }
    if socket.flush().await.is_err() {
        return;
    }
    s.tracker.replayed(&std::mem::take(&mut s.replayed_ids));
    let mut ping = tokio::time::interval(s.ping_every);
    ping.reset();
    let mut last_heard = Instant::now();
    let silence_limit = s.ping_every.mul_f32(2.5);
    loop {
        tokio::select! {
            biased;
            _ = s.shutdown.cancelled() => {
                close(&mut socket, CLOSE_RESTART, "server restarting").await;
                return;
            }
            _ = s.reg.shared.kill.notified() => {
                close_slow(&mut socket, &s).await;
                return;
            }
            d = s.reg.rx.recv() => {
                let Some(d) = d else { close_slow(&mut socket, &s).await; return };
                let kill = s.reg.shared.clone();
                let wrote = tokio::select! {
                    r = tokio::time::timeout(WRITE_TIMEOUT, write_batch(&mut socket, d, &mut s)) => matches!(r, Ok(true)),
                    _ = kill.kill.notified() => false,
                };
                if !wrote {
                    close_slow(&mut socket, &s).await;
                    return;
                }
            }
            msg = socket.next() => {
                last_heard = Instant::now();
                match msg {
                    None | Some(Err(_)) => return,
                    Some(Ok(Message::Close(_))) => {
                        // tungstenite queued the close reply; flush it so the client sees a
                        // clean close (1000) instead of 1006.
                        let _ = tokio::time::timeout(Duration::from_secs(1), socket.close()).await;
                        return;
                    }
                    Some(Ok(Message::Text(t))) => match on_text(t).await {
                        Reply::Nothing => {}
                        Reply::Frame(f) => {
                            if socket.send(Message::Text(f.into())).await.is_err() {
                                return;
                            }
                        }
                        Reply::Close(code, why) => {
                            close(&mut socket, code, why).await;
                            return;
                        }
                    },
                    Some(Ok(_)) => {}
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > silence_limit {
                    tracing::debug!("peer silent too long; dropping socket");
                    return;
                }
                if let Some(h) = heartbeat
                    && socket.feed(Message::Text(h().into())).await.is_err()
                {
                    return;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn frame_for(kind: ConnKind, d: &Delivery) -> Option<&Utf8Bytes> {
    match kind {
        ConnKind::Legacy => d.legacy.as_ref(),
        ConnKind::Rich | ConnKind::Sse => Some(&d.rich),
    }
}

/// Writes this delivery and whatever else is already queued, then flushes once.
async fn write_batch<S, E>(socket: &mut S, first: Arc<Delivery>, s: &mut Session) -> bool
where
    S: Sink<Message, Error = E> + Unpin,
{
    let mut batch = Vec::with_capacity(8);
    batch.push(first);
    while batch.len() < MAX_BATCH {
        match s.reg.rx.try_recv() {
            Ok(d) => batch.push(d),
            Err(_) => break,
        }
    }
    for d in &batch {
        if d.seq.is_some_and(|seq| seq <= s.skip_upto) {
            continue;
        }
        if let Some(text) = frame_for(s.kind, d)
            && socket.feed(Message::Text(text.clone())).await.is_err()
        {
            return false;
        }
    }
    if socket.flush().await.is_err() {
        return false;
    }
    for d in &batch {
        s.tracker.written(d);
    }
    true
}

async fn close_slow<S, E>(socket: &mut S, s: &Session)
where
    S: Sink<Message, Error = E> + Unpin,
{
    if s.reg
        .shared
        .reason
        .load(std::sync::atomic::Ordering::Relaxed)
        == KILL_SLOW
    {
        tracing::info!("closing a socket that could not keep up");
    }
    close(socket, CLOSE_SLOW, "too slow: reconnect and replay").await;
}

/// Sends a close frame, giving up quickly on a peer that does not read.
pub async fn close<S, E>(socket: &mut S, code: u16, reason: &'static str)
where
    S: Sink<Message, Error = E> + Unpin,
{
    let frame = Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }));
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(frame)).await;
}
