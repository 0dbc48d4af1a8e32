//! The in-process hub: which sockets of this instance watch which shop, and the single ingest
//! loop that turns published events into per-socket deliveries.
//!
//! The hub only carries wake-ups; the alert log is the source of truth. Per shop it remembers
//! the last sequence it delivered, so a duplicate (relay retry, recovery scan, a second
//! broker message) is dropped and a gap (a lost or reordered message) is filled from the log
//! before anything newer is delivered: every socket sees each alert once, in order.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// Why the hub wants a connection closed.
pub const KILL_SLOW: u8 = 1;

/// State shared between a connection's task and the hub.
#[derive(Debug, Default)]
pub struct ConnShared {
    /// Woken when the hub closes the connection.
    pub kill: Notify,
    /// The reason (`KILL_SLOW`), 0 while alive.
    pub reason: AtomicU8,
}

struct ConnHandle {
    id: u64,
    kind: ConnKind,
    tx: mpsc::Sender<Arc<Delivery>>,
    shared: Arc<ConnShared>,
}

struct ShopFeed {
    last_seq: i64,
    conns: Vec<ConnHandle>,
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
}

/// A connection's membership; leaving the hub happens when it is dropped.
pub struct Registration {
    /// Deliveries for this connection, bounded.
    pub rx: mpsc::Receiver<Arc<Delivery>>,
    /// Shared kill switch.
    pub shared: Arc<ConnShared>,
    /// Everything with a sequence up to this one must come from the log (replay); everything
    /// after it arrives on `rx`.
    pub live_after: i64,
    hub: Hub,
    shop_id: i64,
    id: u64,
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
            }),
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
        let (tx, rx) = mpsc::channel(queue);
        let shared = Arc::new(ConnShared::default());
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let handle = ConnHandle {
            id,
            kind,
            tx,
            shared: shared.clone(),
        };
        let (live_after, new_feed) = {
            let mut feeds = self.inner.feeds.lock().expect("feeds lock");
            let new_feed = !feeds.contains_key(&shop_id);
            let feed = feeds.entry(shop_id).or_insert(ShopFeed {
                last_seq: db_seq,
                conns: Vec::new(),
            });
            feed.conns.push(handle);
            (feed.last_seq, new_feed)
        };
        if new_feed {
            self.watch(Watch::Start(shop_id));
        }
        metrics::gauge!("sky_connections_open", "kind" => kind.label()).increment(1.0);
        Registration {
            rx,
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

/// Queues a delivery on every socket of the feed. A full queue means the socket cannot keep
/// up: it is dropped from the feed and told to close (it will reconnect and replay), so it
/// never slows the others or the request that raised the alert.
fn fan_out(feed: &mut ShopFeed, d: &Arc<Delivery>) {
    let legacy_too = d.legacy.is_some();
    feed.conns.retain(|c| {
        if c.kind == ConnKind::Legacy && !legacy_too {
            return true;
        }
        match c.tx.try_send(d.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                c.shared.reason.store(KILL_SLOW, Ordering::Relaxed);
                c.shared.kill.notify_one();
                metrics::counter!("sky_slow_socket_closes_total", "kind" => c.kind.label())
                    .increment(1);
                metrics::gauge!("sky_connections_open", "kind" => c.kind.label()).decrement(1.0);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                metrics::gauge!("sky_connections_open", "kind" => c.kind.label()).decrement(1.0);
                false
            }
        }
    });
}
