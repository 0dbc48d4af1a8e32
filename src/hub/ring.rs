//! A shop's ring of recent deliveries, read by each of its sockets from its own position.
//!
//! Deliveries are not copied into a queue per socket: each shop has one ring and every socket
//! reads it from its own position (one allocation per alert, not per socket, and about a
//! kilobyte less per idle connection than a channel each). The ring keeps what some socket has
//! not read yet, never more than the largest queue. A socket more than its queue length behind
//! is closed as slow, exactly as a full channel would have closed it.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use futures_util::task::AtomicWaker;
use tokio::sync::Notify;

use super::delivery::Delivery;
use super::{ConnKind, KILL_SLOW};
use crate::domain::account::SessionId;

/// State shared between a connection's task and the hub.
#[derive(Debug, Default)]
pub struct ConnShared {
    /// Notified when the hub closes the connection.
    pub kill: Notify,
    /// The reason (`KILL_SLOW`, `KILL_RESTART`, `KILL_SESSION`), 0 while alive.
    pub reason: AtomicU8,
    /// The connection's task, woken when its feed has something new or it is closed.
    pub(super) waker: AtomicWaker,
    /// Feed position of the next delivery the connection reads (written by it alone).
    pub(super) pos: AtomicU64,
}

impl ConnShared {
    pub(super) fn close(&self, reason: u8) {
        self.reason.store(reason, Ordering::Release);
        self.kill.notify_one();
        self.waker.wake();
    }
}

/// The hub's handle of one connection of a feed.
pub(super) struct ConnHandle {
    pub(super) id: u64,
    pub(super) kind: ConnKind,
    pub(super) queue: u64,
    pub(super) shared: Arc<ConnShared>,
    /// The merchant login it was opened with (none for an anonymous `/ws/{sid}`).
    pub(super) session: Option<(i64, SessionId)>,
}

/// A shop's recent deliveries, read by each of its sockets from its own position. Holds what
/// some socket has not read yet (at most the largest queue), plus the newest one.
#[derive(Default)]
pub(super) struct Ring {
    pub(super) state: Mutex<RingState>,
    /// `state.head()`, readable without the lock: a socket woken for something else (or
    /// checking before it sleeps) learns that nothing is new without contending for it.
    pub(super) head: AtomicU64,
}

#[derive(Default)]
pub(super) struct RingState {
    /// Position of `items[0]`.
    pub(super) start: u64,
    pub(super) items: VecDeque<Arc<Delivery>>,
}

impl RingState {
    pub(super) fn head(&self) -> u64 {
        self.start + self.items.len() as u64
    }

    fn trim(&mut self, keep_from: u64) {
        while self.start < keep_from && self.items.pop_front().is_some() {
            self.start += 1;
        }
    }
}

/// One shop's feed on this instance: its sockets, its ring and the last sequence delivered.
pub(super) struct ShopFeed {
    pub(super) last_seq: i64,
    pub(super) conns: Vec<ConnHandle>,
    pub(super) ring: Arc<Ring>,
    /// The largest queue of the feed's sockets: the ring never holds more unread deliveries.
    pub(super) cap: u64,
    /// What it remembers of the shop's log between events (`memo`).
    pub(super) memo: super::memo::Memo,
}

/// A connection's deliveries: its position in the shop's ring.
pub struct Receiver {
    pub(super) ring: Arc<Ring>,
    pub(super) shared: Arc<ConnShared>,
}

