//! The socket loop shared by both WebSocket protocols: replay first, then live deliveries
//! from the hub (pending frames written together), pings, dead-peer detection, and the
//! documented close codes. Generic over the socket so it can be driven by channels in tests.

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::alerts::tracker::Tracker;
use crate::hub::delivery::Delivery;
use crate::hub::{ConnKind, KILL_RESTART, KILL_SESSION, KILL_SLOW, Registration};

/// Close code: the server is restarting or shutting down; reconnect (elsewhere).
pub const CLOSE_RESTART: u16 = 1012;
/// Close code: authentication failed or was not sent in time; log in again.
pub const CLOSE_UNAUTHORIZED: u16 = 4001;
/// Close code: the client sent something that is not the protocol.
pub const CLOSE_BAD_MESSAGE: u16 = 4002;
/// Close code: the session is over (the account was disabled or its password changed
/// elsewhere); log in again, do not reconnect with the same token.
pub const CLOSE_SESSION_ENDED: u16 = 4003;
/// Close code: the socket could not keep up; reconnect and replay from the last sequence.
pub const CLOSE_SLOW: u16 = 4008;
/// Close code (RFC 6455): a frame that breaks the protocol (reserved bits or opcodes, an
/// unmasked frame, a fragmented or oversized control frame, a stray continuation…).
pub const CLOSE_PROTOCOL: u16 = 1002;
/// Close code (RFC 6455): a text frame or a close reason that is not UTF-8.
pub const CLOSE_INVALID_DATA: u16 = 1007;
/// Close code (RFC 6455): a frame or message over the 64 KiB limit.
pub const CLOSE_TOO_BIG: u16 = 1009;
/// Close code (RFC 6455 "try again later"): the server holds its most sockets, in all or
/// for this shop; reconnect after a backoff.
pub const CLOSE_TRY_AGAIN: u16 = 1013;
/// Reason of the richer protocol's 4002 for a binary frame.
pub const BINARY_REFUSED: &str = "binary frames are not part of this protocol";

/// A socket's read error: which close frame the peer is owed before the connection ends.
pub trait ReadError: Send + Sync + 'static {
    /// The RFC 6455 close code and reason for a frame the peer got wrong; `None` when the
    /// connection itself failed (reset, I/O error) and there is no one to tell.
    fn close_code(&self) -> Option<(u16, &'static str)>;
}

impl ReadError for axum::Error {
    fn close_code(&self) -> Option<(u16, &'static str)> {
        use tokio_tungstenite::tungstenite::Error as WsError;
        use tokio_tungstenite::tungstenite::error::ProtocolError;
        let e = std::error::Error::source(self)?.downcast_ref::<WsError>()?;
        match e {
            WsError::Utf8(_) => Some((CLOSE_INVALID_DATA, "invalid UTF-8")),
            WsError::Capacity(_) => Some((CLOSE_TOO_BIG, "frame or message over 64 KiB")),
            WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => None,
            WsError::Protocol(_) => Some((CLOSE_PROTOCOL, "protocol error")),
            _ => None,
        }
    }
}

/// Ends a connection after a read error: the close frame it is owed (bounded, like every
/// close), or nothing when the connection itself failed.
pub async fn close_after<S, E>(socket: &mut S, e: &E)
where
    S: Sink<Message, Error = E> + Unpin,
    E: ReadError,
{
    if let Some((code, reason)) = e.close_code() {
        metrics::counter!("sky_socket_protocol_errors_total", "code" => code.to_string())
            .increment(1);
        close(socket, code, reason).await;
    }
}

/// Answers a client's close frame: tungstenite queued the echo; flushing it (bounded) lets
/// the client see a clean close instead of 1006.
pub async fn answer_close<S, E>(socket: &mut S)
where
    S: Sink<Message, Error = E> + Unpin,
{
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.close()).await;
}

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
    /// Binary frames are ignored (the stock page's socket) instead of closing with 4002.
    pub ignore_binary: bool,
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
///
/// The socket is served by a task of its own and this returns at once: the caller's task
/// (the upgrade, authentication and replay) carries kilobytes of state an idle screen does
/// not need, and it ends here instead of living as long as the socket. The task runs on
/// `tasks`, the service's tracker, so shutdown waits for it.
pub async fn run<S, E, F, Fut>(
    tasks: &tokio_util::task::TaskTracker,
    socket: S,
    s: Session,
    replay: Vec<Utf8Bytes>,
    heartbeat: Option<fn() -> String>,
    on_text: F,
) where
    S: Sink<Message, Error = E> + Stream<Item = Result<Message, E>> + Unpin + Send + 'static,
    E: ReadError,
    F: FnMut(Utf8Bytes) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Reply> + Send + 'static,
{
    tasks.spawn(serve(socket, s, replay, heartbeat, on_text));
}

