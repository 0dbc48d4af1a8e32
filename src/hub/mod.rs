//! The in-process hub: which sockets of this instance watch which shop, the fan-out to them
//! (one ring per shop, `ring`), the single ingest loop with its gap repair (`ingest`), the
//! brokers that carry events between instances (`broker`), and the allocator trim after
//! bursts of connections (`trim`).
//!
//! The hub only carries wake-ups; the alert log is the source of truth. Per shop it remembers
//! the last sequence it delivered, so a duplicate (relay retry, recovery scan, a second
//! broker message) is dropped and a gap (a lost or reordered message) is filled from the log
//! before anything newer is delivered: every socket sees each alert once, in order.

pub mod broker;
pub mod delivery;
pub mod ingest;
pub mod limits;
pub mod memo;
pub mod ring;
mod trim;
pub mod watch;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::domain::account::{SessionId, SessionState};
use crate::domain::alert::{AlertRecord, Event};
use delivery::Delivery;
use ring::{ConnHandle, ConnShared, Receiver, ShopFeed, fan_out};
use trim::trim_after_burst;
use watch::WatchChanges;

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
    /// Every kind, in the order of [`ConnKind::index`].
    pub const ALL: [ConnKind; 3] = [ConnKind::Legacy, ConnKind::Rich, ConnKind::Sse];

    /// Its place in [`ConnKind::ALL`].
    pub fn index(self) -> usize {
        match self {
            ConnKind::Legacy => 0,
            ConnKind::Rich => 1,
            ConnKind::Sse => 2,
        }
    }

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
/// Why the hub wants a connection closed: its merchant's session is over (the account was
/// disabled or its password changed; close 4003).
pub const KILL_SESSION: u8 = 3;

/// How long a socket closed as too slow gets to take its close frame, unless
/// [`Hub::set_slow_close_grace`] says otherwise.
pub const DEFAULT_SLOW_CLOSE_GRACE: Duration = Duration::from_secs(1);

