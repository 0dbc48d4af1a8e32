//! The in-process hub: which sockets of this instance watch which shop, and the single ingest
//! loop that turns published events into per-socket deliveries.
//!
//! The hub only carries wake-ups; the alert log is the source of truth. Per shop it remembers
//! the last sequence it delivered, so a duplicate (relay retry, recovery scan, a second
//! broker message) is dropped and a gap (a lost or reordered message) is filled from the log
//! before anything newer is delivered: every socket sees each alert once, in order.
//!
//! Deliveries are not copied into a queue per socket: each shop has one ring of recent
//! deliveries and every socket reads it from its own position (one allocation per alert, not
//! per socket, and about a kilobyte less per idle connection than a channel each). A socket
//! more than its queue length behind is closed as slow, exactly as a full channel was.

use std::collections::{HashMap, VecDeque};
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use futures_util::task::AtomicWaker;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use super::model::{AlertRecord, Delivery, Event};
use crate::store::{Store, alerts as sql};

/// What kind of socket a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnKind {
    /// `/ws/{sid}`: the stock page's frames only.
    Legacy,
    /// `/ws/alerts`: the richer protocol.
    Rich,
    /// `/sse/alerts`: server-sent events.
    Sse,
}

impl ConnKind {
    /// Label for metrics.
    pub fn label(self) -> &'static str {
        match self {
            ConnKind::Legacy => "legacy",
            ConnKind::Rich => "rich",
            ConnKind::Sse => "sse",
        }
    }
}

/// Why the hub wants a connection closed: it could not keep up (close 4008).
pub const KILL_SLOW: u8 = 1;
/// Why the hub wants a connection closed: the server is shutting down (close 1012).
pub const KILL_RESTART: u8 = 2;

/// State shared between a connection's task and the hub.
#[derive(Debug, Default)]
pub struct ConnShared {
    /// Notified when the hub closes the connection.
    pub kill: Notify,
    /// The reason (`KILL_SLOW`, `KILL_RESTART`), 0 while alive.
    pub reason: AtomicU8,
    /// The connection's task, woken when its feed has something new or it is closed.
    waker: AtomicWaker,
    /// Feed position of the next delivery the connection reads (written by it alone).
    pos: AtomicU64,
}

impl ConnShared {
    fn close(&self, reason: u8) {
        self.reason.store(reason, Ordering::Release);
        self.kill.notify_one();
        self.waker.wake();
    }
}

struct ConnHandle {
    id: u64,
    kind: ConnKind,
    queue: u64,
    shared: Arc<ConnShared>,
}

/// A shop's recent deliveries, read by each of its sockets from its own position. Holds what
/// some socket has not read yet (at most the largest queue), plus the newest one.
#[derive(Default)]
struct Ring {
    state: Mutex<RingState>,
    /// `state.head()`, readable without the lock: a socket woken for something else (or
    /// checking before it sleeps) learns that nothing is new without contending for it.
    head: AtomicU64,
}

#[derive(Default)]
struct RingState {
    /// Position of `items[0]`.
    start: u64,
    items: VecDeque<Arc<Delivery>>,
}

impl RingState {
    fn head(&self) -> u64 {
        self.start + self.items.len() as u64
    }

    fn trim(&mut self, keep_from: u64) {
        while self.start < keep_from && self.items.pop_front().is_some() {
            self.start += 1;
        }
    }
}

struct ShopFeed {
    last_seq: i64,
    conns: Vec<ConnHandle>,
    ring: Arc<Ring>,
    /// The largest queue of the feed's sockets: the ring never holds more unread deliveries.
    cap: u64,
}

/// A change in which shops this instance watches (for a broker that subscribes per shop).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// The first local socket of the shop arrived.
    Start(i64),
    /// The last local socket of the shop left.
    Stop(i64),
}

/// Work for the ingest loop.
#[derive(Debug)]
pub enum Ingest {
    /// An event from the broker.
    Event(Event),
    /// Re-read the shop's log after the last delivered sequence (a subscription became active).
    Resync(i64),
    /// Re-read every watched shop (the broker reconnected).
    ResyncAll,
}

/// The hub. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    feeds: Mutex<HashMap<i64, ShopFeed>>,
    next_id: AtomicU64,
    watch_tx: Mutex<Option<mpsc::UnboundedSender<Watch>>>,
    /// Set once shutdown closed every connection: later ones are closed at once.
    closing: AtomicBool,
    /// Whether the shutdown watcher runs.
    shutdown_watched: AtomicBool,
}

/// A connection's deliveries: its position in the shop's ring.
pub struct Receiver {
    ring: Arc<Ring>,
    shared: Arc<ConnShared>,
}