/// The socket's task. Written as a function returning an `async move` block that uses its
/// captures in place: an `async fn` would copy each argument into a second slot of the
/// future, and this future is what every open socket costs.
#[allow(clippy::manual_async_fn)]
fn serve<S, E, F, Fut>(
    mut socket: S,
    mut s: Session,
    replay: Vec<Utf8Bytes>,
    heartbeat: Option<fn() -> String>,
    mut on_text: F,
) -> impl std::future::Future<Output = ()> + Send + 'static
where
    S: Sink<Message, Error = E> + Stream<Item = Result<Message, E>> + Unpin + Send + 'static,
    E: ReadError,
    F: FnMut(Utf8Bytes) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Reply> + Send + 'static,
{
    async move {
        // Every write below runs under the write deadline and the hub's kill switch
        // (`guarded`), so a peer that stops reading costs at most WRITE_TIMEOUT.
        if !Box::pin(guarded(write_replay(&mut socket, replay), &s)).await {
            Box::pin(close_killed(&mut socket, &s)).await;
            return;
        }
        s.tracker.replayed(&std::mem::take(&mut s.replayed_ids));
        // Shutdown reaches the socket through the hub (one watcher for all sockets), so the loop
        // below waits on one thing per wake-up instead of polling the shared token every time.
        s.reg.close_all_on(&s.shutdown);
        if s.shutdown.is_cancelled() {
            Box::pin(close(&mut socket, CLOSE_RESTART, "server restarting")).await;
            return;
        }
        let mut ping = tokio::time::interval(s.ping_every);
        ping.reset();
        let mut last_heard = Instant::now();
        // Settings bound the period to an hour, so 2.5 periods cannot overflow.
        let silence_limit = s.ping_every.saturating_mul(5) / 2;
        let mut batch: Vec<Arc<Delivery>> = Vec::new();
        loop {
            tokio::select! {
                biased;
                n = s.reg.rx.recv_many(&mut batch, MAX_BATCH) => {
                    if n.is_none() {
                        Box::pin(close_killed(&mut socket, &s)).await;
                        return;
                    }
                    // Usually the kernel takes the frames at once: only a write that has
                    // to wait gets a deadline and watches for the hub giving up on it.
                    let wrote = {
                        let mut write = std::pin::pin!(write_batch(&mut socket, &batch, s.kind, s.skip_upto));
                        match std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await {
                            Poll::Ready(ok) => ok,
                            // Boxed, like the closes: rare, and inline they would grow the
                            // state every idle socket carries.
                            Poll::Pending => Box::pin(guarded(write, &s)).await,
                        }
                    };
                    if !wrote {
                        Box::pin(close_killed(&mut socket, &s)).await;
                        return;
                    }
                    for d in &batch {
                        // Only the first write of an alert on this instance is recorded.
                        if !d.recorded.load(std::sync::atomic::Ordering::Relaxed) {
                            s.tracker.written(d);
                        }
                    }
                    batch.clear();
                }
                msg = socket.next() => {
                    last_heard = Instant::now();
                    match msg {
                        None => return,
                        Some(Err(e)) => {
                            Box::pin(close_after(&mut socket, &e)).await;
                            return;
                        }
                        Some(Ok(Message::Close(_))) => {
                            Box::pin(answer_close(&mut socket)).await;
                            return;
                        }
                        Some(Ok(Message::Binary(_))) if !s.ignore_binary => {
                            Box::pin(close(&mut socket, CLOSE_BAD_MESSAGE, BINARY_REFUSED)).await;
                            return;
                        }
                        // Boxed: an ack's database work is rare, and inline it would make every
                        // idle connection's task as large as that future.
                        Some(Ok(Message::Text(t))) => match Box::pin(on_text(t)).await {
                            Reply::Nothing => {}
                            Reply::Frame(f) => {
                                let send = async { socket.send(Message::Text(f.into())).await.is_ok() };
                                if !Box::pin(guarded(send, &s)).await {
                                    Box::pin(close_killed(&mut socket, &s)).await;
                                    return;
                                }
                            }
                            Reply::Close(code, why) => {
                                Box::pin(close(&mut socket, code, why)).await;
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
                    if !Box::pin(guarded(send_ping(&mut socket, heartbeat), &s)).await {
                        Box::pin(close_killed(&mut socket, &s)).await;
                        return;
                    }
                }
            }
        }
    }
}

/// Runs a write under the write deadline and the hub's kill switch: false when the write
/// failed, took longer than [`WRITE_TIMEOUT`] (counted as a write timeout), or the hub closed
/// the socket meanwhile (too slow, or shutting down).
async fn guarded(write: impl Future<Output = bool>, s: &Session) -> bool {
    tokio::select! {
        biased;
        r = tokio::time::timeout(WRITE_TIMEOUT, write) => r.unwrap_or_else(|_| {
            metrics::counter!("sky_socket_write_timeouts_total", "kind" => s.kind.label())
                .increment(1);
            false
        }),
        _ = s.reg.rx.closed() => false,
    }
}

/// The heartbeat text frame (richer protocol) and a ping, flushed together.
async fn send_ping<S, E>(socket: &mut S, heartbeat: Option<fn() -> String>) -> bool
where
    S: Sink<Message, Error = E> + Unpin,
{
    if let Some(h) = heartbeat
        && socket.feed(Message::Text(h().into())).await.is_err()
    {
        return false;
    }
    socket.send(Message::Ping(Default::default())).await.is_ok()
}

/// Writes the replay (oldest first) and flushes once.
async fn write_replay<S, E>(socket: &mut S, replay: Vec<Utf8Bytes>) -> bool
where
    S: Sink<Message, Error = E> + Unpin,
{
    for frame in replay {
        if socket.feed(Message::Text(frame)).await.is_err() {
            return false;
        }
    }
    socket.flush().await.is_ok()
}

fn frame_for(kind: ConnKind, d: &Delivery) -> Option<&Utf8Bytes> {
    match kind {
        ConnKind::Legacy => d.legacy.as_ref(),
        ConnKind::Rich | ConnKind::Sse => Some(&d.rich),
    }
}

/// Writes the pending deliveries (everything queued when the socket woke up, up to
/// `MAX_BATCH`) and flushes once: under load, many frames go out in one write.
async fn write_batch<S, E>(
    socket: &mut S,
    batch: &[Arc<Delivery>],
    kind: ConnKind,
    skip_upto: i64,
) -> bool
where
    S: Sink<Message, Error = E> + Unpin,
{
    for d in batch {
        if d.seq.is_some_and(|seq| seq <= skip_upto) {
            continue;
        }
        if let Some(text) = frame_for(kind, d)
            && socket.feed(Message::Text(text.clone())).await.is_err()
        {
            return false;
        }
    }
    socket.flush().await.is_ok()
}

/// Closes a socket the hub gave up on: 1012 when the server is shutting down, 4003 when its
/// session is over, else 4008 (too slow: it fell a queue behind, or a write did not finish
/// in time).
async fn close_killed<S, E>(socket: &mut S, s: &Session)
where
    S: Sink<Message, Error = E> + Unpin,
{
    match s
        .reg
        .shared
        .reason
        .load(std::sync::atomic::Ordering::Acquire)
    {
        KILL_RESTART => close(socket, CLOSE_RESTART, "server restarting").await,
        KILL_SESSION => close(socket, CLOSE_SESSION_ENDED, "session ended: log in again").await,
        why => {
            if why == KILL_SLOW {
                tracing::info!("closing a socket that could not keep up");
            }
            // Its kernel buffers hold frames it has not read: the close frame waits behind them.
            let grace = s.reg.slow_close_grace();
            close_within(socket, CLOSE_SLOW, "too slow: reconnect and replay", grace).await;
        }
    }
}

/// Sends a close frame, giving up quickly on a peer that does not read.
pub async fn close<S, E>(socket: &mut S, code: u16, reason: &'static str)
where
    S: Sink<Message, Error = E> + Unpin,
{
    close_within(socket, code, reason, Duration::from_secs(1)).await;
}

/// Sends a close frame, giving up on the peer after `grace`.
async fn close_within<S, E>(socket: &mut S, code: u16, reason: &'static str, grace: Duration)
where
    S: Sink<Message, Error = E> + Unpin,
{
    let frame = Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }));
    let _ = tokio::time::timeout(grace, socket.send(frame)).await;
}

#[cfg(test)]
mod tests;