impl Receiver {
    /// Moves up to `max` pending deliveries into `out`: `None` once the connection was
    /// closed by the hub (see [`ConnShared::reason`]), else how many were moved.
    pub(super) fn take(&self, out: &mut Vec<Arc<Delivery>>, max: usize) -> Option<usize> {
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

/// Appends a delivery to the shop's ring and wakes its sockets. A socket with more than its
/// queue length unread cannot keep up: it is dropped from the feed and told to close (it will
/// reconnect and replay), so it never slows the others or the request that raised the alert.
pub(super) fn fan_out(feed: &mut ShopFeed, d: &Arc<Delivery>) {
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::super::{ConnKind, Hub, KILL_SLOW, Registration};
    use crate::domain::alert::AlertRecord;
    use crate::domain::alert::tests::alert;

    fn seq(n: i64) -> AlertRecord {
        AlertRecord {
            id: 100 + n,
            seq: n,
            ..alert()
        }
    }

    /// Delivers alerts `from..=to` of shop 1 in order.
    fn deliver(hub: &Hub, from: i64, to: i64) {
        for n in from..=to {
            assert!(hub.deliver_alert(&seq(n)));
        }
    }

    /// Takes everything pending: the sequences read, or `None` once the hub closed the reader.
    fn read(reg: &Registration) -> Option<Vec<i64>> {
        let mut out = Vec::new();
        reg.rx.take(&mut out, usize::MAX)?;
        Some(out.iter().map(|d| d.seq.unwrap()).collect())
    }

    fn pos(reg: &Registration) -> u64 {
        reg.shared.pos.load(Ordering::Relaxed)
    }

    /// (start, length) of the shop's ring.
    fn ring(reg: &Registration) -> (u64, usize) {
        let ring = reg.rx.ring.state.lock().unwrap();
        (ring.start, ring.items.len())
    }

    #[test]
    fn a_reader_starts_at_the_head_and_advances_by_what_it_reads() {
        let hub = Hub::new();
        let a = hub.register(1, ConnKind::Rich, 8, 0);
        assert_eq!(pos(&a), 0);
        deliver(&hub, 1, 2);
        let b = hub.register(1, ConnKind::Rich, 8, 0);
        assert_eq!(
            pos(&b),
            2,
            "a new reader skips what was delivered before it came"
        );
        assert_eq!(read(&a), Some(vec![1, 2]));
        assert_eq!(pos(&a), 2);
        assert_eq!(read(&b), Some(vec![]));
        deliver(&hub, 3, 3);
        assert_eq!(read(&a), Some(vec![3]));
        assert_eq!(read(&b), Some(vec![3]));
        assert_eq!((pos(&a), pos(&b)), (3, 3));
    }

    #[test]
    fn reads_are_bounded_and_resume_where_they_stopped() {
        let hub = Hub::new();
        let a = hub.register(1, ConnKind::Rich, 8, 0);
        deliver(&hub, 1, 5);
        let mut out = Vec::new();
        assert_eq!(a.rx.take(&mut out, 2), Some(2));
        assert_eq!(a.rx.take(&mut out, 2), Some(2));
        assert_eq!(a.rx.take(&mut out, 2), Some(1));
        assert_eq!(a.rx.take(&mut out, 2), Some(0));
        let seqs: Vec<i64> = out.iter().map(|d| d.seq.unwrap()).collect();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn the_ring_keeps_only_what_a_reader_has_not_read() {
        let hub = Hub::new();
        let a = hub.register(1, ConnKind::Rich, 4, 0);
        let b = hub.register(1, ConnKind::Rich, 4, 0);
        deliver(&hub, 1, 3);
        assert_eq!(ring(&a), (0, 3), "neither reader read anything yet");
        read(&a);
        deliver(&hub, 4, 4);
        assert_eq!(ring(&a), (0, 4), "b has read nothing");
        read(&b);
        deliver(&hub, 5, 5);
        assert_eq!(ring(&a), (3, 2), "both read up to 3: only 4 and 5 are kept");
        read(&a);
        read(&b);
        deliver(&hub, 6, 6);
        assert_eq!(ring(&a), (5, 1), "only the delivery nobody read yet");
    }

    #[test]
    fn the_ring_never_holds_more_than_the_largest_queue() {
        let hub = Hub::new();
        let small = hub.register(1, ConnKind::Legacy, 2, 0);
        let large = hub.register(1, ConnKind::Rich, 5, 0);
        deliver(&hub, 1, 5);
        assert_eq!(ring(&large), (0, 5));
        assert_eq!(read(&small), None, "the small queue overflowed");
        assert_eq!(read(&large), Some(vec![1, 2, 3, 4, 5]));
        deliver(&hub, 6, 6);
        assert_eq!(ring(&large), (5, 1));
    }

    #[test]
    fn a_reader_more_than_its_queue_behind_is_closed_as_slow() {
        let hub = Hub::new();
        let fast = hub.register(1, ConnKind::Rich, 2, 0);
        let slow = hub.register(1, ConnKind::Rich, 2, 0);
        deliver(&hub, 1, 2);
        assert_eq!(read(&fast), Some(vec![1, 2]));
        assert_eq!(
            slow.shared.reason.load(Ordering::Acquire),
            0,
            "two behind: at its limit"
        );
        deliver(&hub, 3, 3);
        assert_eq!(slow.shared.reason.load(Ordering::Acquire), KILL_SLOW);
        assert_eq!(read(&slow), None, "a closed reader reads nothing more");
        assert_eq!(read(&fast), Some(vec![3]), "the others go on");
        deliver(&hub, 4, 4);
        assert_eq!(read(&fast), Some(vec![4]));
        assert_eq!(read(&slow), None);
    }

    #[tokio::test]
    async fn recv_wakes_on_a_delivery_and_returns_none_once_closed() {
        let hub = Hub::new();
        let mut reg = hub.register(1, ConnKind::Rich, 1, 0);
        let (got_tx, mut got) = tokio::sync::mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            while let Some(d) = reg.rx.recv().await {
                got_tx.send(d.seq).unwrap();
            }
            reg.shared.reason.load(Ordering::Acquire)
        });
        tokio::task::yield_now().await;
        deliver(&hub, 1, 1);
        assert_eq!(got.recv().await, Some(Some(1)), "woken by the delivery");
        deliver(&hub, 2, 3);
        assert_eq!(
            reader.await.unwrap(),
            KILL_SLOW,
            "two past a queue of one: closed"
        );
    }
}
