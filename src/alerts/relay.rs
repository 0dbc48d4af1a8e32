//! The relay: the only publisher of alerts. Use cases hand it what they committed; it
//! publishes to the broker and marks the rows published. Rows that were committed but never
//! marked (a crash between commit and publish, or a full hand-off queue) are found by the
//! recovery scan at start-up and then every few seconds, so nothing committed is lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::marks::Marks;
use crate::domain::alert::{AlertRecord, Event, TYPE_NEW_ORDER};
use crate::hub::broker::Broker;
use crate::hub::ingest::Ingest;
use crate::store::Store;
use crate::store::alerts::{self as sql, Mark};
use crate::time::wall_ms;

/// How often committed-but-unpublished rows are looked for.
const SCAN_EVERY: Duration = Duration::from_secs(2);
/// A row this old and still unpublished was missed by the fast path.
const SCAN_GRACE_MS: i64 = 1000;

/// Hand-off side of the relay, held by the use cases. Never blocks.
#[derive(Clone)]
pub struct Relay {
    tx: mpsc::Sender<Event>,
    overflow: Arc<AtomicBool>,
}

impl Relay {
    /// A relay and the receiving end for [`run`].
    pub fn new(capacity: usize) -> (Relay, mpsc::Receiver<Event>) {
        let (tx, rx) = mpsc::channel(capacity);
        (
            Relay {
                tx,
                overflow: Arc::new(AtomicBool::new(false)),
            },
            rx,
        )
    }

