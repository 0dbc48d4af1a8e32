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
