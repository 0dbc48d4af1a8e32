//! Batched bookkeeping of the alert log: which alerts the relay published and which a screen
//! received (so the stock page replays only what no screen has seen). Marks are collected in
//! memory and written every 200 ms in one statement, off the publish and delivery paths, so a
//! busy database never delays an alert.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

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