impl Receiver {
    /// Moves up to `max` pending deliveries into `out`: `None` once the connection was
    /// closed by the hub (see [`ConnShared::reason`]), else how many were moved.
    fn take(&self, out: &mut Vec<Arc<Delivery>>, max: usize) -> Option<usize> {
        if self.shared.reason.load(Ordering::Acquire) != 0 {
            return None;
        }
        let pos = self.shared.pos.load(Ordering::Relaxed);
        if self.ring.head.load(Ordering::Acquire) == pos {
            return Some(0);
        }
        let ring = self.ring.state.lock().expect("ring lock");
        if pos < ring.start {
            // Fell further behind than the ring keeps: the hub closes it as slow.
            return None;
        }
        let n = ((ring.head() - pos) as usize).min(max);
        if n > 0 {
            let from = (pos - ring.start) as usize;
            out.extend(ring.items.range(from..from + n).cloned());
            self.shared.pos.store(pos + n as u64, Ordering::Release);
        }
        Some(n)
    }

    /// Waits for deliveries and moves up to `max` of them into `out` (oldest first); `None`
    /// when the connection was closed by the hub.
    pub async fn recv_many(&mut self, out: &mut Vec<Arc<Delivery>>, max: usize) -> Option<usize> {
        poll_fn(|cx| match self.take(out, max) {
            Some(0) => {
                self.shared.waker.register(cx.waker());
                match self.take(out, max) {
                    Some(0) => Poll::Pending,
                    r => Poll::Ready(r),
                }
            }
            r => Poll::Ready(r),
        })
        .await
    }

    /// Waits for the next delivery; `None` when the connection was closed by the hub.
    pub async fn recv(&mut self) -> Option<Arc<Delivery>> {
        let mut one = Vec::with_capacity(1);
        self.recv_many(&mut one, 1).await?;
        one.pop()
    }

