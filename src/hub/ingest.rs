//! The single ingest loop: applies published events in arrival order, drops duplicates by
//! sequence and fills gaps from the log before anything newer is delivered, so every socket
//! sees each alert once, in order.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Hub;
use crate::domain::alert::Event;
use crate::store::{Store, alerts as sql};

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

impl Hub {
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

#[cfg(test)]
mod tests {
    //! The ingest loop driven directly, on a real log: a gap is filled from the log before the
    //! alert that showed it, duplicates (from a republish or a second broker path) are dropped,
    //! and each socket sees every sequence once, in order.
    use std::time::Duration;

    use super::*;
    use crate::hub::ConnKind;
    use crate::store::test_support::{committed_unpublished, store_with_orders};

    #[tokio::test]
    async fn a_gap_is_filled_from_the_log_and_duplicates_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_orders(&dir, 4).await;
        let hub = Hub::new();
        let mut reg = hub.register(1, ConnKind::Rich, 16, 0);
        let mut log = Vec::new();
        for order in 1..=3 {
            log.push(committed_unpublished(&store, order, 1).await);
        }
        let (tx, rx) = mpsc::channel(16);
        let stop = CancellationToken::new();
        let ingest = tokio::spawn(hub.clone().run_ingest(rx, store.clone(), stop.clone()));
        let mut next = async || {
            tokio::time::timeout(Duration::from_millis(300), reg.rx.recv())
                .await
                .ok()
                .flatten()
                .and_then(|d| d.seq)
        };
        // Seq 3 arrives first (1 and 2 were lost on the way): 1 and 2 come from the log, then 3.
        tx.send(Ingest::Event(Event::Alert(log[2].clone())))
            .await
            .unwrap();
        assert_eq!(
            (next().await, next().await, next().await),
            (Some(1), Some(2), Some(3))
        );
        // 1, 2 and 3 again (a republish): dropped.
        for a in &log {
            tx.send(Ingest::Event(Event::Alert(a.clone())))
                .await
                .unwrap();
        }
        assert_eq!(next().await, None, "duplicates are not delivered");
        // The next alert is live as usual.
        let a4 = committed_unpublished(&store, 4, 1).await;
        tx.send(Ingest::Event(Event::Alert(a4))).await.unwrap();
        assert_eq!(next().await, Some(4));
        assert_eq!(next().await, None);
        stop.cancel();
        ingest.await.unwrap();
        store.close().await;
    }
}
