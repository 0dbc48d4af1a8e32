//! The loop driven through channels: the "socket" is a pair of unbounded channels, the
//! deliveries come from a real hub.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::{Sink, Stream};
use tokio::sync::mpsc;

use super::*;
use crate::domain::alert::tests::alert;
use crate::domain::alert::{AlertRecord, Event};
use crate::domain::frames::{legacy_frame, rich_alert_frame};
use crate::hub::Hub;

/// The peer went away.
#[derive(Debug)]
struct Gone;

impl ReadError for Gone {
    fn close_code(&self) -> Option<(u16, &'static str)> {
        None
    }
}

/// Whether the peer reads, and the write waiting for it to read again.
#[derive(Default)]
struct Stall {
    on: std::sync::atomic::AtomicBool,
    waiting: futures_util::task::AtomicWaker,
}

/// The server's end: what it sends goes to `out`, what it reads comes from `input`. While
/// `stalled` is set it takes nothing (a peer that stopped reading, its window full).
struct TestSocket {
    out: mpsc::UnboundedSender<Message>,
    input: mpsc::UnboundedReceiver<Result<Message, Gone>>,
    stalled: Arc<Stall>,
}

impl TestSocket {
    /// Whether a write must wait; if so, it is woken when the peer reads again.
    fn is_stalled(&self, cx: &Context<'_>) -> bool {
        self.stalled.waiting.register(cx.waker());
        self.stalled.on.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Sink<Message> for TestSocket {
    type Error = Gone;
    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Gone>> {
        if self.is_stalled(cx) {
            return Poll::Pending;
        }
        Poll::Ready(Ok(()))
    }
    fn start_send(self: Pin<&mut Self>, m: Message) -> Result<(), Gone> {
        self.out.send(m).map_err(|_| Gone)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Gone>> {
        if self.is_stalled(cx) {
            return Poll::Pending;
        }
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Gone>> {
        Poll::Ready(Ok(()))
    }
}

impl Stream for TestSocket {
    type Item = Result<Message, Gone>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.input.poll_recv(cx)
    }
}

/// The client's end.
struct Client {
    rx: mpsc::UnboundedReceiver<Message>,
    tx: mpsc::UnboundedSender<Result<Message, Gone>>,
    stalled: Arc<Stall>,
}

impl Client {
    /// The next message the server sent, or `None` once it dropped the socket. (A minute
    /// of the paused clock is longer than any ping period of these tests.)
    async fn next(&mut self) -> Option<Message> {
        tokio::time::timeout(Duration::from_secs(60), self.rx.recv())
            .await
            .expect("the server answers in time")
    }

    async fn text(&mut self) -> String {
        match self.next().await {
            Some(Message::Text(t)) => t.to_string(),
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    async fn close_code(&mut self) -> u16 {
        match self.next().await {
            Some(Message::Close(Some(f))) => f.code,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }

    fn send(&self, m: Message) {
        self.tx.send(Ok(m)).unwrap();
    }

    /// Stops (or resumes) reading: the server's writes block.
    fn stall(&self, on: bool) {
        self.stalled
            .on
            .store(on, std::sync::atomic::Ordering::SeqCst);
        self.stalled.waiting.wake();
    }
}

fn pair() -> (TestSocket, Client) {
    let (out, rx) = mpsc::unbounded_channel();
    let (tx, input) = mpsc::unbounded_channel();
    let stalled = Arc::new(Stall::default());
    (
        TestSocket {
            out,
            input,
            stalled: stalled.clone(),
        },
        Client { rx, tx, stalled },
    )
}

/// Waits (on the paused clock) for the socket's task to end; how long it took, or `None`
/// when it was still running after `limit`.
async fn ends_within(task: tokio::task::JoinHandle<()>, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    tokio::time::timeout(limit, task).await.ok()?.unwrap();
    Some(start.elapsed())
}

fn seq(n: i64) -> AlertRecord {
    AlertRecord {
        id: 100 + n,
        seq: n,
        ..alert()
    }
}

fn session(hub: &Hub, kind: ConnKind, queue: usize, skip_upto: i64) -> Session {
    Session {
        kind,
        reg: hub.register(1, kind, queue, 0),
        tracker: Tracker::default(),
        ping_every: Duration::from_secs(25),
        shutdown: CancellationToken::new(),
        skip_upto,
        replayed_ids: Vec::new(),
        ignore_binary: kind == ConnKind::Legacy,
    }
}

/// Runs the loop with replies: `ping` → a frame, `bye` → close 4002, the rest ignored.
fn start(socket: TestSocket, s: Session, replay: Vec<&'static str>) -> tokio::task::JoinHandle<()> {
    let replay = replay.into_iter().map(Utf8Bytes::from_static).collect();
    tokio::spawn(serve(socket, s, replay, None, |t: Utf8Bytes| async move {
        match t.as_str() {
            "ping" => Reply::Frame("pong".into()),
            "bye" => Reply::Close(CLOSE_BAD_MESSAGE, "not a protocol message"),
            _ => Reply::Nothing,
        }
    }))
}

#[tokio::test]
async fn the_replay_goes_first_then_live_frames_the_client_does_not_have() {
    let hub = Hub::new();
    let (socket, mut client) = pair();
    let _task = start(
        socket,
        session(&hub, ConnKind::Rich, 8, 1),
        vec!["r1", "r2"],
    );
    assert_eq!(client.text().await, "r1");
    assert_eq!(client.text().await, "r2");
    hub.deliver_alert(&seq(1));
    hub.deliver_alert(&seq(2));
    assert_eq!(
        client.text().await,
        rich_alert_frame(&seq(2), false),
        "seq 1 was skipped: the client had it"
    );
}

#[tokio::test]
async fn the_stock_page_gets_only_its_own_frames() {
    let hub = Hub::new();
    let (socket, mut client) = pair();
    let _task = start(socket, session(&hub, ConnKind::Legacy, 8, 0), vec![]);
    tokio::task::yield_now().await;
    hub.deliver_other(&Event::Handled {
        shop_id: 1,
        alert_ids: vec![1],
        order_id: 123,
    });
    hub.deliver_alert(&seq(1));
    assert_eq!(
        client.text().await,
        legacy_frame(&seq(1)),
        "no handled frame first"
    );
}

#[tokio::test]
async fn a_socket_the_hub_gave_up_on_is_closed_with_4008() {
    let hub = Hub::new();
    let (socket, mut client) = pair();
    let _task = start(socket, session(&hub, ConnKind::Rich, 1, 0), vec![]);
    // Three deliveries before the loop runs again: two more than its queue of one.
    hub.deliver_alert(&seq(1));
    hub.deliver_alert(&seq(2));
    hub.deliver_alert(&seq(3));
    assert_eq!(client.close_code().await, CLOSE_SLOW);
    assert!(client.next().await.is_none(), "and the socket is dropped");
}

/// A socket closed as too slow gets the hub's grace to take its close frame: one that reads
/// again within it sees 4008, one that reads again after it finds the connection dropped.
#[tokio::test(start_paused = true)]
async fn a_slow_socket_gets_the_grace_it_is_given_to_take_its_close_frame() {
    for (grace, reads_again_after, gets_close) in [(5, 3, true), (1, 3, false)] {
        let hub = Hub::new();
        hub.set_slow_close_grace(Duration::from_secs(grace));
        let (socket, mut client) = pair();
        let _task = start(socket, session(&hub, ConnKind::Rich, 1, 0), vec![]);
        client.stall(true);
        // The loop takes the first and blocks writing it; two more put it past its queue.
        hub.deliver_alert(&seq(1));
        tokio::time::sleep(Duration::from_millis(10)).await;
        hub.deliver_alert(&seq(2));
        hub.deliver_alert(&seq(3));
        tokio::time::sleep(Duration::from_secs(reads_again_after)).await;
        client.stall(false);
        let got = client.next().await;
        let code = match &got {
            Some(Message::Close(Some(f))) => Some(f.code),
            None => None,
            other => panic!("grace {grace} s: expected a close or the end, got {other:?}"),
        };
        assert_eq!(code.is_some(), gets_close, "grace {grace} s: {got:?}");
        if gets_close {
            assert_eq!(code, Some(CLOSE_SLOW));
            assert!(client.next().await.is_none(), "and the socket is dropped");
        }
    }
}

#[tokio::test]
async fn shutdown_closes_with_1012() {
    let hub = Hub::new();
    let (socket, mut client) = pair();
    let s = session(&hub, ConnKind::Rich, 8, 0);
    let stop = s.shutdown.clone();
    let task = start(socket, s, vec!["welcome"]);
    assert_eq!(client.text().await, "welcome");
    stop.cancel();
    assert_eq!(client.close_code().await, CLOSE_RESTART);
    task.await.unwrap();
}

#[tokio::test]
async fn text_messages_get_their_replies_and_a_bad_one_closes_4002() {
    let hub = Hub::new();
    let (socket, mut client) = pair();
    let task = start(socket, session(&hub, ConnKind::Rich, 8, 0), vec![]);
    client.send(Message::Text("ping".into()));
    assert_eq!(client.text().await, "pong");
    client.send(Message::Text("something".into()));
    client.send(Message::Text("bye".into()));
    assert_eq!(client.close_code().await, CLOSE_BAD_MESSAGE);
    task.await.unwrap();
}

#[tokio::test]
async fn the_client_closing_ends_the_loop() {
    let hub = Hub::new();
    let (socket, client) = pair();
    let task = start(socket, session(&hub, ConnKind::Legacy, 8, 0), vec![]);
    client.send(Message::Close(None));
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the loop ends")
        .unwrap();
    assert_eq!(hub.watched_shops(), Vec::<i64>::new(), "and left the hub");
}

#[tokio::test(start_paused = true)]
async fn pings_carry_the_heartbeat_and_a_silent_peer_is_dropped() {
    let hub = Hub::new();
    let (socket, mut client) = pair();
    let s = Session {
        ping_every: Duration::from_secs(10),
        ..session(&hub, ConnKind::Rich, 8, 0)
    };
    let task = tokio::spawn(serve(
        socket,
        s,
        Vec::new(),
        Some(|| r#"{"event":"ping"}"#.to_string()),
        |_| async { Reply::Nothing },
    ));
    for _ in 0..2 {
        assert_eq!(client.text().await, r#"{"event":"ping"}"#);
        assert!(matches!(client.next().await, Some(Message::Ping(_))));
    }
    // 30 s without a word (not even a pong) is more than 2.5 ping periods.
    assert!(
        client.next().await.is_none(),
        "dropped without a close frame"
    );
    task.await.unwrap();
    let (socket, mut client) = pair();
    let s = Session {
        ping_every: Duration::from_secs(10),
        ..session(&hub, ConnKind::Rich, 8, 0)
    };
    let _task = tokio::spawn(serve(socket, s, Vec::new(), None, |_| async {
        Reply::Nothing
    }));
    for _ in 0..5 {
        assert!(matches!(client.next().await, Some(Message::Ping(_))));
        client.send(Message::Pong(Default::default()));
    }
}

#[tokio::test(start_paused = true)]
async fn a_client_that_never_reads_its_replay_is_dropped_at_the_write_deadline() {
    let hub = Hub::new();
    let (socket, client) = pair();
    client.stall(true);
    let task = start(
        socket,
        session(&hub, ConnKind::Rich, 8, 0),
        vec!["r1", "r2"],
    );
    let took = ends_within(task, Duration::from_secs(600)).await;
    assert!(
        took.is_some_and(|t| t <= WRITE_TIMEOUT + Duration::from_secs(2)),
        "the replay write must give up at the deadline, took {took:?}"
    );
    assert_eq!(
        hub.watched_shops(),
        Vec::<i64>::new(),
        "and the socket left the hub"
    );
}

#[tokio::test(start_paused = true)]
async fn a_reply_or_a_ping_to_a_client_that_stopped_reading_ends_at_the_deadline() {
    for via_ping in [false, true] {
        let hub = Hub::new();
        let (socket, mut client) = pair();
        let task = start(socket, session(&hub, ConnKind::Rich, 8, 0), vec!["r1"]);
        assert_eq!(client.text().await, "r1");
        client.stall(true);
        if !via_ping {
            client.send(Message::Text("ping".into()));
        }
        // The first ping is due after 25 s; the write deadline runs from then.
        let took = ends_within(task, Duration::from_secs(600)).await;
        let limit = Duration::from_secs(25) + WRITE_TIMEOUT + Duration::from_secs(2);
        assert!(
            took.is_some_and(|t| t <= limit),
            "ping: {via_ping}: the write must give up at the deadline, took {took:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn shutdown_ends_a_socket_whose_write_is_blocked_at_once() {
    let hub = Hub::new();
    let (socket, mut client) = pair();
    let s = session(&hub, ConnKind::Rich, 8, 0);
    let stop = s.shutdown.clone();
    let task = start(socket, s, vec!["r1"]);
    assert_eq!(client.text().await, "r1");
    client.stall(true);
    client.send(Message::Text("ping".into()));
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.cancel();
    let took = ends_within(task, Duration::from_secs(600)).await;
    assert!(
        took.is_some_and(|t| t < Duration::from_secs(3)),
        "the kill switch, not the 10 s deadline, ends it: {took:?}"
    );
}