    /// Resolves when the hub closes the connection (slow, or shutting down).
    pub async fn closed(&self) {
        poll_fn(|cx| {
            if self.shared.reason.load(Ordering::Acquire) != 0 {
                return Poll::Ready(());
            }
            self.shared.waker.register(cx.waker());
            if self.shared.reason.load(Ordering::Acquire) != 0 {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

/// Gives the allocator's free pages back to the system a second after connections arrive or
/// leave. A burst of handshakes (each briefly holding an HTTP read buffer, a router clone and
/// its queries' state) leaves freed memory scattered between live sockets, which glibc keeps
/// resident: after 10,000 screens connect at once that is several kilobytes per screen.
fn trim_after_burst() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::sync::atomic::AtomicI64;
        /// When the pending trim was scheduled (ms on the wall clock), 0 when none is.
        static SCHEDULED: AtomicI64 = AtomicI64::new(0);
        let now = crate::time::wall_ms();
        let at = SCHEDULED.load(Ordering::Acquire);
        // A trim is pending (a stale mark, from a runtime that stopped, expires after 10 s).
        if (at != 0 && now - at < 10_000)
            || SCHEDULED
                .compare_exchange(at, now, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
        {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            SCHEDULED.store(0, Ordering::Release);
            return;
        };
        rt.spawn(async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            SCHEDULED.store(0, Ordering::Release);
            let _ = tokio::task::spawn_blocking(|| {
                unsafe extern "C" {
                    fn malloc_trim(pad: usize) -> i32;
                }
                // SAFETY: glibc's malloc_trim only releases free memory; it is thread-safe.
                unsafe { malloc_trim(0) };
            })
            .await;
        });
    }
}

/// A connection's membership; leaving the hub happens when it is dropped.
pub struct Registration {
    /// Deliveries for this connection; more than its queue length behind, it is closed.
    pub rx: Receiver,
    /// Shared kill switch.
    pub shared: Arc<ConnShared>,
    /// Everything with a sequence up to this one must come from the log (replay); everything
    /// after it arrives on `rx`.
    pub live_after: i64,
    hub: Hub,
    shop_id: i64,
    id: u64,
}

impl Registration {
    /// Closes this connection (and every other of the hub) when `stop` is cancelled.
    pub fn close_all_on(&self, stop: &CancellationToken) {
        self.hub.close_all_on(stop);
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.leave(self.shop_id, self.id);
    }
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    /// An empty hub.
    pub fn new() -> Hub {
        Hub {
            inner: Arc::new(Inner {
                feeds: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
                watch_tx: Mutex::new(None),
                closing: AtomicBool::new(false),
                shutdown_watched: AtomicBool::new(false),
            }),
        }
    }

    /// Closes every connection (reason `KILL_RESTART`) when `stop` is cancelled, and any that
    /// registers afterwards. One watcher per hub, so a socket does not poll the token itself.
    pub fn close_all_on(&self, stop: &CancellationToken) {
        if self.inner.shutdown_watched.swap(true, Ordering::AcqRel) {
            return;
        }
        let (hub, stop) = (self.clone(), stop.clone());
        tokio::spawn(async move {
            stop.cancelled().await;
            hub.close_all();
        });
    }

    fn close_all(&self) {
        let feeds = self.inner.feeds.lock().expect("feeds lock");
        self.inner.closing.store(true, Ordering::Release);
        for feed in feeds.values() {
            for c in &feed.conns {
                c.shared.close(KILL_RESTART);
            }
        }
    }

    /// Sends watch changes to a broker that subscribes per shop.
    pub fn set_watcher(&self, tx: mpsc::UnboundedSender<Watch>) {
        *self.inner.watch_tx.lock().expect("watch lock") = Some(tx);
    }

    fn watch(&self, w: Watch) {
        if let Some(tx) = self.inner.watch_tx.lock().expect("watch lock").as_ref() {
            let _ = tx.send(w);
        }
    }

    /// The shops this instance watches now.
    pub fn watched_shops(&self) -> Vec<i64> {
        self.inner
            .feeds
            .lock()
            .expect("feeds lock")
            .keys()
            .copied()
            .collect()
    }

    /// Joins a shop's feed. `db_seq` is the shop's last sequence read from the log *before*
    /// this call: a new feed starts there, so nothing committed earlier is delivered live.
    pub fn register(
        &self,
        shop_id: i64,
        kind: ConnKind,
        queue: usize,
        db_seq: i64,
    ) -> Registration {
        let shared = Arc::new(ConnShared::default());
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let queue = queue.max(1) as u64;
        let handle = ConnHandle {
            id,
            kind,
            queue,
            shared: shared.clone(),
        };
        let (live_after, new_feed, ring) = {
            let mut feeds = self.inner.feeds.lock().expect("feeds lock");
            let new_feed = !feeds.contains_key(&shop_id);
            let feed = feeds.entry(shop_id).or_insert_with(|| ShopFeed {
                last_seq: db_seq,
                conns: Vec::new(),
                ring: Arc::default(),
                cap: 0,
            });
            feed.cap = feed.cap.max(queue);
            // Reads start after everything already in the ring.
            let head = feed.ring.state.lock().expect("ring lock").head();
            shared.pos.store(head, Ordering::Relaxed);
            if self.inner.closing.load(Ordering::Acquire) {
                shared.close(KILL_RESTART);
            }
            feed.conns.push(handle);
            (feed.last_seq, new_feed, feed.ring.clone())
        };
        if new_feed {
            self.watch(Watch::Start(shop_id));
        }
        trim_after_burst();
        metrics::gauge!("sky_connections_open", "kind" => kind.label()).increment(1.0);
        Registration {
            rx: Receiver {
                ring,
                shared: shared.clone(),
            },
            shared,
            live_after,
            hub: self.clone(),
            shop_id,
            id,
        }
    }

    fn leave(&self, shop_id: i64, id: u64) {
        let mut removed_kind = None;
        let mut now_empty = false;
        {
            let mut feeds = self.inner.feeds.lock().expect("feeds lock");
            if let Some(feed) = feeds.get_mut(&shop_id) {
                if let Some(pos) = feed.conns.iter().position(|c| c.id == id) {
                    removed_kind = Some(feed.conns.swap_remove(pos).kind);
                }
                if feed.conns.is_empty() {
                    feeds.remove(&shop_id);
                    now_empty = true;
                }
            }
        }
        if let Some(kind) = removed_kind {
            metrics::gauge!("sky_connections_open", "kind" => kind.label()).decrement(1.0);
            trim_after_burst();
        }
        if now_empty {
            self.watch(Watch::Stop(shop_id));
        }
    }

    /// Last sequence delivered to the shop's sockets, if this instance watches it.
    fn last_seq(&self, shop_id: i64) -> Option<i64> {
        self.inner
            .feeds
            .lock()
            .expect("feeds lock")
            .get(&shop_id)
            .map(|f| f.last_seq)
    }

    /// Delivers one alert if it is the next in sequence; true when it was delivered or is old.
    fn deliver_alert(&self, a: &AlertRecord) -> bool {
        let mut feeds = self.inner.feeds.lock().expect("feeds lock");
        let Some(feed) = feeds.get_mut(&a.shop_id) else {
            return true;
        };
        if a.seq <= feed.last_seq {
            metrics::counter!("sky_alerts_duplicates_dropped_total").increment(1);
            return true;
        }
        if a.seq != feed.last_seq + 1 {
            return false;
        }
        feed.last_seq = a.seq;
        let d = Arc::new(Delivery::of(&Event::Alert(a.clone())));
        fan_out(feed, &d);
        true
    }

    fn deliver_other(&self, event: &Event) {
        let mut feeds = self.inner.feeds.lock().expect("feeds lock");
        if let Some(feed) = feeds.get_mut(&event.shop_id()) {
            fan_out(feed, &Arc::new(Delivery::of(event)));
        }
    }

    /// The ingest loop: applies events in arrival order, filling gaps from the log.
    pub async fn run_ingest(
        self,
        mut rx: mpsc::Receiver<Ingest>,
        store: Store,
        stop: CancellationToken,
    ) {
        loop {
            let cmd = tokio::select! {
                c = rx.recv() => match c { Some(c) => c, None => break },
                _ = stop.cancelled() => break,
            };
            match cmd {
                Ingest::Event(Event::Alert(a)) => {
                    if !self.deliver_alert(&a) {
                        metrics::counter!("sky_alert_gaps_repaired_total").increment(1);
                        self.catch_up(&store, a.shop_id, Some(a.seq)).await;
                        self.deliver_alert(&a);
                    }
                }
                Ingest::Event(other) => self.deliver_other(&other),
                Ingest::Resync(shop) => self.catch_up(&store, shop, None).await,
                Ingest::ResyncAll => self.audit(&store).await,
            }
        }
    }

    /// Compares every watched shop's last delivered sequence with the log (one query per
    /// thousand shops) and catches up the ones that are behind.
    async fn audit(&self, store: &Store) {
        let watched: Vec<(i64, i64)> = {
            let feeds = self.inner.feeds.lock().expect("feeds lock");
            feeds.iter().map(|(shop, f)| (*shop, f.last_seq)).collect()
        };
        for chunk in watched.chunks(1000) {
            let ids: Vec<i64> = chunk.iter().map(|(s, _)| *s).collect();
            let seqs = match sql::max_seqs(store.pool(), &ids).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "alert audit failed");
                    return;
                }
            };
            for (shop, seq) in seqs {
                if self.last_seq(shop).is_some_and(|last| last < seq) {
                    metrics::counter!("sky_alert_gaps_repaired_total").increment(1);
                    self.catch_up(store, shop, None).await;
                }
            }
        }
    }