/// The hub. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    feeds: Mutex<HashMap<i64, ShopFeed>>,
    next_id: AtomicU64,
    /// Registrations alive (sockets and streams, until their task drops them).
    total: AtomicUsize,
    /// Notified when the last registration is dropped.
    drained: Notify,
    /// Most registrations in all, and per shop (`limits`).
    max_sockets: AtomicUsize,
    max_per_shop: AtomicUsize,
    /// How long a socket closed as too slow gets to take its close frame, in milliseconds.
    slow_close_grace_ms: AtomicU64,
    /// `sky_connections_open` by kind ([`ConnKind::index`]), looked up in the recorder once:
    /// the macro looks the series up on every call, twice per connection.
    open: [metrics::Gauge; 3],
    /// The ingest loop's queue, for the re-read a new feed asks for.
    ingest: Mutex<Option<mpsc::Sender<ingest::Ingest>>>,
    /// Shops whose feed started or stopped, for a broker that subscribes per shop.
    watch: Mutex<Option<WatchChanges>>,
    /// Set once shutdown closed every connection: later ones are closed at once.
    closing: AtomicBool,
    /// Whether the shutdown watcher runs.
    shutdown_watched: AtomicBool,
    /// The service's tasks (one tracker, waited on before the database closes): the
    /// watcher, deferred resync requests, the allocator trims and the sockets' own tasks.
    tasks: TaskTracker,
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
    /// How long this connection, once closed as too slow, gets to take its 4008 close frame
    /// (its kernel buffers are full of frames it has not read) before the TCP connection is
    /// dropped without one.
    pub fn slow_close_grace(&self) -> Duration {
        Duration::from_millis(self.hub.inner.slow_close_grace_ms.load(Ordering::Relaxed))
    }

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
    /// An empty hub with a tracker of its own.
    pub fn new() -> Hub {
        Hub::with_tasks(TaskTracker::new())
    }

    /// An empty hub whose tasks run on the service's tracker. Its gauges are registered with
    /// the metrics recorder installed now (none: they count nowhere).
    pub fn with_tasks(tasks: TaskTracker) -> Hub {
        Hub {
            inner: Arc::new(Inner {
                feeds: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
                total: AtomicUsize::new(0),
                drained: Notify::new(),
                max_sockets: AtomicUsize::new(usize::MAX),
                max_per_shop: AtomicUsize::new(usize::MAX),
                slow_close_grace_ms: AtomicU64::new(DEFAULT_SLOW_CLOSE_GRACE.as_millis() as u64),
                open: ConnKind::ALL
                    .map(|k| metrics::gauge!("sky_connections_open", "kind" => k.label())),
                ingest: Mutex::new(None),
                watch: Mutex::new(None),
                closing: AtomicBool::new(false),
                shutdown_watched: AtomicBool::new(false),
                tasks,
            }),
        }
    }

    /// How long a socket closed as too slow gets to take its 4008 close frame.
    pub fn set_slow_close_grace(&self, grace: Duration) {
        let ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX);
        self.inner.slow_close_grace_ms.store(ms, Ordering::Relaxed);
    }

    /// Closes every connection (reason `KILL_RESTART`) when `stop` is cancelled, and any that
    /// registers afterwards. One watcher per hub, so a socket does not poll the token itself.
    pub fn close_all_on(&self, stop: &CancellationToken) {
        if self.inner.shutdown_watched.swap(true, Ordering::AcqRel) {
            return;
        }
        let (hub, stop) = (self.clone(), stop.clone());
        self.inner.tasks.spawn(async move {
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

    /// The tracker the hub and the sockets spawn their tasks on.
    pub fn tasks(&self) -> &TaskTracker {
        &self.inner.tasks
    }

    /// The ingest loop's queue: a new feed asks it to re-read its shop's log (see
    /// [`Hub::register`]).
    pub fn set_ingest(&self, tx: mpsc::Sender<ingest::Ingest>) {
        *self.inner.ingest.lock().expect("ingest lock") = Some(tx);
    }

    /// Asks the ingest loop to deliver whatever the shop's log holds after the feed's last
    /// sequence. Never waits: on a full queue the request is handed to a task.
    fn request_resync(&self, shop_id: i64) {
        let Some(tx) = self.inner.ingest.lock().expect("ingest lock").clone() else {
            return;
        };
        if let Err(mpsc::error::TrySendError::Full(cmd)) =
            tx.try_send(ingest::Ingest::Resync(shop_id))
        {
            self.inner.tasks.spawn(async move {
                let _ = tx.send(cmd).await;
            });
        }
    }

    /// Starts recording which shops' feeds start or stop, for a broker that subscribes per
    /// shop; it reconciles each changed shop with [`Hub::is_watched`].
    pub fn watch_changes(&self) -> WatchChanges {
        self.inner
            .watch
            .lock()
            .expect("watch lock")
            .get_or_insert_with(WatchChanges::default)
            .clone()
    }

    fn watch(&self, shop_id: i64) {
        if let Some(w) = self.inner.watch.lock().expect("watch lock").as_ref() {
            w.mark(shop_id);
        }
    }

    /// True while this instance has a socket or stream of the shop.
    pub fn is_watched(&self, shop_id: i64) -> bool {
        self.inner
            .feeds
            .lock()
            .expect("feeds lock")
            .contains_key(&shop_id)
    }

    /// Sockets and streams registered now (until their tasks end).
    pub fn connections(&self) -> usize {
        self.inner.total.load(Ordering::Acquire)
    }

    /// Resolves once no registration is left: every socket and stream task has ended, so
    /// none can record a delivery any more (shutdown waits for this before its last flush).
    pub async fn drained(&self) {
        loop {
            // Created before the check: notify_waiters reaches it even before it is polled.
            let notified = self.inner.drained.notified();
            if self.connections() == 0 {
                return;
            }
            notified.await;
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

    /// Joins a shop's feed without a merchant session and without the caps (tests). `db_seq`
    /// is the shop's last sequence read from the log *before* this call: a new feed starts
    /// there, so nothing committed earlier is delivered live. An alert committed after that
    /// read but handed to the hub before the feed existed was dropped (no feed, no sockets);
    /// so a new feed also asks the ingest loop to re-read the shop's log after `db_seq`, which
    /// delivers it live, in order, before anything newer.
    pub fn register(
        &self,
        shop_id: i64,
        kind: ConnKind,
        queue: usize,
        db_seq: i64,
    ) -> Registration {
        self.join(shop_id, None, kind, queue, db_seq, false)
            .expect("joining without the caps cannot be refused")
    }

    /// Joins the shop's feed (as [`Hub::register`]), as the login `session` of an employee
    /// (`(employee_id, session)`) when there is one, which [`Hub::end_sessions`] closes when
    /// it is over; with `capped`, refuses when the hub holds its most sockets in all or for
    /// this shop (checked under the same lock as the join, so concurrent handshakes cannot
    /// overshoot).
    fn join(
        &self,
        shop_id: i64,
        session: Option<(i64, SessionId)>,
        kind: ConnKind,
        queue: usize,
        db_seq: i64,
        capped: bool,
    ) -> Result<Registration, limits::Full> {
        let shared = Arc::new(ConnShared::default());
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let queue = queue.max(1) as u64;
        let handle = ConnHandle {
            id,
            kind,
            queue,
            shared: shared.clone(),
            session,
        };
        let (live_after, new_feed, ring) = {
            let mut feeds = self.inner.feeds.lock().expect("feeds lock");
            if capped {
                self.check_room(&feeds, Some(shop_id))?;
            }
            let new_feed = !feeds.contains_key(&shop_id);
            let feed = feeds.entry(shop_id).or_insert_with(|| ShopFeed {
                last_seq: db_seq,
                conns: Vec::new(),
                ring: Arc::default(),
                cap: 0,
                memo: memo::Memo::default(),
            });
            feed.cap = feed.cap.max(queue);
            // Reads start after everything already in the ring.
            let head = feed.ring.state.lock().expect("ring lock").head();
            shared.pos.store(head, Ordering::Relaxed);
            if self.inner.closing.load(Ordering::Acquire) {
                shared.close(KILL_RESTART);
            }
            feed.conns.push(handle);
            self.inner.total.fetch_add(1, Ordering::AcqRel);
            (feed.last_seq, new_feed, feed.ring.clone())
        };
        if new_feed {
            self.request_resync(shop_id);
            self.watch(shop_id);
        }
        trim_after_burst(&self.inner.tasks);
        self.inner.open[kind.index()].increment(1.0);
        Ok(Registration {
            rx: Receiver {
                ring,
                shared: shared.clone(),
            },
            shared,
            live_after,
            hub: self.clone(),
            shop_id,
            id,
        })
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
            self.inner.open[kind.index()].decrement(1.0);
            trim_after_burst(&self.inner.tasks);
        }
        if now_empty {
            self.watch(shop_id);
        }
        if self.inner.total.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.inner.drained.notify_waiters();
        }
    }

    /// Closes (reason [`KILL_SESSION`]) every connection of employee `employee_id` whose login
    /// `state`, the account's new session state, no longer admits; how many.
    pub fn end_sessions(&self, employee_id: i64, state: &SessionState) -> usize {
        // A socket joins the feed of its token's shop, which the handshake checked is the
        // account's: its sockets are all in that one feed.
        let feeds = self.inner.feeds.lock().expect("feeds lock");
        let Some(feed) = feeds.get(&state.shop_id) else {
            return 0;
        };
        let mut closed = 0;
        for c in &feed.conns {
            if let Some((emp, session)) = c.session
                && emp == employee_id
                && !state.admits(state.shop_id, session)
            {
                c.shared.close(KILL_SESSION);
                metrics::counter!("sky_session_socket_closes_total", "kind" => c.kind.label())
                    .increment(1);
                closed += 1;
            }
        }
        closed
    }

    /// Last sequence delivered to the shop's sockets, if this instance watches it. A
    /// registration joining a watched shop starts there whatever `db_seq` it passes, so a
    /// handshake needs the log's sequence only when this is `None` (see `ws::replay::start_seq`).
    pub fn last_seq(&self, shop_id: i64) -> Option<i64> {
        self.inner
            .feeds
            .lock()
            .expect("feeds lock")
            .get(&shop_id)
            .map(|f| f.last_seq)
    }

    /// Delivers one alert if it is the next in sequence; true when it was delivered or is old.
    pub(crate) fn deliver_alert(&self, a: &AlertRecord) -> bool {
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
        feed.memo.changed();
        let d = Arc::new(Delivery::of(&Event::Alert(a.clone())));
        fan_out(feed, &d);
        true
    }

    pub(crate) fn deliver_other(&self, event: &Event) {
        let mut feeds = self.inner.feeds.lock().expect("feeds lock");
        if let Some(feed) = feeds.get_mut(&event.shop_id()) {
            feed.memo.changed();
            fan_out(feed, &Arc::new(Delivery::of(event)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::alert::tests::alert;

    fn seq(n: i64) -> AlertRecord {
        AlertRecord { seq: n, ..alert() }
    }

    #[test]
    fn duplicates_are_dropped_and_gaps_are_not_delivered() {
        let hub = Hub::new();
        let reg = hub.register(1, ConnKind::Rich, 8, 4);
        assert_eq!(reg.live_after, 4, "a new feed starts at the log's sequence");
        assert!(
            hub.deliver_alert(&seq(3)),
            "old: already in the log when it joined"
        );
        assert!(hub.deliver_alert(&seq(5)));
        assert!(hub.deliver_alert(&seq(5)), "a duplicate is dropped");
        assert!(!hub.deliver_alert(&seq(7)), "a gap: 6 must come first");
        let mut out = Vec::new();
        reg.rx.take(&mut out, 16);
        let seqs: Vec<_> = out.iter().map(|d| d.seq).collect();
        assert_eq!(seqs, vec![Some(5)]);
        assert_eq!(hub.last_seq(1), Some(5));
    }

    #[test]
    fn a_change_of_session_state_closes_only_the_logins_it_ends() {
        use crate::domain::account::{ACTIVE, DISABLED};
        let hub = Hub::new();
        let login = |generation, sid| SessionId { generation, sid };
        let kept = hub
            .try_register(1, Some((7, login(3, 11))), ConnKind::Rich, 8, 0)
            .unwrap();
        let other = hub
            .try_register(1, Some((7, login(3, 12))), ConnKind::Legacy, 8, 0)
            .unwrap();
        let colleague = hub
            .try_register(1, Some((8, login(3, 13))), ConnKind::Sse, 8, 0)
            .unwrap();
        let anonymous = hub.register(1, ConnKind::Legacy, 8, 0);
        let reason = |r: &Registration| r.shared.reason.load(Ordering::Acquire);
        // A password change by login 11: the account is at generation 5 and keeps that login.
        let changed = SessionState {
            shop_id: 1,
            status: ACTIVE,
            generation: 5,
            keep: 11,
        };
        assert_eq!(hub.end_sessions(7, &changed), 1);
        assert_eq!(
            [&kept, &other, &colleague, &anonymous].map(reason),
            [0, KILL_SESSION, 0, 0]
        );
        let disabled = SessionState {
            status: DISABLED,
            generation: 6,
            keep: 0,
            ..changed
        };
        assert_eq!(
            hub.end_sessions(7, &disabled),
            2,
            "the closed one is still a member until it leaves"
        );
        assert_eq!(reason(&kept), KILL_SESSION);
        assert_eq!([&colleague, &anonymous].map(reason), [0, 0]);
        assert_eq!(
            hub.end_sessions(
                7,
                &SessionState {
                    shop_id: 2,
                    ..disabled
                }
            ),
            0,
            "another shop's feed"
        );
    }

    #[test]
    fn the_first_socket_starts_watching_a_shop_and_the_last_stops() {
        let hub = Hub::new();
        let changes = hub.watch_changes();
        let a = hub.register(7, ConnKind::Legacy, 8, 0);
        let b = hub.register(7, ConnKind::Sse, 8, 0);
        assert_eq!(changes.pending(), 1, "one change per shop");
        assert!(hub.is_watched(7));
        assert_eq!(hub.watched_shops(), vec![7]);
        drop(a);
        assert!(hub.is_watched(7));
        drop(b);
        assert!(!hub.is_watched(7));
        assert!(hub.watched_shops().is_empty());
        assert_eq!(hub.last_seq(7), None);
        assert_eq!(
            changes.pending(),
            1,
            "started and stopped: still one dirty shop"
        );
    }
}
