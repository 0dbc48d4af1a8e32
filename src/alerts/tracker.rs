//! Batched bookkeeping of the alert log: which alerts the relay published and which a screen
//! received (so the stock page replays only what no screen has seen). Marks are collected in
//! memory and written every 200 ms in one statement, off the publish and delivery paths, so a
//! busy database never delays an alert. Also observes the commit-to-socket latency.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::hub::delivery::Delivery;
use crate::store::Store;
use crate::store::alerts::{self as sql, Mark};
use crate::time::wall_ms;

/// How often marks are written.
const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// Ids waiting for one mark. Cheap to clone.
#[derive(Clone)]
pub struct Marks {
    mark: Mark,
    pending: Arc<Mutex<Vec<i64>>>,
}

impl Marks {
    /// An empty batch for `mark`.
    pub fn new(mark: Mark) -> Marks {
        Marks {
            mark,
            pending: Arc::default(),
        }
    }

    /// Queues ids for the next write.
    pub fn add(&self, ids: &[i64]) {
        self.pending
            .lock()
            .expect("marks lock")
            .extend_from_slice(ids);
    }

    /// Writes what is pending now. A failed write is logged and dropped: a lost "published"
    /// mark means a possible duplicate publish (dropped by the hubs), a lost "delivered" mark
    /// a possible replay to the stock page.
    pub async fn flush(&self, store: &Store) {
        let ids = std::mem::take(&mut *self.pending.lock().expect("marks lock"));
        for chunk in ids.chunks(500) {
            if let Err(e) = sql::mark(store, self.mark, chunk, wall_ms()).await {
                tracing::warn!(error = %e, mark = ?self.mark, "recording alert marks failed");
            }
        }
    }

    /// Flushes periodically until `stop`, then once more.
    pub async fn run(self, store: Store, stop: CancellationToken) {
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => self.flush(&store).await,
                _ = stop.cancelled() => break,
            }
        }
        self.flush(&store).await;
    }
}

/// Records first deliveries ("a screen received alert X"). Cheap to clone.
#[derive(Clone)]
pub struct Tracker {
    delivered: Marks,
}

impl Default for Tracker {
    fn default() -> Self {
        Tracker {
            delivered: Marks::new(Mark::Delivered),
        }
    }
}

impl Tracker {
    /// Called by a socket after it wrote a delivery; records the first write per instance.
    pub fn written(&self, d: &Delivery) {
        let Some(id) = d.alert_id else { return };
        if d.recorded.swap(true, std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let latency = (wall_ms() - d.created_at).max(0) as f64 / 1000.0;
        metrics::histogram!("sky_commit_to_socket_seconds").record(latency);
        metrics::counter!("sky_alerts_delivered_total").increment(1);
        self.delivered.add(&[id]);
    }

    /// Records replayed alerts as received.
    pub fn replayed(&self, ids: &[i64]) {
        self.delivered.add(ids);
    }

    /// Writes pending marks now.
    pub async fn flush(&self, store: &Store) {
        self.delivered.flush(store).await;
    }

    /// Flushes periodically until `stop`.
    pub async fn run(self, store: Store, stop: CancellationToken) {
        self.delivered.run(store, stop).await;
    }
}