    /// Reads the shop's alerts after the last delivered one (up to `before`, exclusive) from
    /// the log and delivers them in order.
    async fn catch_up(&self, store: &Store, shop_id: i64, before: Option<i64>) {
        for attempt in 0..3 {
            let Some(last) = self.last_seq(shop_id) else {
                return;
            };
            let upto = before.map(|b| b - 1).unwrap_or(i64::MAX);
            if upto <= last {
                return;
            }
            match sql::range(store.pool(), shop_id, last, upto, 10_000).await {
                Ok(rows) => {
                    for (a, _handled) in rows {
                        self.deliver_alert(&a);
                    }
                    return;
                }
                Err(e) => {
                    tracing::warn!(shop_id, attempt, error = %e, "reading missed alerts failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

/// Appends a delivery to the shop's ring and wakes its sockets. A socket with more than its
/// queue length unread cannot keep up: it is dropped from the feed and told to close (it will
/// reconnect and replay), so it never slows the others or the request that raised the alert.
fn fan_out(feed: &mut ShopFeed, d: &Arc<Delivery>) {
    let head = {
        let mut ring = feed.ring.state.lock().expect("ring lock");
        ring.items.push_back(d.clone());
        let head = ring.head();
        feed.ring.head.store(head, Ordering::Release);
        head
    };
    let mut min_pos = head;
    feed.conns.retain(|c| {
        let pos = c.shared.pos.load(Ordering::Acquire);
        if head - pos > c.queue {
            c.shared.close(KILL_SLOW);
            metrics::counter!("sky_slow_socket_closes_total", "kind" => c.kind.label())
                .increment(1);
            metrics::gauge!("sky_connections_open", "kind" => c.kind.label()).decrement(1.0);
            return false;
        }
        min_pos = min_pos.min(pos);
        c.shared.waker.wake();
        true
    });
    // Keep what some socket has not read, never more than the largest queue (positions that
    // advance meanwhile only make this keep a little more until the next delivery).
    let mut ring = feed.ring.state.lock().expect("ring lock");
    ring.trim(min_pos.max(head.saturating_sub(feed.cap)));
}
