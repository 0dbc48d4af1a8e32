//! The listener: at most `--max-connections` TCP connections at once (one more is answered
//! `503` with `Connection: close` and closed, counted as `connections`), each tuned (no Nagle
//! delay, a fixed send buffer) and each with a write deadline: a write that cannot make
//! progress for [`WRITE_DEADLINE`] fails the connection, so a peer that stops reading an
//! HTTP reply or an SSE stream cannot hold its connection, buffers and task for good.
//! (WebSockets have their own, shorter deadline in the socket loop.)

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;

/// Longest a write may wait for the peer to read.
pub const WRITE_DEADLINE: Duration = Duration::from_secs(30);

/// What a connection over the cap is told before it is closed.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n\
Content-Type: application/json\r\nContent-Length: 61\r\n\r\n\
{\"code\":0,\"msg\":\"\xe6\x9c\x8d\xe5\x8a\xa1\xe7\xb9\x81\xe5\xbf\x99\xef\xbc\x8c\xe8\xaf\xb7\xe7\xa8\x8d\xe5\x90\x8e\xe5\x86\x8d\xe8\xaf\x95\",\"data\":null}";

/// Connections the kernel may hold accepted but not yet taken by the accept loop (Linux caps
/// it at `net.core.somaxconn`, 4096 by default). The standard library's and tokio's 128 is
/// not enough for a reconnect storm: with 200 sockets opening at once while both cores are
/// busy, the queue overflowed and the kernel dropped SYNs, each such client waiting out TCP's
/// 1 s retransmission (`TcpExtListenOverflows`, BENCHMARKS.md §7 "Handshakes, round four").
pub const LISTEN_BACKLOG: u32 = 4096;

/// Binds `addr` (address reuse on, as `TcpListener::bind` does) with [`LISTEN_BACKLOG`].
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// The peer address of a connection, as axum's connect info (`ConnectInfo<Peer>`).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, CappedListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, CappedListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// A TCP listener that holds at most `max` connections.
pub struct CappedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
    /// `sky_tcp_connections_open`, looked up in the metrics recorder once.
    open: metrics::Gauge,
}

impl CappedListener {
    /// Caps `inner` at `max` connections open at once.
    pub fn new(inner: TcpListener, max: usize) -> CappedListener {
        CappedListener {
            inner,
            permits: Arc::new(Semaphore::new(max)),
            open: metrics::gauge!("sky_tcp_connections_open"),
        }
    }
}

impl Listener for CappedListener {
    type Io = Connection;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Connection, SocketAddr) {
        loop {
            // axum's own accept loop: it logs and backs off on accept errors (EMFILE…).
            let (tcp, addr) = Listener::accept(&mut self.inner).await;
            match self.permits.clone().try_acquire_owned() {
                Ok(permit) => {
                    tune_socket(&tcp);
                    self.open.increment(1.0);
                    return (
                        Connection {
                            tcp,
                            _permit: permit,
                            open: self.open.clone(),
                            stalled: None,
                        },
                        addr,
                    );
                }
                Err(_) => {
                    metrics::counter!("sky_connections_refused_total", "reason" => "connections")
                        .increment(1);
                    // Never waits: an empty send buffer takes the short reply at once, and a
                    // peer that cannot take it just sees the connection close.
                    let _ = tcp.try_write(BUSY);
                    let _ = socket2::SockRef::from(&tcp).shutdown(std::net::Shutdown::Write);
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// Per-connection socket options. No Nagle delay: alerts are small and latency matters. A
/// fixed send buffer (the kernel doubles it to 64 KiB) instead of loopback autotuning (which
/// grows to megabytes): a screen that stops reading then blocks its writer after ~800 frames,
/// its bounded queue fills and it is closed as slow, instead of the kernel hoarding data.
fn tune_socket(tcp: &TcpStream) {
    let _ = tcp.set_nodelay(true);
    let _ = socket2::SockRef::from(tcp).set_send_buffer_size(32 * 1024);
}

/// An accepted connection: its slot under the cap and its write deadline.
pub struct Connection {
    tcp: TcpStream,
    _permit: OwnedSemaphorePermit,
    /// `sky_tcp_connections_open`, decremented when the connection closes.
    open: metrics::Gauge,
    /// Armed while a write waits for the peer (boxed: only a blocked connection pays for it).
    stalled: Option<Pin<Box<Sleep>>>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.open.decrement(1.0);
    }
}

impl Connection {
    /// After a write returned `Pending`: fails once the deadline has passed.
    fn check_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let sleep = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(WRITE_DEADLINE)));
        ready!(sleep.as_mut().poll(cx));
        metrics::counter!("sky_write_deadline_closes_total").increment(1);
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the peer did not read for the write deadline",
        )))
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.tcp).poll_write(cx, buf) {
            Poll::Pending => self.check_deadline(cx),
            done => {
                self.stalled = None;
                done
            }
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs) {
            Poll::Pending => self.check_deadline(cx),
            done => {
                self.stalled = None;
                done
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_write_to_a_peer_that_stopped_reading_fails_at_the_deadline() {
        let mut listener = CappedListener::new(TcpListener::bind("127.0.0.1:0").await.unwrap(), 1);
        let addr = listener.local_addr().unwrap();
        let _peer = TcpStream::connect(addr).await.unwrap();
        let (mut conn, _) = Listener::accept(&mut listener).await;
        let chunk = vec![0u8; 64 * 1024];
        let start = tokio::time::Instant::now();
        let err = loop {
            if let Err(e) = conn.write_all(&chunk).await {
                break e;
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(start.elapsed() >= WRITE_DEADLINE);
    }

    #[tokio::test]
    async fn one_connection_over_the_cap_gets_503_and_is_closed() {
        let mut listener = CappedListener::new(TcpListener::bind("127.0.0.1:0").await.unwrap(), 1);
        let addr = listener.local_addr().unwrap();
        let _first = TcpStream::connect(addr).await.unwrap();
        let mut second = TcpStream::connect(addr).await.unwrap();
        let accepting = tokio::spawn(async move {
            let held = Listener::accept(&mut listener).await;
            // The second is refused inside this accept, which then waits for a third.
            let _ =
                tokio::time::timeout(Duration::from_millis(500), Listener::accept(&mut listener))
                    .await;
            held
        });
        let mut reply = String::new();
        second.read_to_string(&mut reply).await.unwrap();
        assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
        let body = reply.split("\r\n\r\n").nth(1).unwrap();
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["code"], 0);
        drop(accepting.await.unwrap());
    }

    /// Tried: 600 clients connect at once to a listener that accepts none of them (the accept
    /// loop of a busy server). Each must complete its TCP handshake from the kernel's queue;
    /// with the standard backlog of 128 the rest have their SYNs dropped and never get in
    /// while the queue stays full.
    #[tokio::test]
    async fn a_burst_of_connects_waits_in_the_kernel_queue_not_in_syn_retries() {
        let somaxconn: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(LISTEN_BACKLOG);
        assert!(
            somaxconn >= 600,
            "net.core.somaxconn is {somaxconn}: the kernel caps the listen backlog below this test's burst"
        );
        let listener = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let connects = (0..600).map(|_| tokio::spawn(TcpStream::connect(addr)));
        let all = futures_util::future::join_all(connects);
        let streams = tokio::time::timeout(Duration::from_secs(10), all)
            .await
            .expect("some connects were dropped by a full accept queue");
        assert!(streams.into_iter().all(|s| s.unwrap().is_ok()));
        drop(listener);
    }
}
