//! What a shop's feed remembers of the shop's log between two events, so that a handshake
//! into a watched shop with nothing to replay needs no database round trip: the ids of the
//! unhandled alerts (the richer protocol's `welcome`) and whether the stock page's backlog of
//! undelivered alerts is empty (`/ws/{sid}`).
//!
//! Both change only with an event of the shop: a new alert (or re-alert) makes it unhandled
//! and undelivered, a `handled` event takes alerts out of both sets. Every event this
//! instance delivers to the feed ([`Hub::deliver_alert`], [`Hub::deliver_other`]) moves the
//! feed to a new generation and forgets what it remembered; a value read from the log is
//! kept only when no event arrived since before the read began (the generation it was read
//! under is still current). Alerts and `handled` events reach the feed after their commit, so
//! a read that starts after the generation was taken sees everything delivered before it.
//!
//! `handled` events of other instances travel over the broker, which is best effort; a lost
//! one would leave a handled alert in the remembered list. That is bounded by [`MEMO_TTL`]:
//! a value older than that is read again. (A lost alert cannot go unnoticed: the feed's
//! sequence does not move past it, and its gap repair delivers it, a new generation.)

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Hub;

/// How long a remembered value is used without an event: the bound on how stale a `welcome`
/// can be when another instance's `handled` event was lost by the broker.
pub const MEMO_TTL: Duration = Duration::from_secs(2);

/// A feed's memory of its shop's log (see the module's documentation).
#[derive(Default)]
pub(super) struct Memo {
    /// Moves on with every event delivered to the feed.
    generation: u64,
    /// The unhandled alert ids (newest first) read under `generation`, and when.
    unhandled: Option<(Instant, Arc<[i64]>)>,
    /// When the stock page's backlog was read empty under `generation`, and the time (ms, the
    /// alerts' clock) that read covered alerts from: it holds for a page upgraded since.
    backlog_empty: Option<(Instant, i64)>,
}

impl Memo {
    /// An event of the shop was delivered: what was remembered may be wrong now.
    pub(super) fn changed(&mut self) {
        self.generation += 1;
        self.unhandled = None;
        self.backlog_empty = None;
    }

    fn fresh(at: Instant, now: Instant) -> bool {
        now.saturating_duration_since(at) < MEMO_TTL
    }
}

/// What the feed remembers of one value, or the token to remember it under once read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recall<T> {
    /// Remembered and still valid.
    Known(T),
    /// Not known: read it from the log, then hand it back with this token.
    Read(ReadToken),
}

/// The generation a read began under; see [`Hub::remember_unhandled`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadToken {
    generation: Option<u64>,
}

impl Hub {
    fn with_memo<T>(&self, shop_id: i64, f: impl FnOnce(&mut Memo) -> T) -> Option<T> {
        let mut feeds = self.inner.feeds.lock().expect("feeds lock");
        feeds.get_mut(&shop_id).map(|feed| f(&mut feed.memo))
    }

    /// The shop's unhandled alert ids (newest first) as remembered by its feed, or a token
    /// to read them with. Call it after joining the feed: a shop without one remembers nothing.
    pub fn recall_unhandled(&self, shop_id: i64) -> Recall<Arc<[i64]>> {
        let now = Instant::now();
        self.with_memo(shop_id, |m| match &m.unhandled {
            Some((at, ids)) if Memo::fresh(*at, now) => Recall::Known(ids.clone()),
            _ => Recall::Read(ReadToken {
                generation: Some(m.generation),
            }),
        })
        .unwrap_or(Recall::Read(ReadToken { generation: None }))
    }

    /// Remembers the unhandled ids read with `token`, unless an event arrived since.
    pub fn remember_unhandled(&self, shop_id: i64, token: ReadToken, ids: Arc<[i64]>) {
        let Some(generation) = token.generation else {
            return;
        };
        self.with_memo(shop_id, |m| {
            if m.generation == generation {
                m.unhandled = Some((Instant::now(), ids));
            }
        });
    }