    /// Hands over alerts that were just committed.
    pub fn committed(&self, alerts: Vec<AlertRecord>) {
        for a in alerts {
            metrics::counter!("sky_alerts_created_total", "type" => if a.kind == TYPE_NEW_ORDER { "1" } else { "2" }, "realert" => if a.realert > 0 { "yes" } else { "no" }).increment(1);
            if self.tx.try_send(Event::Alert(a)).is_err() {
                // The row is in the log: the next scan publishes it.
                self.overflow.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Hands over a "handled" event (best effort: screens also reconcile on reconnect).
    /// Nothing is sent when no alert was handled; see [`Relay::order_changed`].
    pub fn handled(&self, shop_id: i64, order_id: i64, alert_ids: Vec<i64>) {
        if !alert_ids.is_empty() {
            self.order_changed(shop_id, order_id, alert_ids);
        }
    }

    /// Hands over the "handled" event of a merchant's action on an order: sent even when the
    /// action handled no alert (`alertIds` empty, the notice was acknowledged before), so
    /// every screen of the shop refreshes its board after another screen's accept or deliver.
    pub fn order_changed(&self, shop_id: i64, order_id: i64, alert_ids: Vec<i64>) {
        metrics::counter!("sky_alerts_acknowledged_total").increment(alert_ids.len() as u64);
        if self
            .tx
            .try_send(Event::Handled {
                shop_id,
                alert_ids,
                order_id,
            })
            .is_err()
        {
            tracing::warn!(shop_id, order_id, "relay queue full: handled event dropped");
        }
    }
}

/// Runs the relay until `stop`: publishes hand-offs in batches and scans for missed rows.
pub async fn run(
    rx: mpsc::Receiver<Event>,
    relay: Relay,
    store: Store,
    out: Outlets,
    stop: CancellationToken,
) {
    scan(&store, &out, i64::MAX).await;
    // Published marks are written in batches by a flusher beside the loop, so a busy database
    // never holds back the next publish. Joined, not spawned: the relay's task ends after the
    // flusher's last flush, and shutdown waits for it before the pool closes.
    // The flusher stops only once the loop has: its last flush includes the loop's last ids.
    let published = Marks::new(Mark::Published);
    let loop_done = CancellationToken::new();
    tokio::join!(
        published.clone().run(store.clone(), loop_done.clone()),
        async {
            publish_loop(rx, &relay, &store, &out, &published, &stop).await;
            loop_done.cancel();
        },
    );
}

async fn publish_loop(
    mut rx: mpsc::Receiver<Event>,
    relay: &Relay,
    store: &Store,
    out: &Outlets,
    published: &Marks,
    stop: &CancellationToken,
) {
    let mut tick = tokio::time::interval(SCAN_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut batch = Vec::with_capacity(256);
    loop {
        tokio::select! {
            n = rx.recv_many(&mut batch, 256) => {
                if n == 0 { break; }
                let mut ids = Vec::with_capacity(n);
                for event in batch.drain(..) {
                    if let Event::Alert(a) = &event {
                        ids.push(a.id);
                    }
                    out.publish(event).await;
                }
                published.add(&ids);
            }
            _ = tick.tick() => {
                let cutoff = if relay.overflow.swap(false, Ordering::Relaxed) { i64::MAX } else { wall_ms() - SCAN_GRACE_MS };
                scan(store, out, cutoff).await;
            }
            _ = stop.cancelled() => break,
        }
    }
}

/// Where the relay publishes: this instance's hub (always, so local sockets hear alerts even
/// while a broker is down) and the broker (the other instances).
#[derive(Clone)]
pub struct Outlets {
    /// The local hub's ingest queue.
    pub local: mpsc::Sender<Ingest>,
    /// The broker.
    pub broker: Broker,
}

impl Outlets {
    async fn publish(&self, event: Event) {
        self.broker.publish(&event);
        // Waits when the local hub is behind, which slows only the relay.
        let _ = self.local.send(Ingest::Event(event)).await;
    }
}

/// Publishes committed rows that were never marked published, oldest first.
async fn scan(store: &Store, out: &Outlets, older_than: i64) {
    loop {
        let rows = match sql::unpublished(store.pool(), older_than, 500).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "relay scan failed");
                return;
            }
        };
        if rows.is_empty() {
            return;
        }
        let ids: Vec<i64> = rows.iter().map(|a| a.id).collect();
        tracing::info!(
            count = ids.len(),
            "relay publishing alerts found in the log"
        );
        for a in rows {
            out.publish(Event::Alert(a)).await;
        }
        if let Err(e) = sql::mark(store, Mark::Published, &ids, wall_ms()).await {
            tracing::warn!(error = %e, "marking alerts published failed");
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    //! The recovery scan stepped on its own (as zero-to-production steps its worker): rows
    //! committed but never handed off (a crash between commit and publish) are published once,
    //! oldest first, and marked; a row younger than the grace is left to the fast path.
    use super::*;
    use crate::store::test_support::{committed_unpublished, store_with_orders};

    fn published(rx: &mut mpsc::Receiver<Ingest>) -> Vec<i64> {
        let mut seqs = Vec::new();
        while let Ok(Ingest::Event(Event::Alert(a))) = rx.try_recv() {
            seqs.push(a.seq);
        }
        seqs
    }

    async fn unpublished_count(store: &Store) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM alert_log WHERE published_at IS NULL")
            .fetch_one(store.pool())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_scan_publishes_missed_rows_once_in_order_and_leaves_young_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_orders(&dir, 4).await;
        let (tx, mut rx) = mpsc::channel(16);
        let out = Outlets {
            local: tx,
            broker: Broker::Memory,
        };
        for order in 1..=3 {
            committed_unpublished(&store, order, 1).await;
        }
        // Step 1: the three missed rows, oldest first, then marked published.
        scan(&store, &out, wall_ms() - SCAN_GRACE_MS).await;
        assert_eq!(published(&mut rx), [1, 2, 3]);
        assert_eq!(unpublished_count(&store).await, 0);
        // Step 2: nothing left to repair, nothing published again.
        scan(&store, &out, wall_ms() - SCAN_GRACE_MS).await;
        assert_eq!(published(&mut rx), Vec::<i64>::new());
        // A row committed just now is the fast path's (still in its hand-off): the periodic
        // scan leaves it; the start-up scan (no grace) takes it.
        committed_unpublished(&store, 4, wall_ms()).await;
        scan(&store, &out, wall_ms() - SCAN_GRACE_MS).await;
        assert_eq!(published(&mut rx), Vec::<i64>::new());
        assert_eq!(unpublished_count(&store).await, 1);
        scan(&store, &out, i64::MAX).await;
        assert_eq!(published(&mut rx), [4]);
        assert_eq!(unpublished_count(&store).await, 0);
        store.close().await;
    }
}