    /// Whether the feed knows the backlog of a stock page upgraded at `since` (ms) is empty
    /// (`Known(())`): no alert undelivered, none raised since. Or a token to read it with.
    pub fn recall_backlog_empty(&self, shop_id: i64, since: i64) -> Recall<()> {
        let now = Instant::now();
        self.with_memo(shop_id, |m| match m.backlog_empty {
            Some((at, from)) if Memo::fresh(at, now) && since >= from => Recall::Known(()),
            _ => Recall::Read(ReadToken {
                generation: Some(m.generation),
            }),
        })
        .unwrap_or(Recall::Read(ReadToken { generation: None }))
    }

    /// Remembers that the backlog read with `token` for alerts raised from `since` (ms) was
    /// empty, unless an event arrived since. Any alert raised later reaches the feed, a new
    /// generation; so the memory holds for every page upgraded at or after `since`.
    pub fn remember_backlog_empty(&self, shop_id: i64, token: ReadToken, since: i64) {
        let Some(generation) = token.generation else {
            return;
        };
        self.with_memo(shop_id, |m| {
            if m.generation == generation {
                m.backlog_empty = Some((Instant::now(), since));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::alert::tests::alert;
    use crate::domain::alert::{AlertRecord, Event};
    use crate::hub::ConnKind;

    fn token(r: Recall<Arc<[i64]>>) -> ReadToken {
        match r {
            Recall::Read(t) => t,
            Recall::Known(ids) => panic!("remembered {ids:?}"),
        }
    }

    #[test]
    fn a_value_read_is_remembered_until_the_next_event() {
        let hub = Hub::new();
        let _reg = hub.register(1, ConnKind::Rich, 8, 4);
        let t = token(hub.recall_unhandled(1));
        hub.remember_unhandled(1, t, Arc::from([9, 7]));
        assert_eq!(hub.recall_unhandled(1), Recall::Known(Arc::from([9, 7])));
        assert!(hub.deliver_alert(&AlertRecord { seq: 5, ..alert() }));
        let t = token(hub.recall_unhandled(1));
        hub.remember_unhandled(1, t, Arc::from([10, 9, 7]));
        assert_eq!(
            hub.recall_unhandled(1),
            Recall::Known(Arc::from([10, 9, 7]))
        );
        hub.deliver_other(&Event::Handled {
            shop_id: 1,
            order_id: 3,
            alert_ids: vec![9],
        });
        assert!(matches!(hub.recall_unhandled(1), Recall::Read(_)));
    }

    #[test]
    fn a_read_overtaken_by_an_event_is_not_remembered() {
        let hub = Hub::new();
        let _reg = hub.register(1, ConnKind::Legacy, 8, 4);
        let Recall::Read(before) = hub.recall_backlog_empty(1, 100) else {
            panic!("nothing was read yet");
        };
        // The alert commits and reaches the feed while the (empty) read is under way.
        assert!(hub.deliver_alert(&AlertRecord { seq: 5, ..alert() }));
        hub.remember_backlog_empty(1, before, 100);
        assert!(matches!(hub.recall_backlog_empty(1, 100), Recall::Read(_)));
        let Recall::Read(t) = hub.recall_backlog_empty(1, 100) else {
            panic!("forgotten");
        };
        hub.remember_backlog_empty(1, t, 100);
        assert_eq!(hub.recall_backlog_empty(1, 150), Recall::Known(()));
        assert!(
            matches!(hub.recall_backlog_empty(1, 50), Recall::Read(_)),
            "a page upgraded before the read's start: an alert raised in between was not read"
        );
        let t = token(hub.recall_unhandled(1));
        hub.deliver_other(&Event::Handled {
            shop_id: 1,
            order_id: 3,
            alert_ids: vec![],
        });
        hub.remember_unhandled(1, t, Arc::from([1]));
        assert!(matches!(hub.recall_unhandled(1), Recall::Read(_)));
    }

    #[test]
    fn a_shop_without_a_feed_remembers_nothing() {
        let hub = Hub::new();
        let t = token(hub.recall_unhandled(2));
        hub.remember_unhandled(2, t, Arc::from([1]));
        let reg = hub.register(2, ConnKind::Rich, 8, 0);
        assert!(matches!(hub.recall_unhandled(2), Recall::Read(_)));
        let t = token(hub.recall_unhandled(2));
        hub.remember_unhandled(2, t, Arc::from([1]));
        drop(reg);
        assert!(
            matches!(hub.recall_unhandled(2), Recall::Read(_)),
            "the feed is gone with its last socket, and its memory with it"
        );
    }
}
